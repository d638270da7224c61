//! The statements that set planner statistics and analyze restored tables.
//!
//! The statistics statements find their relation from bind parameters and
//! run only where it is the one the statistics describe, so a statistics
//! line can never touch another relation: $2, $3 the relation's schema and
//! name; $4, $5 the artifact table it belongs to (itself, or the root of its
//! partitions, or the table of its index); $6 its definition (an index's,
//! or a partition's bound), which must be the target's. The restoring role
//! must hold MAINTAIN on it. $1 is the source's server version. Values are
//! text, cast on the server as each argument takes them.

use crate::ident::QualifiedName;

/// The relation `$2.$3` when it is the one described (see the module).
macro_rules! described_relation {
    () => {
        "FROM (SELECT c.oid, c.relkind, c.relispartition, c.relpartbound,
                      COALESCE((SELECT x.indrelid FROM pg_catalog.pg_index x
                                WHERE x.indexrelid = c.oid), c.oid) AS owner
               FROM pg_catalog.pg_class c
               WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', $2::text, $3::text))
              ) r
         WHERE pg_catalog.has_table_privilege(r.oid, 'MAINTAIN')
           AND COALESCE(pg_catalog.pg_partition_root(r.owner), r.owner)
               = pg_catalog.to_regclass(pg_catalog.format('%I.%I', $4::text, $5::text))
           AND $6::text IS NOT DISTINCT FROM
               CASE WHEN r.relkind IN ('i', 'I') THEN pg_catalog.pg_get_indexdef(r.oid)
                    WHEN r.relispartition THEN pg_catalog.pg_get_expr(r.relpartbound, r.oid) END"
    };
}

/// A relation's statistics: $7 relpages, $8 reltuples, $9 relallvisible,
/// $10 relallfrozen. One row when set, none when not the relation.
pub const RESTORE_RELATION_STATS: &str = concat!(
    "SELECT pg_catalog.pg_restore_relation_stats(
        'version', $1::int4, 'schemaname', $2::text, 'relname', $3::text,
        'relpages', $7::text::int4, 'reltuples', $8::text::float4,
        'relallvisible', $9::text::int4, 'relallfrozen', $10::text::int4) ",
    described_relation!()
);

/// A column's statistics: $7 the table column's name, $8 to $20 the
/// statistics in `pg_stats`' order, $21 an index column's number, $22
/// whether they cover inheritance children. The column must exist.
pub const RESTORE_ATTRIBUTE_STATS: &str = concat!(
    "SELECT pg_catalog.pg_restore_attribute_stats(
        'version', $1::int4, 'schemaname', $2::text, 'relname', $3::text,
        'attname', $7::text, 'attnum', $21::int2, 'inherited', $22::bool,
        'null_frac', $8::text::float4, 'avg_width', $9::text::int4,
        'n_distinct', $10::text::float4, 'most_common_vals', $11::text,
        'most_common_freqs', $12::text::float4[], 'histogram_bounds', $13::text,
        'correlation', $14::text::float4, 'most_common_elems', $15::text,
        'most_common_elem_freqs', $16::text::float4[],
        'elem_count_histogram', $17::text::float4[],
        'range_length_histogram', $18::text, 'range_empty_frac', $19::text::float4,
        'range_bounds_histogram', $20::text) ",
    described_relation!(),
    "
           AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
                       WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
                         AND (a.attname = $7::text OR a.attnum = $21::int2))"
);

/// Which of the tables $1 (schemas), $2 (names) the current role owns or
/// is a member of the owner of: ANALYZE skips the others with a warning.
pub const OWNED_TABLES: &str = "
SELECT t.schema, t.name
FROM unnest($1::text[], $2::text[]) AS t(schema, name)
JOIN pg_catalog.pg_class c
  ON c.oid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', t.schema, t.name))
WHERE pg_catalog.pg_has_role(c.relowner, 'USAGE')";

pub fn analyze(tables: &[&QualifiedName]) -> String {
    let list: Vec<String> = tables.iter().map(|t| t.quoted()).collect();
    format!("ANALYZE {}", list.join(", "))
}
