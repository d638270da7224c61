//! Planner statistics of tables, their partitions and their indexes, as a
//! PostgreSQL 18 or newer server's `pg_class` and `pg_stats` hold them.
//!
//! One query over every relation, streamed: a relation's column statistics
//! come aggregated in its row (through `pg_stats`, which shows what the
//! reading role may see; `pg_statistic` is superuser-only), so the client
//! holds one relation at a time whatever the histograms weigh. Relations
//! never analyzed or vacuumed (`reltuples` -1) carry nothing.

use anyhow::{Context, Result};
use futures_util::{Stream, StreamExt};
use tokio_postgres::Client;

use crate::artifact::{ColumnStatistics, RelationStatistics};
use crate::ident::QualifiedName;

/// The first server version with `pg_restore_relation_stats` and
/// `pg_restore_attribute_stats`.
pub const STATISTICS_VERSION: u32 = 180_000;

/// $1: the tables' oids. Partitions are found down from them, indexes on
/// any of those; each relation names the table it belongs to.
const STATISTICS: &str = "
WITH RECURSIVE tree(oid, root) AS (
    SELECT t, t FROM unnest($1::oid[]) AS t
    UNION ALL
    SELECT i.inhrelid, tree.root
    FROM pg_catalog.pg_inherits i
    JOIN tree ON i.inhparent = tree.oid
    JOIN pg_catalog.pg_class p ON p.oid = i.inhrelid AND p.relispartition
), relations(oid, root) AS (
    SELECT oid, root FROM tree
    UNION ALL
    SELECT x.indexrelid, tree.root FROM pg_catalog.pg_index x JOIN tree ON x.indrelid = tree.oid
)
SELECT rn.nspname AS table_schema, rc.relname AS table_name, n.nspname, c.relname,
       CASE WHEN c.relkind IN ('i', 'I') THEN pg_catalog.pg_get_indexdef(c.oid)
            WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END
         AS definition,
       pg_catalog.json_build_object(
         'relpages', c.relpages::text, 'reltuples', c.reltuples::text,
         'relallvisible', c.relallvisible::text, 'relallfrozen', c.relallfrozen::text
       )::text AS relation,
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
                 'attname', CASE WHEN c.relkind NOT IN ('i', 'I') THEN s.attname END,
                 'attnum', CASE WHEN c.relkind IN ('i', 'I') THEN a.attnum END,
                 'inherited', s.inherited,
                 'values', pg_catalog.json_strip_nulls(pg_catalog.json_build_object(
                   'null_frac', s.null_frac::text,
                   'avg_width', s.avg_width::text,
                   'n_distinct', s.n_distinct::text,
                   'most_common_vals', s.most_common_vals::text,
                   'most_common_freqs', s.most_common_freqs::text,
                   'histogram_bounds', s.histogram_bounds::text,
                   'correlation', s.correlation::text,
                   'most_common_elems', s.most_common_elems::text,
                   'most_common_elem_freqs', s.most_common_elem_freqs::text,
                   'elem_count_histogram', s.elem_count_histogram::text,
                   'range_length_histogram', s.range_length_histogram::text,
                   'range_empty_frac', s.range_empty_frac::text,
                   'range_bounds_histogram', s.range_bounds_histogram::text))
               ) ORDER BY s.inherited, a.attnum)
        FROM pg_catalog.pg_stats s
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
        WHERE s.schemaname = n.nspname AND s.tablename = c.relname)::text AS columns
FROM relations r
JOIN pg_catalog.pg_class c ON c.oid = r.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class rc ON rc.oid = r.root
JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
WHERE c.reltuples >= 0
ORDER BY n.nspname, c.relname";

/// The statistics of `tables` (oids), their partitions and their indexes,
/// one relation at a time, in name order.
pub async fn statistics(
    client: &Client,
    tables: Vec<u32>,
) -> Result<impl Stream<Item = Result<RelationStatistics>> + '_> {
    let rows = client
        .query_raw(STATISTICS, [tables])
        .await
        .context("cannot read the planner statistics")?;
    Ok(rows.map(|row| {
        let row = row.context("cannot read the planner statistics")?;
        let columns: Option<String> = row.get("columns");
        let columns: Vec<ColumnStatistics> = match columns {
            Some(json) => serde_json::from_str(&json)?,
            None => Vec::new(),
        };
        Ok(RelationStatistics {
            table: QualifiedName::new(
                row.get::<_, String>("table_schema"),
                row.get::<_, String>("table_name"),
            ),
            schema: row.get("nspname"),
            name: row.get("relname"),
            definition: row.get("definition"),
            relation: serde_json::from_str(row.get("relation"))?,
            columns,
        })
    }))
}
