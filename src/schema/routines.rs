//! The types, functions and extensions dumped tables and views need, found
//! by following the catalog's dependencies to a fixpoint, and put in an
//! order that creates every object after what it uses. Every query orders
//! its rows, so the same database always gives the same DDL, byte for byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::tables::push_comment;
use crate::artifact::{ObjectKind, SchemaObject};
use crate::plan::{plan, Edge};

/// Column types of relations $1.
const COLUMN_TYPES: &str = "
SELECT DISTINCT a.atttypid FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped";

/// Functions used by relations $1 (defaults, generated columns, checks,
/// index expressions, triggers), domains $2, view rules of $3, and functions $4.
const FUNCTION_REFS: &str = "
SELECT DISTINCT d.refobjid FROM pg_catalog.pg_depend d
WHERE d.refclassid = 'pg_catalog.pg_proc'::regclass AND (
   (d.classid = 'pg_catalog.pg_attrdef'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_attrdef WHERE adrelid = ANY($1)))
OR (d.classid = 'pg_catalog.pg_constraint'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_constraint
                    WHERE conrelid = ANY($1) OR contypid = ANY($2)))
OR (d.classid = 'pg_catalog.pg_class'::regclass
    AND d.objid IN (SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = ANY($1)))
OR (d.classid = 'pg_catalog.pg_rewrite'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_rewrite WHERE ev_class = ANY($3)))
OR (d.classid = 'pg_catalog.pg_trigger'::regclass
    AND d.objid IN (SELECT oid FROM pg_catalog.pg_trigger
                    WHERE tgrelid = ANY($1) AND NOT tgisinternal))
OR (d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = ANY($4)))";

/// What kind of type each of $1 is, what it is built on, and whose it is.
const TYPE_INFO: &str = "
SELECT t.oid, t.typtype::text, n.nspname, pg_catalog.format_type(t.oid, NULL),
       EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid),
       t.typelem, t.typbasetype,
       COALESCE((SELECT c.relkind::text FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid), ''),
       (SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid),
       (SELECT e.extname::text FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'),
       ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum),
       CASE WHEN pg_catalog.obj_description(t.oid, 'pg_type') IS NOT NULL THEN
            pg_catalog.format('COMMENT ON %s %s IS %L',
                              CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                              pg_catalog.format_type(t.oid, NULL),
                              pg_catalog.obj_description(t.oid, 'pg_type')) END,
       t.typrelid
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = ANY($1)
ORDER BY 4";

/// An enum's labels, quoted by the server, in order.
const ENUM_LABELS: &str = "
SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_catalog.pg_enum e WHERE e.enumtypid = $1";

/// A domain's base type, collation, default, NOT NULL and check constraints.
const DOMAIN: &str = "
SELECT pg_catalog.format_type(t.typbasetype, t.typtypmod),
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = t.typcollation) END,
       t.typdefault, t.typnotnull,
       ARRAY(SELECT pg_catalog.format('CONSTRAINT %I %s', c.conname, pg_catalog.pg_get_constraintdef(c.oid))
             FROM pg_catalog.pg_constraint c
             WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname)
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
WHERE t.oid = $1";

/// A composite type's attributes, as a column list.
const COMPOSITE: &str = "
SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname,
                             pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped";

/// A range type's subtype, non-default operator class, collation and
/// difference function, and whether it has a canonical function.
const RANGE: &str = "
SELECT pg_catalog.format_type(r.rngsubtype, NULL),
       CASE WHEN NOT opc.opcdefault THEN pg_catalog.format('%I.%I', opn.nspname, opc.opcname) END,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = r.rngcollation) END,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END,
       r.rngcanonical <> 0
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
WHERE r.rngtypid = $1";

/// Functions $1: identity (name and input types, as to_regprocedure reads
/// it), definition, extension, the types they use.
const FUNCTION_INFO: &str = "
SELECT p.oid, p.prokind::text, n.nspname,
       pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)),
       CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END,
       (SELECT e.extname::text FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'),
       p.proargtypes::oid[] || COALESCE(p.proallargtypes, '{}'::oid[]) || p.prorettype,
       CASE WHEN pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL THEN
            pg_catalog.format('COMMENT ON %s %I.%I(%s) IS %L',
                              CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                              n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
                              pg_catalog.obj_description(p.oid, 'pg_proc')) END
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY($1)
ORDER BY 4";

/// What types and functions $1 depend on (domain constraints included).
const DEPENDENCIES: &str = "
SELECT d.objid, d.refobjid FROM pg_catalog.pg_depend d
WHERE d.classid IN ('pg_catalog.pg_type'::regclass, 'pg_catalog.pg_proc'::regclass)
  AND d.objid = ANY($1) AND d.deptype = 'n'
UNION ALL
SELECT c.contypid, d.refobjid FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::regclass AND d.objid = c.oid
WHERE c.contypid = ANY($1)";

/// Extensions $1 and the schema each lives in.
const EXTENSIONS: &str = "
SELECT pg_catalog.format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I;', e.extname, n.nspname),
       e.extname::text, n.nspname
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = ANY($1) ORDER BY e.extname";

const SYSTEM_SCHEMAS: [&str; 2] = ["pg_catalog", "information_schema"];

/// What the types and functions of a dump come to.
#[derive(Debug, Default)]
pub struct Routines {
    pub extensions: Vec<SchemaObject>,
    /// Types and functions, each after what it uses.
    pub objects: Vec<SchemaObject>,
    /// Schemas their objects and the extensions live in.
    pub schemas: BTreeSet<String>,
    pub warnings: Vec<String>,
}

struct Node {
    oid: u32,
    object: SchemaObject,
    /// Types it is built from that the catalog's dependencies do not record.
    uses: Vec<u32>,
}

/// Everything relations `relation_oids` and views `view_oids` need.
pub async fn read(client: &Client, relation_oids: &[u32], view_oids: &[u32]) -> Result<Routines> {
    let mut with_views = relation_oids.to_vec();
    with_views.extend(view_oids);
    let mut type_queue: Vec<u32> = client
        .query(COLUMN_TYPES, &[&with_views])
        .await
        .context("cannot read column types")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut seen_types: BTreeSet<u32> = BTreeSet::new();
    let mut seen_functions: BTreeSet<u32> = BTreeSet::new();
    let mut domains: Vec<u32> = Vec::new();
    let mut array_element: HashMap<u32, u32> = HashMap::new();
    let mut extensions: BTreeSet<String> = BTreeSet::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut out = Routines::default();

    loop {
        let mut batch = std::mem::take(&mut type_queue);
        batch.retain(|t| seen_types.insert(*t));
        for row in client
            .query(TYPE_INFO, &[&batch])
            .await
            .context("cannot read types")?
        {
            let oid: u32 = row.get(0);
            let typtype: String = row.get(1);
            let schema: String = row.get(2);
            let name: String = row.get(3);
            let extension: Option<String> = row.get(9);
            if SYSTEM_SCHEMAS.contains(&schema.as_str()) {
                continue;
            }
            if let Some(extension) = extension {
                extensions.insert(extension);
                continue;
            }
            if row.get::<_, bool>(4) {
                let element: u32 = row.get(5);
                array_element.insert(oid, element);
                type_queue.push(element);
                continue;
            }
            let comment: Option<String> = row.get(11);
            let relkind: String = row.get(7);
            let (sql, uses) = match typtype.as_str() {
                "e" => {
                    let labels: Option<String> =
                        client.query_one(ENUM_LABELS, &[&oid]).await?.get(0);
                    (
                        format!(
                            "CREATE TYPE {name} AS ENUM ({});",
                            labels.unwrap_or_default()
                        ),
                        vec![],
                    )
                }
                "d" => {
                    domains.push(oid);
                    let base: u32 = row.get(6);
                    (domain_ddl(client, oid, &name).await?, vec![base])
                }
                "c" if relkind == "c" => {
                    let typrelid: u32 = row.get(12);
                    let attributes: Option<String> =
                        client.query_one(COMPOSITE, &[&typrelid]).await?.get(0);
                    let uses: Vec<u32> = row.get(10);
                    (
                        format!(
                            "CREATE TYPE {name} AS ({});",
                            attributes.unwrap_or_default()
                        ),
                        uses,
                    )
                }
                "c" => continue, // a table's row type: it comes with its table
                "r" => match range_ddl(client, oid, &name).await? {
                    Ok(sql) => {
                        let subtype: u32 = row.get(8);
                        (sql, vec![subtype])
                    }
                    Err(warning) => {
                        out.warnings.push(warning);
                        continue;
                    }
                },
                "p" | "m" => continue,
                _ => {
                    out.warnings.push(format!(
                        "type {name} is a base type defined in C; its definition is not carried"
                    ));
                    continue;
                }
            };
            type_queue.extend(&uses);
            let mut sql = sql;
            push_comment(&mut sql, comment);
            out.schemas.insert(schema);
            nodes.push(Node {
                oid,
                object: SchemaObject::new(ObjectKind::Type, name, None, sql),
                uses,
            });
        }

        let known: Vec<u32> = seen_functions.iter().copied().collect();
        let mut function_queue: Vec<u32> = client
            .query(
                FUNCTION_REFS,
                &[&relation_oids, &domains, &view_oids, &known],
            )
            .await
            .context("cannot read the functions tables use")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        function_queue.retain(|f| seen_functions.insert(*f));
        if batch.is_empty() && function_queue.is_empty() && type_queue.is_empty() {
            break;
        }
        for row in client
            .query(FUNCTION_INFO, &[&function_queue])
            .await
            .context("cannot read functions")?
        {
            let oid: u32 = row.get(0);
            let kind: String = row.get(1);
            let schema: String = row.get(2);
            let name: String = row.get(3);
            let extension: Option<String> = row.get(5);
            if SYSTEM_SCHEMAS.contains(&schema.as_str()) {
                continue;
            }
            if let Some(extension) = extension {
                extensions.insert(extension);
                continue;
            }
            let Some(definition) = row.get::<_, Option<String>>(4).filter(|_| kind != "a") else {
                out.warnings.push(format!(
                    "aggregate {name} is used but not carried; create it before restoring"
                ));
                continue;
            };
            let types: Vec<u32> = row.get(6);
            type_queue.extend(types);
            let mut sql = format!("{};", definition.trim_end());
            push_comment(&mut sql, row.get(7));
            out.schemas.insert(schema);
            nodes.push(Node {
                oid,
                object: SchemaObject::new(ObjectKind::Function, name, None, sql),
                uses: Vec::new(),
            });
        }
    }

    out.objects = order(client, nodes, &array_element).await?;
    let names: Vec<String> = extensions.into_iter().collect();
    for row in client
        .query(EXTENSIONS, &[&names])
        .await
        .context("cannot read extensions")?
    {
        out.schemas.insert(row.get(2));
        out.extensions.push(SchemaObject::new(
            ObjectKind::Extension,
            row.get(1),
            None,
            row.get(0),
        ));
    }
    Ok(out)
}

async fn domain_ddl(client: &Client, oid: u32, name: &str) -> Result<String> {
    let row = client
        .query_one(DOMAIN, &[&oid])
        .await
        .context("cannot read a domain")?;
    let mut sql = format!("CREATE DOMAIN {name} AS {}", row.get::<_, String>(0));
    if let Some(collation) = row.get::<_, Option<String>>(1) {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = row.get::<_, Option<String>>(2) {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if row.get::<_, bool>(3) {
        sql.push_str(" NOT NULL");
    }
    for constraint in row.get::<_, Vec<String>>(4) {
        sql.push(' ');
        sql.push_str(&constraint);
    }
    sql.push(';');
    Ok(sql)
}

/// A range type's DDL, or the warning saying why it cannot be carried.
async fn range_ddl(client: &Client, oid: u32, name: &str) -> Result<Result<String, String>> {
    let row = client
        .query_one(RANGE, &[&oid])
        .await
        .context("cannot read a range type")?;
    if row.get::<_, bool>(4) {
        return Ok(Err(format!(
            "range type {name} has a canonical function, which needs a shell type; not carried"
        )));
    }
    let mut options = vec![format!("SUBTYPE = {}", row.get::<_, String>(0))];
    if let Some(opclass) = row.get::<_, Option<String>>(1) {
        options.push(format!("SUBTYPE_OPCLASS = {opclass}"));
    }
    if let Some(collation) = row.get::<_, Option<String>>(2) {
        options.push(format!("COLLATION = {collation}"));
    }
    if let Some(diff) = row.get::<_, Option<String>>(3) {
        options.push(format!("SUBTYPE_DIFF = {diff}"));
    }
    Ok(Ok(format!(
        "CREATE TYPE {name} AS RANGE ({});",
        options.join(", ")
    )))
}

/// Order types and functions so each comes after what it uses.
async fn order(
    client: &Client,
    nodes: Vec<Node>,
    array_element: &HashMap<u32, u32>,
) -> Result<Vec<SchemaObject>> {
    let index: BTreeMap<u32, usize> = nodes.iter().enumerate().map(|(i, n)| (n.oid, i)).collect();
    let oids: Vec<u32> = nodes.iter().map(|n| n.oid).collect();
    let resolve = |oid: u32| array_element.get(&oid).copied().unwrap_or(oid);
    let mut edges: Vec<Edge> = Vec::new();
    for row in client
        .query(DEPENDENCIES, &[&oids])
        .await
        .context("cannot read type and function dependencies")?
    {
        let (from, to): (u32, u32) = (row.get(0), row.get(1));
        if let (Some(&from), Some(&to)) = (index.get(&from), index.get(&resolve(to))) {
            edges.push(Edge { from, to });
        }
    }
    for (from, node) in nodes.iter().enumerate() {
        for used in &node.uses {
            if let Some(&to) = index.get(&resolve(*used)) {
                edges.push(Edge { from, to });
            }
        }
    }
    let order = plan(nodes.len(), &edges).order;
    let mut slots: Vec<Option<SchemaObject>> = nodes.into_iter().map(|n| Some(n.object)).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
