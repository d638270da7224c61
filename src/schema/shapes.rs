//! The shape of dumped relations as the catalog holds it: each one's shell
//! (persistence, partitioning, parents, options, access method, type) and
//! columns (type, collation, default, identity, generation, storage).

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

/// The shell of relations $1: persistence, partitioning, inheritance, options.
const RELATIONS: &str = "
SELECT c.oid, c.oid::regclass::text AS name, c.relpersistence = 'u' AS unlogged,
       c.relkind = 'p' AS partitioned, c.relispartition AS is_partition,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       ARRAY(SELECT i.inhparent::regclass::text FROM pg_catalog.pg_inherits i
             WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
       c.reloptions::text[]
         || ARRAY(SELECT 'toast.' || o FROM pg_catalog.pg_class tc, unnest(tc.reloptions) AS o
                  WHERE tc.oid = c.reltoastrelid) AS options,
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
       a.attnotnull AND COALESCE(nn.convalidated, true) AS attnotnull,
       CASE WHEN nn.conname <> c.relname || '_' || a.attname || '_not_null' THEN nn.conname::text END
         AS not_null_name,
       COALESCE(nn.connoinherit, false) AS not_null_no_inherit,
       nn.conname::text AS not_null_constraint,
       COALESCE(nn.conislocal, false) AS not_null_local,
       a.attidentity::text AS identity, a.attgenerated::text AS generated,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expression, a.attislocal,
       a.attinhcount > 0 AND NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_inherits i
         JOIN pg_catalog.pg_attribute p ON p.attrelid = i.inhparent AND p.attname = a.attname
         LEFT JOIN pg_catalog.pg_attrdef pd ON pd.adrelid = p.attrelid AND pd.adnum = p.attnum
         WHERE i.inhrelid = a.attrelid
           AND (p.attgenerated = '' OR pg_catalog.pg_get_expr(pd.adbin, pd.adrelid)
                                       IS DISTINCT FROM pg_catalog.pg_get_expr(d.adbin, d.adrelid)))
         AS inherited,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
       {compression} AS compression,
       -- Identity columns only, and by pg_depend's reference index
       -- (refclassid first): without it, one scan of pg_depend per column.
       seq.name AS identity_sequence, seq.unlogged AS identity_unlogged
FROM pg_catalog.pg_attribute a
LEFT JOIN LATERAL (
    SELECT c.oid::regclass::text AS name, c.relpersistence = 'u' AS unlogged
    FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_class c ON c.oid = dep.objid AND c.relkind = 'S'
    WHERE a.attidentity <> '' AND dep.refclassid = 'pg_catalog.pg_class'::regclass
      AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
      AND dep.classid = 'pg_catalog.pg_class'::regclass AND dep.deptype = 'i') AS seq ON true
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
-- From PostgreSQL 18 a NOT NULL is a constraint with a name, possibly NO
-- INHERIT or NOT VALID (added after the data, by constraints.rs).
LEFT JOIN pg_catalog.pg_constraint nn
  ON nn.conrelid = a.attrelid AND nn.contype = 'n' AND nn.conkey = ARRAY[a.attnum]
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum";

#[derive(Clone)]
pub(super) struct Shell {
    pub(super) name: String,
    pub(super) unlogged: bool,
    pub(super) partitioned: bool,
    pub(super) is_partition: bool,
    pub(super) partition_key: Option<String>,
    pub(super) partition_bound: Option<String>,
    pub(super) parents: Vec<String>,
    pub(super) options: Option<Vec<String>>,
    /// A table access method other than heap.
    pub(super) access_method: Option<String>,
    /// A typed table's composite type (`CREATE TABLE ... OF type`).
    pub(super) of_type: Option<String>,
}

#[derive(Clone)]
pub(super) struct ColumnDef {
    pub(super) name: String,
    pub(super) type_name: String,
    pub(super) collation: Option<String>,
    /// NOT NULL and validated (a NOT VALID one is added after the data).
    pub(super) not_null: bool,
    /// The NOT NULL constraint's name, when not the default (18 and later).
    pub(super) not_null_name: Option<String>,
    /// NOT NULL NO INHERIT (18 and later).
    pub(super) not_null_no_inherit: bool,
    /// The NOT NULL constraint's name, default or not (18 and later).
    pub(super) not_null_constraint: Option<String>,
    /// The NOT NULL constraint is the relation's own, whether or not it
    /// also comes from a parent (18 and later).
    pub(super) not_null_local: bool,
    pub(super) identity: String,
    pub(super) generated: String,
    pub(super) default: Option<String>,
    pub(super) local: bool,
    /// Generated by every parent with the same expression: an inheritance
    /// child's generated column takes it and may not state one (before
    /// PostgreSQL 16), so it is left out, as pg_dump does. A child that
    /// generates a column its parent does not, or (16 and later) with an
    /// expression of its own or under parents that disagree, states it.
    pub(super) inherited: bool,
    /// Storage other than its type's (`p`, `e`, `m`, `x`).
    pub(super) storage: Option<String>,
    /// Compression other than the server's default (`pglz`, `lz4`).
    pub(super) compression: Option<String>,
    pub(super) identity_sequence: Option<String>,
    /// The identity sequence is unlogged (PostgreSQL 15 and later).
    pub(super) identity_unlogged: bool,
}

/// The shell of each relation, by oid.
pub(super) async fn read_shells(client: &Client, oids: &[u32]) -> Result<HashMap<u32, Shell>> {
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
pub(super) async fn read_columns(
    client: &Client,
    oids: &[u32],
) -> Result<HashMap<u32, Vec<ColumnDef>>> {
    // attcompression is new in PostgreSQL 14. Not read through the whole
    // row (`to_jsonb(a)`) as elsewhere: here that is most of the query's
    // time, at thousands of columns.
    let version: String = client
        .query_one("SHOW server_version_num", &[])
        .await
        .context("cannot read the server's version")?
        .get(0);
    let compression = match version.parse::<u32>() {
        Ok(v) if v >= 140_000 => "NULLIF(a.attcompression::text, '')",
        _ => "NULL::text",
    };
    let mut columns: HashMap<u32, Vec<ColumnDef>> = HashMap::new();
    for row in client
        .query(&COLUMNS.replace("{compression}", compression), &[&oids])
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
                not_null_name: row.get("not_null_name"),
                not_null_no_inherit: row.get("not_null_no_inherit"),
                not_null_constraint: row.get("not_null_constraint"),
                not_null_local: row.get("not_null_local"),
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
                identity_unlogged: row
                    .get::<_, Option<bool>>("identity_unlogged")
                    .unwrap_or(false),
            });
    }
    Ok(columns)
}
