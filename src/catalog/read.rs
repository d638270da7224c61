//! Catalog queries. Each reads only what seedpack needs and works on
//! PostgreSQL 13 and later.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::{Column, ForeignKey, Leaf, Relation, Table, Trigger, HISTORY_COMMENT, OWN_SCHEMA};
use crate::ident::QualifiedName;
use crate::pg::sql::{self, TriggerState};

/// Ordinary and partitioned tables that are not partitions, outside the
/// system schemas, not owned by an extension, and not seedpack's own: its
/// schema ($1) and any history table elsewhere (its comment starts with $2).
const LIST_TABLES: &str = "
SELECT c.oid, n.nspname, c.relname, c.relkind = 'p' AS partitioned,
       c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                                   WHERE i.inhparent = c.oid) AS has_children
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  AND n.nspname <> $1
  AND NOT starts_with(COALESCE(pg_catalog.obj_description(c.oid, 'pg_class'), ''), $2)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname";

/// Unique constraints and indexes of tables $1, as column lists: the keys
/// `ON CONFLICT` can match on (no partial or expression indexes, and none
/// over a generated column, which the data does not carry).
const UNIQUE_KEYS: &str = "
SELECT i.indrelid,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS k(attnum)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
         AS columns
FROM pg_catalog.pg_index i
WHERE i.indrelid = ANY($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey) AS k(attnum)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                  WHERE a.attgenerated <> '')";

/// Tables called any of $1, in any schema but the system's.
const TABLES_CALLED: &str = "
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relname = ANY($1)
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY n.nspname, c.relname";

/// The same for tables named by ($1 schemas, $2 names), pairwise.
const TABLES_NAMED: &str = "
SELECT c.oid, n.nspname, c.relname, c.relkind = 'p' AS partitioned,
       c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                                   WHERE i.inhparent = c.oid) AS has_children
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN unnest($1::text[], $2::text[]) AS w(nspname, relname)
  ON w.nspname = n.nspname AND w.relname = c.relname
WHERE c.relkind IN ('r', 'p')";

/// Live columns of tables $1, in column order.
const COLUMNS: &str = "
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_name,
       a.attnotnull, a.atthasdef, a.attgenerated <> '' AS generated, a.attidentity <> '' AS identity
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

/// Primary key columns of tables $1, in key order. A key over a generated
/// column (which the data does not carry) does not count: such a table is
/// ordered and matched as one without a key.
const PRIMARY_KEYS: &str = "
SELECT con.conrelid,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_catalog.pg_constraint con
WHERE con.contype = 'p' AND con.conrelid = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM unnest(con.conkey) AS k(attnum)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                  WHERE a.attgenerated <> '')";

/// Every relation of tables $1: each table and all partitions below it
/// (pg_partition_tree lists nothing for a table that is not partitioned).
const RELATIONS: &str = "
SELECT r.relid, n.nspname, c.relname, t.root
FROM unnest($1::oid[]) AS t(root)
CROSS JOIN LATERAL (
    SELECT t.root AS relid, 0 AS level
    UNION ALL
    SELECT p.relid, p.level FROM pg_catalog.pg_partition_tree(t.root) AS p WHERE p.level > 0
) AS r
JOIN pg_catalog.pg_class c ON c.oid = r.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.root, r.level, n.nspname, c.relname";

/// The leaf partitions of partitioned tables $1, each with whether the
/// session can read it directly as it reads the table (an ordinary table it
/// may select from, without row security of its own) and its whole
/// partition constraint (its ancestors' bounds included), in a stable order.
const LEAVES: &str = "
SELECT t.root, n.nspname, c.relname,
       c.relkind = 'r' AND NOT c.relrowsecurity
         AND pg_catalog.has_table_privilege(p.relid, 'SELECT') AS readable,
       coalesce(pg_catalog.pg_get_partition_constraintdef(p.relid), '') AS bound
FROM unnest($1::oid[]) AS t(root)
CROSS JOIN LATERAL pg_catalog.pg_partition_tree(t.root) AS p
JOIN pg_catalog.pg_class c ON c.oid = p.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE p.isleaf
ORDER BY t.root, n.nspname, c.relname";

/// Foreign keys defined on, or pointing at, relations $1. Only top-level
/// constraints (conparentid = 0): the clones on partitions come and go with them.
const FOREIGN_KEYS: &str = "
SELECT con.conname, con.conrelid, rn.nspname AS relation_schema, r.relname AS relation_name,
       COALESCE(pg_catalog.pg_partition_root(con.conrelid), con.conrelid)::oid AS table_oid,
       COALESCE(pg_catalog.pg_partition_root(con.confrelid), con.confrelid)::oid AS referenced_oid,
       fn.nspname AS referenced_schema, f.relname AS referenced_name,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS referenced_columns,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       con.condeferrable, con.condeferred,
       pg_catalog.obj_description(con.oid, 'pg_constraint') AS comment
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class r ON r.oid = con.conrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
JOIN pg_catalog.pg_class f ON f.oid = COALESCE(pg_catalog.pg_partition_root(con.confrelid), con.confrelid)
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0
  AND (con.conrelid = ANY($1) OR con.confrelid = ANY($1))
ORDER BY rn.nspname, r.relname, con.conname";

/// User triggers on relations $1 and their firing state: those defined
/// there, and their clones on partitions, which PostgreSQL 13 marks
/// internal (later majors do not); never the foreign keys' internal ones.
const TRIGGERS: &str = "
SELECT n.nspname, c.relname, t.tgname, t.tgenabled::text AS state, false AS rule
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE t.tgrelid = ANY($1)
  AND (NOT t.tgisinternal OR (t.tgparentid <> 0 AND t.tgconstraint = 0))
UNION ALL
SELECT n.nspname, c.relname, r.rulename, r.ev_enabled::text, true
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.ev_class = ANY($1) AND r.rulename <> '_RETURN'
ORDER BY 1, 2, 5, 3";

/// Sequences that belong with tables $1: owned by one of their columns
/// (serial, identity), or used by one of their column defaults; and with $2,
/// every other sequence in schemas $3 that no extension and no table left
/// out of the dump (seedpack's history, a migration table) owns.
const SEQUENCES: &str = "
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND (
   EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass
             AND d.refobjid = ANY($1) AND d.deptype IN ('a', 'i'))
   OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
              WHERE d.classid = 'pg_catalog.pg_attrdef'::regclass
                AND d.refclassid = 'pg_catalog.pg_class'::regclass
                AND d.refobjid = c.oid AND ad.adrelid = ANY($1))
   OR ($2 AND n.nspname = ANY($3)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_class'::regclass
                         AND d.objid = c.oid AND d.deptype = 'e')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                       WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                         AND d.refclassid = 'pg_catalog.pg_class'::regclass
                         AND d.deptype IN ('a', 'i') AND d.refobjid <> ALL($1))))
ORDER BY n.nspname, c.relname";

/// Every user table, with columns and primary keys, in (schema, name) order;
/// seedpack's own tables are never among them.
pub async fn list_tables(client: &Client) -> Result<Vec<Table>> {
    let rows = client
        .query(LIST_TABLES, &[&OWN_SCHEMA, &HISTORY_COMMENT])
        .await
        .context("cannot list tables")?;
    with_columns(client, rows.iter().map(table_from_row).collect()).await
}

/// The unique constraints and indexes of tables `oids`, as (table, columns):
/// the keys rows can be matched on.
pub async fn unique_keys(client: &Client, oids: &[u32]) -> Result<Vec<(u32, Vec<String>)>> {
    Ok(client
        .query(UNIQUE_KEYS, &[&oids])
        .await
        .context("cannot read unique keys")?
        .iter()
        .map(|r| (r.get("indrelid"), r.get("columns")))
        .collect())
}

/// Whether two column lists hold the same columns, in any order.
pub fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

/// The tables called any of `names`, in whichever schema.
pub async fn tables_called(client: &Client, names: &[&str]) -> Result<Vec<QualifiedName>> {
    let rows = client
        .query(TABLES_CALLED, &[&names])
        .await
        .context("cannot look for tables by name")?;
    Ok(rows
        .iter()
        .map(|row| qualified(row, "nspname", "relname"))
        .collect())
}

/// The tables with these names that exist; missing names are simply absent.
pub async fn tables_named(client: &Client, names: &[QualifiedName]) -> Result<Vec<Table>> {
    let schemas: Vec<&str> = names.iter().map(|n| n.schema.as_str()).collect();
    let tables: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
    let rows = client
        .query(TABLES_NAMED, &[&schemas, &tables])
        .await
        .context("cannot look up the target tables")?;
    with_columns(client, rows.iter().map(table_from_row).collect()).await
}

fn table_from_row(row: &tokio_postgres::Row) -> Table {
    Table {
        oid: row.get("oid"),
        name: qualified(row, "nspname", "relname"),
        partitioned: row.get("partitioned"),
        has_children: row.get("has_children"),
        columns: Vec::new(),
        primary_key: Vec::new(),
    }
}

async fn with_columns(client: &Client, mut tables: Vec<Table>) -> Result<Vec<Table>> {
    let oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
    let mut columns: HashMap<u32, Vec<Column>> = HashMap::new();
    for row in client
        .query(COLUMNS, &[&oids])
        .await
        .context("cannot read columns")?
    {
        columns
            .entry(row.get("attrelid"))
            .or_default()
            .push(Column {
                name: row.get("attname"),
                type_name: row.get("type_name"),
                not_null: row.get("attnotnull"),
                has_default: row.get("atthasdef"),
                generated: row.get("generated"),
                identity: row.get("identity"),
            });
    }
    let mut keys: HashMap<u32, Vec<String>> = HashMap::new();
    for row in client
        .query(PRIMARY_KEYS, &[&oids])
        .await
        .context("cannot read primary keys")?
    {
        keys.insert(row.get("conrelid"), row.get("columns"));
    }
    for table in &mut tables {
        table.columns = columns.remove(&table.oid).unwrap_or_default();
        table.primary_key = keys.remove(&table.oid).unwrap_or_default();
    }
    Ok(tables)
}

/// The relations (tables and their partitions) of `table_oids`.
pub async fn relations(client: &Client, table_oids: &[u32]) -> Result<Vec<Relation>> {
    let rows = client
        .query(RELATIONS, &[&table_oids])
        .await
        .context("cannot read partitions")?;
    Ok(rows
        .iter()
        .map(|row| Relation {
            oid: row.get("relid"),
            name: qualified(row, "nspname", "relname"),
            table_oid: row.get("root"),
        })
        .collect())
}

/// Schemas of the application's own: not the system's, not seedpack's, not
/// one an extension created.
const USER_SCHEMAS: &str = "
SELECT n.nspname FROM pg_catalog.pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', $1)
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_namespace'::regclass AND d.objid = n.oid
                    AND d.deptype = 'e')
ORDER BY 1";

/// The application's schemas (see [`USER_SCHEMAS`]).
pub async fn user_schemas(client: &Client) -> Result<Vec<String>> {
    Ok(client
        .query(USER_SCHEMAS, &[&OWN_SCHEMA])
        .await
        .context("cannot list schemas")?
        .iter()
        .map(|row| row.get("nspname"))
        .collect())
}

/// The leaf partitions of the partitioned tables `table_oids`.
pub async fn leaves(client: &Client, table_oids: &[u32]) -> Result<Vec<Leaf>> {
    let rows = client
        .query(LEAVES, &[&table_oids])
        .await
        .context("cannot read partitions")?;
    Ok(rows
        .iter()
        .map(|row| Leaf {
            table_oid: row.get("root"),
            name: qualified(row, "nspname", "relname"),
            readable: row.get("readable"),
            bound: row.get("bound"),
        })
        .collect())
}

/// Foreign keys on or referencing any of `relation_oids`.
pub async fn foreign_keys(client: &Client, relation_oids: &[u32]) -> Result<Vec<ForeignKey>> {
    let rows = client
        .query(FOREIGN_KEYS, &[&relation_oids])
        .await
        .context("cannot read foreign keys")?;
    Ok(rows
        .iter()
        .map(|row| ForeignKey {
            name: row.get("conname"),
            relation_oid: row.get("conrelid"),
            relation: qualified(row, "relation_schema", "relation_name"),
            table_oid: row.get("table_oid"),
            referenced_oid: row.get("referenced_oid"),
            referenced: qualified(row, "referenced_schema", "referenced_name"),
            columns: row.get("columns"),
            referenced_columns: row.get("referenced_columns"),
            definition: row.get("definition"),
            deferrable: row.get("condeferrable"),
            initially_deferred: row.get("condeferred"),
            comment: row.get("comment"),
        })
        .collect())
}

/// User triggers on any of `relation_oids`.
pub async fn triggers(client: &Client, relation_oids: &[u32]) -> Result<Vec<Trigger>> {
    let rows = client
        .query(TRIGGERS, &[&relation_oids])
        .await
        .context("cannot read triggers")?;
    rows.iter()
        .map(|row| {
            let code: String = row.get("state");
            Ok(Trigger {
                relation: qualified(row, "nspname", "relname"),
                name: row.get("tgname"),
                state: TriggerState::from_catalog(&code)
                    .with_context(|| format!("unknown trigger state {code:?}"))?,
                rule: row.get("rule"),
            })
        })
        .collect()
}

/// Sequences of `table_oids`, plus, when `all_in_schemas`, every sequence
/// in `schemas`.
pub async fn sequences_for(
    client: &Client,
    table_oids: &[u32],
    all_in_schemas: bool,
    schemas: &[String],
) -> Result<Vec<QualifiedName>> {
    let rows = client
        .query(SEQUENCES, &[&table_oids, &all_in_schemas, &schemas])
        .await
        .context("cannot read sequences")?;
    Ok(rows
        .iter()
        .map(|row| qualified(row, "nspname", "relname"))
        .collect())
}

/// A sequence's (last_value, is_called).
pub async fn sequence_state(client: &Client, sequence: &QualifiedName) -> Result<(i64, bool)> {
    let row = client
        .query_one(&sql::read_sequence(sequence), &[])
        .await
        .with_context(|| format!("cannot read sequence {sequence}"))?;
    Ok((row.get("last_value"), row.get("is_called")))
}

/// A schema-qualified name from two text columns of `row`.
pub fn qualified(row: &tokio_postgres::Row, schema: &str, name: &str) -> QualifiedName {
    QualifiedName::new(row.get::<_, String>(schema), row.get::<_, String>(name))
}
