//! The DDL of tables and what belongs to them: columns (identity options
//! included), check constraints and partitions. Other constraints, indexes,
//! sequences and triggers have files of their own.
//!
//! The table shell is assembled from the catalog (there is no deparser for
//! it); every expression, constraint, index and trigger comes from the
//! server's own deparsers, and every comment is quoted by the server.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::relation_comments;
use super::roots::Roots;
use super::sequences::{SequenceOptions, SEQUENCES};
use super::{constraints, indexes};
use crate::artifact::{ObjectKind, SchemaObject};
use crate::catalog::{Relation, Table};
use crate::ident::quote_ident;

/// The shell of relations $1: persistence, partitioning, inheritance, options.
const RELATIONS: &str = "
SELECT c.oid, c.oid::regclass::text AS name, c.relpersistence = 'u' AS unlogged,
       c.relkind = 'p' AS partitioned, c.relispartition AS is_partition,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       ARRAY(SELECT i.inhparent::regclass::text FROM pg_catalog.pg_inherits i
             WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
       c.reloptions::text[] AS options,
       (SELECT am.amname::text FROM pg_catalog.pg_am am
        WHERE am.oid = c.relam AND am.amname <> 'heap') AS access_method,
       CASE WHEN c.reloftype <> 0 THEN pg_catalog.format_type(c.reloftype, NULL) END AS of_type
FROM pg_catalog.pg_class c
WHERE c.oid = ANY($1)";

/// Columns of relations $1 with everything a column definition holds.
const COLUMNS: &str = "
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co
             JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = a.attcollation) END AS collation,
       a.attnotnull, a.attidentity::text AS identity, a.attgenerated::text AS generated,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expression, a.attislocal,
       a.attinhcount > 0 AS inherited,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
       -- attcompression is new in PostgreSQL 14: read through the row.
       NULLIF(pg_catalog.to_jsonb(a) ->> 'attcompression', '') AS compression,
       (SELECT s.seqrelid::regclass::text FROM pg_catalog.pg_depend dep
        JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
        WHERE dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i')
         AS identity_sequence
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

struct Shell {
    name: String,
    unlogged: bool,
    partitioned: bool,
    is_partition: bool,
    partition_key: Option<String>,
    partition_bound: Option<String>,
    parents: Vec<String>,
    options: Option<Vec<String>>,
    /// A table access method other than heap.
    access_method: Option<String>,
    /// A typed table's composite type (`CREATE TABLE ... OF type`).
    of_type: Option<String>,
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
    /// Also defined by a parent: an inheritance child's generated column
    /// takes its parent's expression and may not state one (before
    /// PostgreSQL 16), so it is left out, as pg_dump does.
    inherited: bool,
    /// Storage other than its type's (`p`, `e`, `m`, `x`).
    storage: Option<String>,
    /// Compression other than the server's default (`pglz`, `lz4`).
    compression: Option<String>,
    identity_sequence: Option<String>,
}

/// `CREATE TABLE` for each table and its partitions (parents first), and
/// the post-data objects of all of them: constraints other than valid
/// checks, and indexes. Returns (pre-data, post-data).
pub async fn tables(
    client: &Client,
    tables: &[Table],
    relations: &[Relation],
) -> Result<(Vec<SchemaObject>, Vec<SchemaObject>)> {
    let oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();
    let roots = Roots::new(tables, relations);
    let shells = read_shells(client, &oids).await?;
    let columns = read_columns(client, &oids).await?;
    let identity_options = identity_sequence_options(client, &columns).await?;
    let names: HashMap<u32, (&str, bool)> = shells
        .iter()
        .map(|(oid, s)| (*oid, (s.name.as_str(), s.partitioned)))
        .collect();
    let constraints = constraints::read(client, &oids, &names, &roots).await?;
    let (mut checks, mut post) = (constraints.inline, constraints.post);
    let mut comments = relation_comments(client, &oids).await?;
    for (oid, statements) in constraints.inline_comments {
        comments.entry(oid).or_default().extend(statements);
    }

    // Tables before their inheritance children, partitions after their parent.
    let mut pre = Vec::new();
    for relation in creation_order(relations, &shells) {
        let shell = &shells[&relation.oid];
        let mut elements: Vec<String> = match (shell.is_partition, &shell.of_type) {
            (true, _) => partition_options(shell, &shells, &columns, relation.oid),
            (false, Some(_)) => typed_options(columns.get(&relation.oid)),
            (false, None) => columns
                .get(&relation.oid)
                .into_iter()
                .flatten()
                .filter(|c| c.local)
                .map(|c| column_definition(c, &identity_options))
                .collect(),
        };
        elements.extend(checks.remove(&relation.oid).unwrap_or_default());
        let mut sql = create_table(shell, &elements);
        let own_columns = columns.get(&relation.oid).map_or(&[][..], Vec::as_slice);
        sql.push_str(&column_settings(shell, own_columns));
        for comment in comments.get(&relation.oid).into_iter().flatten() {
            sql.push('\n');
            sql.push_str(comment);
            sql.push(';');
        }
        let root = roots.of(relation.oid);
        let kind = match relation.oid == root.oid {
            true => ObjectKind::Table,
            false => ObjectKind::Partition,
        };
        pre.push(SchemaObject::new(
            kind,
            shell.name.clone(),
            Some(root.name.clone()),
            sql,
        ));
    }
    post.extend(indexes::read(client, &oids, &roots).await?);
    Ok((pre, post))
}

/// The shell of each relation, by oid.
async fn read_shells(client: &Client, oids: &[u32]) -> Result<HashMap<u32, Shell>> {
    let rows = client
        .query(RELATIONS, &[&oids])
        .await
        .context("cannot read tables")?;
    Ok(rows
        .iter()
        .map(|row| {
            let shell = Shell {
                name: row.get("name"),
                unlogged: row.get("unlogged"),
                partitioned: row.get("partitioned"),
                is_partition: row.get("is_partition"),
                partition_key: row.get("partition_key"),
                partition_bound: row.get("partition_bound"),
                parents: row.get("parents"),
                options: row.get("options"),
                access_method: row.get("access_method"),
                of_type: row.get("of_type"),
            };
            (row.get("oid"), shell)
        })
        .collect())
}

/// The columns of each relation, by oid, in column order.
async fn read_columns(client: &Client, oids: &[u32]) -> Result<HashMap<u32, Vec<ColumnDef>>> {
    let mut columns: HashMap<u32, Vec<ColumnDef>> = HashMap::new();
    for row in client
        .query(COLUMNS, &[&oids])
        .await
        .context("cannot read columns")?
    {
        columns
            .entry(row.get("attrelid"))
            .or_default()
            .push(ColumnDef {
                name: row.get("attname"),
                type_name: row.get("type_name"),
                collation: row.get("collation"),
                not_null: row.get("attnotnull"),
                identity: row.get("identity"),
                generated: row.get("generated"),
                default: row.get("default_expression"),
                local: row.get("attislocal"),
                inherited: row.get("inherited"),
                storage: row.get("storage"),
                compression: row
                    .get::<_, Option<String>>("compression")
                    .filter(|c| c != "\u{0}"),
                identity_sequence: row.get("identity_sequence"),
            });
    }
    Ok(columns)
}

/// `CREATE TABLE` for one relation, from its shell and its elements
/// (column definitions and check constraints).
fn create_table(shell: &Shell, elements: &[String]) -> String {
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
    } else if let Some(of_type) = &shell.of_type {
        sql.push_str(&format!(" OF {of_type}"));
        if !elements.is_empty() {
            sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
        }
    } else {
        sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
        if !shell.parents.is_empty() {
            sql.push_str(&format!(" INHERITS ({})", shell.parents.join(", ")));
        }
    }
    if let Some(key) = &shell.partition_key {
        sql.push_str(&format!(" PARTITION BY {key}"));
    }
    if let Some(method) = &shell.access_method {
        sql.push_str(&format!(" USING {}", quote_ident(method)));
    }
    if let Some(options) = shell.options.as_ref().filter(|o| !o.is_empty()) {
        sql.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    sql.push(';');
    sql
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
        let name: String = row.get("name");
        let rendered = SequenceOptions::from_row(&row).render();
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
        ("s" | "v", _) if c.inherited => {}
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

/// `ALTER COLUMN ... SET STORAGE / SET COMPRESSION` for the columns of a
/// relation whose storage is not its type's or whose compression is set.
fn column_settings(shell: &Shell, columns: &[ColumnDef]) -> String {
    let mut sql = String::new();
    for column in columns {
        let storage = column.storage.as_deref().and_then(|s| match s {
            "p" => Some("PLAIN"),
            "e" => Some("EXTERNAL"),
            "m" => Some("MAIN"),
            "x" => Some("EXTENDED"),
            _ => None,
        });
        let settings = storage
            .map(|s| format!("SET STORAGE {s}"))
            .into_iter()
            .chain(column.compression.as_deref().map(|c| {
                let method = if c == "l" { "lz4" } else { "pglz" };
                format!("SET COMPRESSION {method}")
            }));
        for setting in settings {
            sql.push_str(&format!(
                "\nALTER TABLE ONLY {} ALTER COLUMN {} {setting};",
                shell.name,
                quote_ident(&column.name)
            ));
        }
    }
    sql
}

/// A typed table's columns come from its type; what they add is stated as
/// `col WITH OPTIONS DEFAULT ... NOT NULL`.
fn typed_options(columns: Option<&Vec<ColumnDef>>) -> Vec<String> {
    columns
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let mut constraints = String::new();
            if let Some(default) = c.default.as_ref().filter(|_| c.generated.is_empty()) {
                constraints.push_str(&format!(" DEFAULT {default}"));
            }
            if c.not_null {
                constraints.push_str(" NOT NULL");
            }
            (!constraints.is_empty())
                .then(|| format!("{} WITH OPTIONS{constraints}", quote_ident(&c.name)))
        })
        .collect()
}

/// What a partition's columns hold that its parent's do not: `NOT NULL`,
/// or a default of its own (`col WITH OPTIONS ...` in `PARTITION OF`);
/// otherwise a partition takes its parent's.
fn partition_options(
    shell: &Shell,
    shells: &HashMap<u32, Shell>,
    columns: &HashMap<u32, Vec<ColumnDef>>,
    oid: u32,
) -> Vec<String> {
    let parent = shell.parents.first().and_then(|name| {
        let (oid, _) = shells.iter().find(|(_, s)| &s.name == name)?;
        columns.get(oid)
    });
    let Some(parent) = parent else {
        return Vec::new();
    };
    let mut options = Vec::new();
    for column in columns.get(&oid).into_iter().flatten() {
        let Some(inherited) = parent.iter().find(|p| p.name == column.name) else {
            continue;
        };
        let mut constraints = String::new();
        let plain = column.generated.is_empty() && column.identity.is_empty();
        if let Some(default) = column.default.as_ref().filter(|_| plain) {
            if inherited.default.as_ref() != Some(default) {
                constraints.push_str(&format!(" DEFAULT {default}"));
            }
        }
        if column.not_null && !inherited.not_null {
            constraints.push_str(" NOT NULL");
        }
        if !constraints.is_empty() {
            options.push(format!(
                "{} WITH OPTIONS{constraints}",
                quote_ident(&column.name)
            ));
        }
    }
    options
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
