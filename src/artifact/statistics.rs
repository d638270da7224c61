//! Planner statistics carried from a PostgreSQL 18 source: one JSON line per
//! relation (a table, a leaf partition or an index) in a member of their
//! own, so that a manifest stays small whatever the histograms weigh and a
//! restore streams them.
//!
//! Values keep the text form the source's `pg_class` and `pg_stats` print
//! (arrays included); the names are those of PostgreSQL's
//! `pg_restore_relation_stats` and `pg_restore_attribute_stats` arguments.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};

use super::{ArtifactError, DataDigest, Method, StatisticsEntry};
use crate::ident::QualifiedName;

/// The statistics of one relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationStatistics {
    /// The artifact's table the relation is, or is a partition or index of.
    pub table: QualifiedName,
    pub schema: String,
    pub name: String,
    /// What the target's relation must match for these numbers to describe
    /// it: an index's definition (`pg_get_indexdef`) or a partition's bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// `relpages`, `reltuples`, `relallvisible`, `relallfrozen`.
    pub relation: BTreeMap<String, String>,
    pub columns: Vec<ColumnStatistics>,
}

/// The statistics of one column, or one expression column of an index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStatistics {
    /// A table's column, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attname: Option<String>,
    /// An index's column, by position: index column names are made up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attnum: Option<i16>,
    /// Over the table and its inheritance children, not the table alone.
    pub inherited: bool,
    /// `null_frac`, `most_common_vals`, `histogram_bounds`, ...
    pub values: BTreeMap<String, String>,
}

/// Name of the statistics member, stored with `method`.
pub fn statistics_member_name(method: Method) -> String {
    format!("statistics.jsonl{}", method.extension())
}

/// The longest line accepted: a relation with every column's histograms
/// full of wide values (the server keeps at most 1 kB of each) is a few
/// megabytes.
const LINE_LIMIT: u64 = 64 << 20;

/// Read the statistics lines of `data`, handing each relation to `each`
/// (which returns false to stop early), then check what was read against
/// `entry`: a damaged or hostile member fails here, whole.
pub fn read_statistics(
    data: impl Read,
    entry: &StatisticsEntry,
    mut each: impl FnMut(RelationStatistics) -> bool,
) -> Result<(), ArtifactError> {
    let damaged = |why: String| ArtifactError::Damaged(format!("planner statistics: {why}"));
    let mut data = BufReader::with_capacity(1 << 16, data);
    let mut digest = DataDigest::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut data)
            .take(LINE_LIMIT)
            .read_until(b'\n', &mut line)
            .map_err(|e| damaged(e.to_string()))?;
        if read == 0 {
            break;
        }
        digest.update(&line);
        if line.last() != Some(&b'\n') {
            return Err(damaged("a line too long or unended".into()));
        }
        let relation = serde_json::from_slice(&line).map_err(|e| damaged(e.to_string()))?;
        if !each(relation) {
            return Ok(());
        }
    }
    check_digest(entry, digest)
}

/// Statistics of a relation that is none of the artifact's tables, nor a
/// partition or index of one.
pub fn stray_statistics(relation: &RelationStatistics) -> ArtifactError {
    ArtifactError::Damaged(format!(
        "planner statistics of {}.{} name {}, which the artifact does not hold",
        relation.schema, relation.name, relation.table
    ))
}

/// Compare what was read with the manifest's entry.
fn check_digest(entry: &StatisticsEntry, digest: DataDigest) -> Result<(), ArtifactError> {
    if digest.rows() != entry.relations || digest.bytes() != entry.bytes {
        return Err(ArtifactError::Damaged(format!(
            "the planner statistics hold {} lines in {} bytes, the manifest says {} in {}",
            digest.rows(),
            digest.bytes(),
            entry.relations,
            entry.bytes
        )));
    }
    let actual = digest.finish();
    if actual != entry.data_sha256 {
        return Err(ArtifactError::ChecksumMismatch {
            table: "(planner statistics)".into(),
            what: "data",
            expected: entry.data_sha256.clone(),
            actual,
        });
    }
    Ok(())
}
