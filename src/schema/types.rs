//! User-defined types that dumped tables, views and functions use: enums,
//! domains, composite and range types, each as DDL with the types it is
//! built from. Array types stand for their element types; types an
//! extension owns stand for the extension.

use anyhow::{Context, Result};
use tokio_postgres::{Client, Row};

use super::comments::push_comment;
use crate::artifact::{ObjectKind, SchemaObject};

/// What kind of type each of $1 is, what it is built on, and whose it is
/// (the system's own types are left out: every database has them).
const TYPE_INFO: &str = "
SELECT t.oid, t.typtype::text AS kind, n.nspname, pg_catalog.format_type(t.oid, NULL) AS name,
       EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid) AS is_array,
       t.typelem, t.typbasetype,
       COALESCE((SELECT c.relkind::text FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid), '')
         AS relkind,
       (SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid) AS range_subtype,
       (SELECT e.extname::text FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
         AS extension,
       ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS attribute_types,
       CASE WHEN pg_catalog.obj_description(t.oid, 'pg_type') IS NOT NULL THEN
            pg_catalog.format('COMMENT ON %s %s IS %L',
                              CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                              pg_catalog.format_type(t.oid, NULL),
                              pg_catalog.obj_description(t.oid, 'pg_type')) END AS comment,
       t.typrelid
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 4";

/// An enum's labels, quoted by the server, in order.
const ENUM_LABELS: &str = "
SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_catalog.pg_enum e WHERE e.enumtypid = $1";

/// A domain's base type, collation, default, NOT NULL and check constraints.
const DOMAIN: &str = "
SELECT pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = t.typcollation) END AS collation,
       t.typdefault, t.typnotnull,
       ARRAY(SELECT pg_catalog.format('CONSTRAINT %I %s', c.conname, pg_catalog.pg_get_constraintdef(c.oid))
             FROM pg_catalog.pg_constraint c
             WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS checks,
       ARRAY(SELECT pg_catalog.format('COMMENT ON CONSTRAINT %I ON DOMAIN %s IS %L', c.conname,
                                      t.oid::regtype::text, pg_catalog.obj_description(c.oid, 'pg_constraint'))
             FROM pg_catalog.pg_constraint c
             WHERE c.contypid = t.oid AND pg_catalog.obj_description(c.oid, 'pg_constraint') IS NOT NULL
             ORDER BY c.conname) AS comments
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
SELECT pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
       CASE WHEN NOT opc.opcdefault THEN pg_catalog.format('%I.%I', opn.nspname, opc.opcname) END
         AS opclass,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = r.rngcollation) END AS collation,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
       r.rngcanonical <> 0 AS has_canonical
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
WHERE r.rngtypid = $1";

/// A type's or a function's DDL, with the types it is built from that the
/// catalog's dependencies do not record.
#[derive(Debug)]
pub(super) struct Defined {
    pub oid: u32,
    pub schema: String,
    pub object: SchemaObject,
    pub uses: Vec<u32>,
    /// Names a table's row type: created after the tables.
    pub late: bool,
}

/// What a batch of types comes to.
#[derive(Debug, Default)]
pub(super) struct TypesRead {
    pub defined: Vec<Defined>,
    /// Types to read next: array elements, and what defined types use.
    pub more: Vec<u32>,
    pub domains: Vec<u32>,
    /// (array type, its element type).
    pub arrays: Vec<(u32, u32)>,
    pub extensions: Vec<String>,
    pub warnings: Vec<String>,
}

/// How one type is carried.
enum Carried {
    /// As this DDL, built from these types.
    Ddl(String, Vec<u32>),
    /// With something else: a table's row type comes with its table.
    Elsewhere,
    /// Not at all, for the reason given.
    Not(String),
}

/// Read the types `oids`.
pub(super) async fn read(client: &Client, oids: &[u32]) -> Result<TypesRead> {
    let mut read = TypesRead::default();
    for row in client
        .query(TYPE_INFO, &[&oids])
        .await
        .context("cannot read types")?
    {
        let oid: u32 = row.get("oid");
        if let Some(extension) = row.get::<_, Option<String>>("extension") {
            read.extensions.push(extension);
            continue;
        }
        if row.get::<_, bool>("is_array") {
            let element: u32 = row.get("typelem");
            read.arrays.push((oid, element));
            read.more.push(element);
            continue;
        }
        let name: String = row.get("name");
        let (mut sql, uses) = match carried(client, &row, &name).await? {
            Carried::Ddl(sql, uses) => (sql, uses),
            Carried::Elsewhere => continue,
            Carried::Not(warning) => {
                read.warnings.push(warning);
                continue;
            }
        };
        if row.get::<_, String>("kind") == "d" {
            read.domains.push(oid);
        }
        read.more.extend(&uses);
        push_comment(&mut sql, row.get("comment"));
        read.defined.push(Defined {
            oid,
            schema: row.get("nspname"),
            object: SchemaObject::new(ObjectKind::Type, name, None, sql),
            uses,
            late: false,
        });
    }
    Ok(read)
}

/// How the type in `row` (a [`TYPE_INFO`] row) is carried.
async fn carried(client: &Client, row: &Row, name: &str) -> Result<Carried> {
    let oid: u32 = row.get("oid");
    let kind: String = row.get("kind");
    let relkind: String = row.get("relkind");
    Ok(match (kind.as_str(), relkind.as_str()) {
        ("e", _) => {
            let labels: Option<String> = client.query_one(ENUM_LABELS, &[&oid]).await?.get(0);
            let sql = format!(
                "CREATE TYPE {name} AS ENUM ({});",
                labels.unwrap_or_default()
            );
            Carried::Ddl(sql, Vec::new())
        }
        ("d", _) => Carried::Ddl(
            domain_ddl(client, oid, name).await?,
            vec![row.get("typbasetype")],
        ),
        ("c", "c") => {
            let typrelid: u32 = row.get("typrelid");
            let attributes: Option<String> =
                client.query_one(COMPOSITE, &[&typrelid]).await?.get(0);
            let sql = format!(
                "CREATE TYPE {name} AS ({});",
                attributes.unwrap_or_default()
            );
            Carried::Ddl(sql, row.get("attribute_types"))
        }
        ("c", _) | ("p" | "m", _) => Carried::Elsewhere,
        ("r", _) => match range_ddl(client, oid, name).await? {
            Ok(sql) => Carried::Ddl(sql, vec![row.get("range_subtype")]),
            Err(warning) => Carried::Not(warning),
        },
        _ => Carried::Not(format!(
            "type {name} is a base type defined in C; its definition is not carried"
        )),
    })
}

async fn domain_ddl(client: &Client, oid: u32, name: &str) -> Result<String> {
    let row = client
        .query_one(DOMAIN, &[&oid])
        .await
        .context("cannot read a domain")?;
    let mut sql = format!("CREATE DOMAIN {name} AS {}", row.get::<_, String>("base"));
    if let Some(collation) = row.get::<_, Option<String>>("collation") {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = row.get::<_, Option<String>>("typdefault") {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if row.get::<_, bool>("typnotnull") {
        sql.push_str(" NOT NULL");
    }
    // A check not validated yet can only be added to an existing domain.
    let (unvalidated, checks): (Vec<String>, Vec<String>) = row
        .get::<_, Vec<String>>("checks")
        .into_iter()
        .partition(|c| c.ends_with(" NOT VALID"));
    for constraint in checks {
        sql.push(' ');
        sql.push_str(&constraint);
    }
    sql.push(';');
    for constraint in unvalidated {
        sql.push_str(&format!("\nALTER DOMAIN {name} ADD {constraint};"));
    }
    for comment in row.get::<_, Vec<String>>("comments") {
        sql.push_str(&format!("\n{comment};"));
    }
    Ok(sql)
}

/// A range type's DDL, or the warning saying why it cannot be carried.
async fn range_ddl(client: &Client, oid: u32, name: &str) -> Result<Result<String, String>> {
    let row = client
        .query_one(RANGE, &[&oid])
        .await
        .context("cannot read a range type")?;
    if row.get::<_, bool>("has_canonical") {
        return Ok(Err(format!(
            "range type {name} has a canonical function, which needs a shell type; not carried"
        )));
    }
    let mut options = vec![format!("SUBTYPE = {}", row.get::<_, String>("subtype"))];
    if let Some(opclass) = row.get::<_, Option<String>>("opclass") {
        options.push(format!("SUBTYPE_OPCLASS = {opclass}"));
    }
    if let Some(collation) = row.get::<_, Option<String>>("collation") {
        options.push(format!("COLLATION = {collation}"));
    }
    if let Some(diff) = row.get::<_, Option<String>>("subtype_diff") {
        options.push(format!("SUBTYPE_DIFF = {diff}"));
    }
    Ok(Ok(format!(
        "CREATE TYPE {name} AS RANGE ({});",
        options.join(", ")
    )))
}
