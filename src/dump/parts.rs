//! Cutting a dump into parts that several connections can read at once.
//!
//! A part is a whole table, one leaf partition of a partitioned table
//! (read directly, so that a restore can load each leaf frozen; see
//! `TableEntry::partitions`), or, for a large table read in key order, a
//! range of its primary key's first column. Ranges come from the column's
//! histogram in `pg_stats`: free to read, and only a guide, since the ranges
//! cover the whole key space whatever the bounds are. Read one after another
//! in key order, the parts of a table are exactly the table in key order, so
//! splitting never changes the artifact's bytes.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::catalog::{self, Leaf, Table};
use crate::pg::sql::KeyRange;

/// Heap bytes per part of a split table.
const PART_BYTES: i64 = 8 << 20;

/// Some of a table's rows: all of them, or one key range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Position of the table in the dump.
    pub table: usize,
    pub bounds: Option<Bounds>,
    /// The leaf partition this part reads, of a partitioned table.
    pub leaf: Option<Leaf>,
}

/// `lower <= first key column < upper`, as the column's text; `None` is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    pub lower: Option<String>,
    pub upper: Option<String>,
}

impl Bounds {
    /// The range predicate for `table`'s COPY.
    pub fn key_range<'a>(&self, table: &'a Table) -> KeyRange<'a> {
        let column = table.primary_key[0].as_str();
        let type_name = table
            .columns
            .iter()
            .find(|c| c.name == column)
            .map(|c| c.type_name.as_str())
            .expect("primary key column is a column");
        KeyRange {
            column,
            type_name,
            lower: self.lower.is_some(),
            upper: self.upper.is_some(),
        }
    }
}

/// The parts of `tables`, in order. Tables are split only for more than one
/// reader, in key order, and when large enough to be worth it.
pub async fn plan(
    client: &Client,
    tables: &[Table],
    readers: usize,
    ordered: bool,
) -> Result<Vec<Part>> {
    let splittable: Vec<usize> = (0..tables.len())
        .filter(|&i| {
            readers > 1 && ordered && !tables[i].partitioned && !tables[i].primary_key.is_empty()
        })
        .collect();
    let mut histograms = vec![None; tables.len()];
    if !splittable.is_empty() {
        let oids: Vec<u32> = splittable.iter().map(|&i| tables[i].oid).collect();
        let columns: Vec<&str> = splittable
            .iter()
            .map(|&i| tables[i].primary_key[0].as_str())
            .collect();
        let rows = client
            .query(HISTOGRAMS, &[&oids, &columns, &(2 * PART_BYTES)])
            .await
            .context("cannot read table sizes and key statistics")?;
        for (&i, row) in splittable.iter().zip(rows) {
            histograms[i] = Some((
                row.get::<_, i64>("bytes"),
                row.get::<_, Option<Vec<String>>>("bounds"),
            ));
        }
    }
    let mut leaves = leaves_read_directly(client, tables).await?;
    let mut parts = Vec::with_capacity(tables.len());
    for (table, histogram) in histograms.into_iter().enumerate() {
        if let Some(leaves) = leaves.remove(&tables[table].oid) {
            parts.extend(leaves.into_iter().map(|leaf| Part {
                table,
                bounds: None,
                leaf: Some(leaf),
            }));
            continue;
        }
        let cuts = match histogram {
            Some((bytes, Some(bounds))) => cuts(&bounds, (bytes / PART_BYTES) as usize),
            _ => Vec::new(),
        };
        if cuts.is_empty() {
            parts.push(Part {
                table,
                bounds: None,
                leaf: None,
            });
            continue;
        }
        let mut lower = None;
        for cut in cuts.into_iter().map(Some).chain([None]) {
            parts.push(Part {
                table,
                bounds: Some(Bounds {
                    lower: lower.clone(),
                    upper: cut.clone(),
                }),
                leaf: None,
            });
            lower = cut;
        }
    }
    Ok(parts)
}

/// The leaf partitions of each partitioned table all of whose leaves the
/// session can read directly, by table. A table with a leaf it cannot (a
/// foreign table, row security of its own, no privilege) is read through
/// the table, as a whole.
async fn leaves_read_directly(
    client: &Client,
    tables: &[Table],
) -> Result<HashMap<u32, Vec<Leaf>>> {
    let partitioned: Vec<u32> = tables
        .iter()
        .filter(|t| t.partitioned)
        .map(|t| t.oid)
        .collect();
    let mut by_table: HashMap<u32, Vec<Leaf>> = HashMap::new();
    if partitioned.is_empty() {
        return Ok(by_table);
    }
    for leaf in catalog::leaves(client, &partitioned).await? {
        by_table.entry(leaf.table_oid).or_default().push(leaf);
    }
    by_table.retain(|_, leaves| leaves.iter().all(|l| l.readable));
    Ok(by_table)
}

/// Size of each table as its last VACUUM or ANALYZE saw it, and the
/// histogram of its key's first column (`$2`, in the order of `$1`) as
/// text where that size is `$3` bytes or more (a smaller table is not
/// split, and `pg_stats` costs a lookup per table); `NULL` where the table
/// was never analyzed (the ANALYZE that makes a histogram also records the
/// size), or where the column is an array (its bounds would not read back
/// as text[]). Not `pg_relation_size`: it opens every table.
const HISTOGRAMS: &str = "\
SELECT k.bytes,
       CASE WHEN k.bytes >= $3 THEN
         (SELECT s.histogram_bounds::text::text[] FROM pg_catalog.pg_stats s
           WHERE s.schemaname = n.nspname AND s.tablename = c.relname
             AND s.attname = k.col AND NOT s.inherited AND t.typcategory <> 'A') END AS bounds
  FROM (SELECT u.oid, u.col, u.position,
               r.relpages::bigint * pg_catalog.current_setting('block_size')::bigint AS bytes
        FROM unnest($1::oid[], $2::text[]) WITH ORDINALITY AS u(oid, col, position)
        JOIN pg_catalog.pg_class r ON r.oid = u.oid) AS k
  JOIN pg_catalog.pg_class c ON c.oid = k.oid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = k.oid AND a.attname = k.col
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
 ORDER BY k.position";

/// At most `parts - 1` cut points, evenly spaced through the histogram's
/// `bounds` (ascending), without repeats. None for fewer than two parts.
fn cuts(bounds: &[String], parts: usize) -> Vec<String> {
    let buckets = bounds.len().saturating_sub(1);
    let parts = parts.min(buckets);
    if parts < 2 {
        return Vec::new();
    }
    let mut cuts: Vec<String> = (1..parts)
        .map(|i| bounds[i * buckets / parts].clone())
        .collect();
    cuts.dedup();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(n: usize) -> Vec<String> {
        (0..n).map(|i| (i * 10).to_string()).collect()
    }

    #[test]
    fn cuts_spread_evenly_through_the_histogram() {
        assert_eq!(cuts(&bounds(101), 4), ["250", "500", "750"]);
        assert_eq!(cuts(&bounds(101), 2), ["500"]);
    }

    #[test]
    fn no_cuts_for_one_part_or_a_short_histogram() {
        assert!(cuts(&bounds(101), 1).is_empty());
        assert!(cuts(&bounds(101), 0).is_empty());
        assert!(cuts(&bounds(1), 8).is_empty());
        assert!(cuts(&[], 8).is_empty());
    }

    #[test]
    fn more_parts_than_buckets_are_capped_and_repeats_dropped() {
        assert_eq!(cuts(&bounds(3), 50), ["10"]);
        let repeated: Vec<String> = ["1", "1", "1", "2", "3"].map(String::from).to_vec();
        assert_eq!(cuts(&repeated, 4), ["1", "2"]);
    }
}
