//! The DDL of tables and what belongs to them: columns (identity options
//! included), check constraints, partitions, keys and indexes. Sequences and
//! triggers have files of their own.
//!
//! The table shell is assembled from the catalog (there is no deparser for
//! it); every expression, constraint, index and trigger comes from the
//! server's own deparsers, and every comment is quoted by the server.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::sequences::{SequenceOptions, SEQUENCES};
use crate::artifact::{ObjectKind, SchemaObject};
use crate::catalog::{Relation, Table};
use crate::pg::quote_ident;

/// The shell of relations $1: persistence, partitioning, inheritance, options.
const RELATIONS: &str = "
SELECT c.oid, c.oid::regclass::text, c.relpersistence = 'u', c.relkind = 'p', c.relispartition,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
       ARRAY(SELECT i.inhparent::regclass::text FROM pg_catalog.pg_inherits i
             WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
       c.reloptions::text[]
FROM pg_catalog.pg_class c
WHERE c.oid = ANY($1)";

/// Columns of relations $1 with everything a column definition holds.
const COLUMNS: &str = "
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co
             JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = a.attcollation) END,
       a.attnotnull, a.attidentity::text, a.attgenerated::text,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attislocal,
       (SELECT s.seqrelid::regclass::text FROM pg_catalog.pg_depend dep
        JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
        WHERE dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i')
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

/// Constraints of relations $1 defined on the relation itself (not inherited
/// from a parent): check constraints, keys and exclusion constraints.
const CONSTRAINTS: &str = "
SELECT con.conrelid, con.conname, con.contype::text, con.convalidated,
       pg_catalog.pg_get_constraintdef(con.oid),
       CASE WHEN pg_catalog.obj_description(con.oid, 'pg_constraint') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', con.conname,
                         con.conrelid::regclass::text, pg_catalog.obj_description(con.oid, 'pg_constraint')) END
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = ANY($1) AND con.conparentid = 0 AND con.conislocal
  AND con.contype IN ('c', 'p', 'u', 'x')
ORDER BY con.conrelid, con.conname";

/// Indexes of relations $1 that no constraint owns and no parent index
/// attaches (those come with their constraint or parent).
const INDEXES: &str = "
SELECT i.indrelid, ic.oid::regclass::text, pg_catalog.pg_get_indexdef(i.indexrelid),
       i.indisclustered, t.relkind = 'p', t.oid::regclass::text,
       CASE WHEN pg_catalog.obj_description(ic.oid, 'pg_class') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON INDEX %s IS %L', ic.oid::regclass::text, pg_catalog.obj_description(ic.oid, 'pg_class')) END
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
WHERE i.indrelid = ANY($1) AND NOT ic.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                    AND c.contype IN ('p', 'u', 'x'))
ORDER BY 2";

/// Comments on relations $1 and their columns, as statements.
const RELATION_COMMENTS: &str = "
SELECT c.oid, pg_catalog.format('COMMENT ON %s %s IS %L',
         CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
         c.oid::regclass::text, d.description)
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid
WHERE c.oid = ANY($1) AND d.objsubid = 0
UNION ALL
SELECT c.oid, pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.oid::regclass::text, a.attname,
                                d.description)
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE c.oid = ANY($1) AND d.objsubid > 0
ORDER BY 1, 2";

/// Comment statements per relation oid, for tables, partitions and views.
pub async fn relation_comments(client: &Client, oids: &[u32]) -> Result<HashMap<u32, Vec<String>>> {
    let mut comments: HashMap<u32, Vec<String>> = HashMap::new();
    for row in client
        .query(RELATION_COMMENTS, &[&oids])
        .await
        .context("cannot read comments")?
    {
        comments.entry(row.get(0)).or_default().push(row.get(1));
    }
    Ok(comments)
}

struct Shell {
    name: String,
    unlogged: bool,
    partitioned: bool,
    is_partition: bool,
    partition_key: Option<String>,
    partition_bound: Option<String>,
    parents: Vec<String>,
    options: Option<Vec<String>>,
}

struct ColumnDef {
    name: String,
    type_name: String,
    collation: Option<String>,
    not_null: bool,
    identity: String,
    generated: String,
    default: Option<String>,
    local: bool,
    identity_sequence: Option<String>,
}

/// `CREATE TABLE` for each table and its partitions (parents first), and
/// the post-data objects of all of them. Returns (pre-data, post-data).
pub async fn tables(
    client: &Client,
    tables: &[Table],
    relations: &[Relation],
) -> Result<(Vec<SchemaObject>, Vec<SchemaObject>)> {
    let oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();
    let root_of: HashMap<u32, &Table> = relations
        .iter()
        .filter_map(|r| {
            tables
                .iter()
                .find(|t| t.oid == r.table_oid)
                .map(|t| (r.oid, t))
        })
        .collect();

    let mut shells: HashMap<u32, Shell> = HashMap::new();
    for row in client
        .query(RELATIONS, &[&oids])
        .await
        .context("cannot read tables")?
    {
        shells.insert(
            row.get(0),
            Shell {
                name: row.get(1),
                unlogged: row.get(2),
                partitioned: row.get(3),
                is_partition: row.get(4),
                partition_key: row.get(5),
                partition_bound: row.get(6),
                parents: row.get(7),
                options: row.get(8),
            },
        );
    }
    let mut columns: HashMap<u32, Vec<ColumnDef>> = HashMap::new();
    for row in client
        .query(COLUMNS, &[&oids])
        .await
        .context("cannot read columns")?
    {
        columns.entry(row.get(0)).or_default().push(ColumnDef {
            name: row.get(1),
            type_name: row.get(2),
            collation: row.get(3),
            not_null: row.get(4),
            identity: row.get(5),
            generated: row.get(6),
            default: row.get(7),
            local: row.get(8),
            identity_sequence: row.get(9),
        });
    }
    let identity_options = identity_sequence_options(client, &columns).await?;

    let mut checks: HashMap<u32, Vec<String>> = HashMap::new();
    let mut post = Vec::new();
    for row in client
        .query(CONSTRAINTS, &[&oids])
        .await
        .context("cannot read constraints")?
    {
        let relation: u32 = row.get(0);
        let name: String = row.get(1);
        let kind: String = row.get(2);
        let validated: bool = row.get(3);
        let definition: String = row.get(4);
        if kind == "c" && validated {
            checks
                .entry(relation)
                .or_default()
                .push(format!("CONSTRAINT {} {definition}", quote_ident(&name)));
            continue;
        }
        let shell = &shells[&relation];
        let mut sql = format!(
            "ALTER TABLE {}{} ADD CONSTRAINT {} {definition};",
            if shell.partitioned { "" } else { "ONLY " },
            shell.name,
            quote_ident(&name)
        );
        push_comment(&mut sql, row.get(5));
        post.push(SchemaObject::new(
            ObjectKind::Constraint,
            format!("{} {}", shell.name, quote_ident(&name)),
            Some(root_of[&relation].name.clone()),
            sql,
        ));
    }
    let comments = relation_comments(client, &oids).await?;

    // Tables before their inheritance children, partitions after their parent.
    let mut pre = Vec::new();
    for relation in creation_order(relations, &shells) {
        let shell = &shells[&relation.oid];
        let cols = columns.get(&relation.oid).map(Vec::as_slice).unwrap_or(&[]);
        let mut elements: Vec<String> = if shell.is_partition {
            Vec::new()
        } else {
            cols.iter()
                .filter(|c| c.local)
                .map(|c| column_definition(c, &identity_options))
                .collect()
        };
        elements.extend(checks.remove(&relation.oid).unwrap_or_default());
        let mut sql = format!(
            "CREATE {}TABLE {}",
            if shell.unlogged { "UNLOGGED " } else { "" },
            shell.name
        );
        if shell.is_partition {
            sql.push_str(&format!(" PARTITION OF {}", shell.parents.join(", ")));
            if !elements.is_empty() {
                sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
            }
            sql.push_str(&format!(
                " {}",
                shell.partition_bound.as_deref().unwrap_or("DEFAULT")
            ));
        } else {
            sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
            if !shell.parents.is_empty() {
                sql.push_str(&format!(" INHERITS ({})", shell.parents.join(", ")));
            }
        }
        if let Some(key) = &shell.partition_key {
            sql.push_str(&format!(" PARTITION BY {key}"));
        }
        if let Some(options) = shell.options.as_ref().filter(|o| !o.is_empty()) {
            sql.push_str(&format!(" WITH ({})", options.join(", ")));
        }
        sql.push(';');
        for comment in comments.get(&relation.oid).into_iter().flatten() {
            sql.push('\n');
            sql.push_str(comment);
            sql.push(';');
        }
        let root = root_of[&relation.oid];
        pre.push(SchemaObject::new(
            if relation.oid == root.oid {
                ObjectKind::Table
            } else {
                ObjectKind::Partition
            },
            shell.name.clone(),
            Some(root.name.clone()),
            sql,
        ));
    }

    for row in client
        .query(INDEXES, &[&oids])
        .await
        .context("cannot read indexes")?
    {
        let relation: u32 = row.get(0);
        let name: String = row.get(1);
        let mut definition: String = row.get(2);
        if row.get::<_, bool>(4) {
            // pg_get_indexdef says ON ONLY for a partitioned table's index;
            // without ONLY, creating it creates and attaches the partitions'.
            definition = definition.replacen(" ON ONLY ", " ON ", 1);
        }
        let mut sql = format!("{definition};");
        if row.get::<_, bool>(3) {
            sql.push_str(&format!(
                "\nALTER TABLE {} CLUSTER ON {};",
                row.get::<_, String>(5),
                unqualified(&name)
            ));
        }
        push_comment(&mut sql, row.get(6));
        post.push(SchemaObject::new(
            ObjectKind::Index,
            name,
            Some(root_of[&relation].name.clone()),
            sql,
        ));
    }
    Ok((pre, post))
}

async fn identity_sequence_options(
    client: &Client,
    columns: &HashMap<u32, Vec<ColumnDef>>,
) -> Result<HashMap<String, String>> {
    let names: Vec<String> = columns
        .values()
        .flatten()
        .filter_map(|c| c.identity_sequence.clone())
        .collect();
    let mut options = HashMap::new();
    if names.is_empty() {
        return Ok(options);
    }
    for row in client
        .query(SEQUENCES, &[&names])
        .await
        .context("cannot read identity sequences")?
    {
        let name: String = row.get(0);
        let rendered = SequenceOptions::from_row(&row, 1).render();
        options.insert(name, rendered);
    }
    Ok(options)
}

fn column_definition(c: &ColumnDef, identity_options: &HashMap<String, String>) -> String {
    let mut def = format!("{} {}", quote_ident(&c.name), c.type_name);
    if let Some(collation) = &c.collation {
        def.push_str(&format!(" COLLATE {collation}"));
    }
    match (c.generated.as_str(), c.identity.as_str()) {
        // 's' stored; 'v' virtual (PostgreSQL 18): computed when read.
        ("s" | "v", _) => {
            if let Some(expr) = &c.default {
                let kind = if c.generated == "v" {
                    "VIRTUAL"
                } else {
                    "STORED"
                };
                def.push_str(&format!(" GENERATED ALWAYS AS ({expr}) {kind}"));
            }
        }
        (_, "a" | "d") => {
            let when = if c.identity == "a" {
                "ALWAYS"
            } else {
                "BY DEFAULT"
            };
            def.push_str(&format!(" GENERATED {when} AS IDENTITY"));
            if let Some(sequence) = &c.identity_sequence {
                let options = identity_options
                    .get(sequence)
                    .map(String::as_str)
                    .unwrap_or("");
                def.push_str(&format!(" (SEQUENCE NAME {sequence} {options})"));
            }
        }
        _ => {
            if let Some(expr) = &c.default {
                def.push_str(&format!(" DEFAULT {expr}"));
            }
        }
    }
    if c.not_null {
        def.push_str(" NOT NULL");
    }
    def
}

/// Parents before children: roots in the given order, each followed by its
/// partitions level by level (`relations` lists them so); inheritance
/// children after their parents.
fn creation_order<'a>(
    relations: &'a [Relation],
    shells: &HashMap<u32, Shell>,
) -> Vec<&'a Relation> {
    let mut done: Vec<&str> = Vec::new();
    let mut ordered: Vec<&Relation> = Vec::new();
    let mut pending: Vec<&Relation> = relations.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|r| {
            let shell = &shells[&r.oid];
            let internal_parents_done = shell
                .parents
                .iter()
                .all(|p| done.contains(&p.as_str()) || !shells.values().any(|s| &s.name == p));
            if internal_parents_done {
                done.push(shell.name.as_str());
                ordered.push(r);
                false
            } else {
                true
            }
        });
        if pending.len() == before {
            // Inheritance cannot loop; take the rest as they come.
            ordered.append(&mut pending);
        }
    }
    ordered
}

/// The last part of a quoted qualified name, for `CLUSTER ON`.
fn unqualified(name: &str) -> &str {
    match name.rfind("\".\"") {
        Some(i) => &name[i + 2..],
        None => name.rsplit('.').next().unwrap_or(name),
    }
}

/// Append a comment statement the server built, when there is a comment.
pub fn push_comment(sql: &mut String, comment: Option<String>) {
    if let Some(comment) = comment {
        sql.push('\n');
        sql.push_str(&comment);
        sql.push(';');
    }
}
