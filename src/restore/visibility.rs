//! What a transaction whose snapshot is older than a replace sees of the
//! tables once the replace commits, and so how the replace loads them.
//!
//! - Frozen (the default): each table is emptied with `TRUNCATE` and loaded
//!   with `COPY ... FREEZE`, a partitioned table leaf by leaf. Frozen rows
//!   are visible to every snapshot: the old transaction sees the new data,
//!   in every table. (It cannot have read any of them before: the replace
//!   waits for its locks.)
//! - MVCC-safe (`--mvcc-safe`): each table is emptied with `DELETE` and
//!   loaded without `FREEZE`: the old transaction keeps seeing the old
//!   data, in every table. It costs more (dead rows for vacuum, the table
//!   twice its size until then); see the README's figures.
//!
//! Into existing tables that are all empty, a replace loads unfrozen:
//! there is nothing to hide from older snapshots, which see every table
//! empty, and nothing to truncate.
//!
//! Either way every table behaves the same. A partitioned table that
//! cannot be loaded leaf by leaf (an artifact without its leaves' shares,
//! or a target whose leaves are not the artifact's) cannot be frozen, so a
//! replace holding one is MVCC-safe throughout, and says why.

use std::collections::HashSet;

use super::target::Target;
use crate::artifact::{Manifest, TableEntry, TableKind};

/// How a replace empties and loads its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// `TRUNCATE`, then `COPY ... FREEZE`, leaf by leaf.
    Frozen,
    /// `DELETE`, then plain `COPY`.
    MvccSafe,
}

/// How to load, and a sentence when a replace that was not asked to be
/// MVCC-safe must be, naming the table that makes it so.
pub fn choose(manifest: &Manifest, target: &Target, mvcc_safe: bool) -> (Loading, Option<String>) {
    if mvcc_safe {
        return (Loading::MvccSafe, None);
    }
    let leaves: HashSet<(&str, &str, &str)> = target
        .leaves
        .iter()
        .map(|l| {
            (
                l.name.schema.as_str(),
                l.name.name.as_str(),
                l.bound.as_str(),
            )
        })
        .collect();
    let unfreezable = manifest.tables.iter().find_map(|entry| {
        let why = why_unfreezable(entry, target, &leaves)?;
        Some(format!("table {} {why}", entry.name))
    });
    match unfreezable {
        None => (Loading::Frozen, None),
        Some(why) => (
            Loading::MvccSafe,
            Some(format!(
                "{why}, so it cannot be loaded frozen; every table is emptied with DELETE and \
                 loaded unfrozen (as with --mvcc-safe), so that transactions older than the \
                 restore keep seeing the old data in all of them"
            )),
        ),
    }
}

/// A replace into existing tables that are all empty (a schema just
/// migrated) truncates nothing and loads unfrozen: a `TRUNCATE` replaces
/// every table's files and indexes, which at a thousand small tables costs
/// more than the load (2.4 s of 3.2), and unfrozen rows keep the promise
/// just as well, since an older snapshot sees the old data, empty, in every
/// table.
pub fn when_all_empty(loading: Loading, target: &Target) -> Loading {
    let all_empty =
        !target.tables.is_empty() && target.row_counts.iter().flatten().all(|&rows| rows == 0);
    match loading {
        Loading::Frozen if all_empty => Loading::MvccSafe,
        _ => loading,
    }
}

/// Why a table cannot be loaded frozen, if it cannot.
fn why_unfreezable(
    entry: &TableEntry,
    target: &Target,
    leaves: &HashSet<(&str, &str, &str)>,
) -> Option<&'static str> {
    if entry.kind != TableKind::Partitioned || entry.rows == 0 {
        return None;
    }
    if entry.partitions.is_empty() {
        return Some("was dumped through its partitioned table, not leaf by leaf");
    }
    // A table to be created gets the artifact's own leaves.
    if target.missing.contains(&entry.name) {
        return None;
    }
    let same = entry.partitions.iter().all(|p| {
        leaves.contains(&(
            p.name.schema.as_str(),
            p.name.name.as_str(),
            p.bound.as_str(),
        ))
    });
    (!same).then_some("has partitions in the target other than the artifact's")
}
