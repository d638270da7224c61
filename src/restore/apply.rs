//! The writes of a restore, in order, inside its open transaction: lock,
//! suspend what the load must not trip (triggers, foreign keys), empty,
//! load, put everything back exactly, set sequences, and re-count.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tokio_postgres::Client;

use super::clean::Clean;
use super::create::CreatePlan;
use super::merge::{self, MergeKey};
use super::target::{self, Target};
use super::{constraints, load};
use crate::artifact::{ArtifactReader, Manifest, Phase, SequenceEntry, TableKind};
use crate::catalog::{self, ForeignKey};
use crate::config::RestoreConfig;
use crate::history::TableCounts;
use crate::ident::QualifiedName;
use crate::mode::Mode;
use crate::pg::sql;
use crate::progress::Progress;

/// What the restore found and decided before its first write.
#[derive(Debug)]
pub(super) struct Prepared {
    pub target: Target,
    pub clean: Option<Clean>,
    pub create: CreatePlan,
    /// The merge key of each table the target has (merge modes only).
    pub keys: Vec<MergeKey>,
}

/// Run the writes. Returns what happened to each of the artifact's tables.
pub(super) async fn apply(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    prepared: &Prepared,
    loads_data: bool,
    config: &RestoreConfig,
    progress: &dyn Progress,
) -> Result<Vec<TableCounts>> {
    let target = &prepared.target;
    let replace = config.mode == Mode::Replace;
    if loads_data {
        lock(client, target, replace).await?;
    }
    prepared.create.run(client, Phase::PreData).await?;
    if !loads_data {
        prepared.create.run(client, Phase::PostData).await?;
        return Ok(Vec::new());
    }
    let manifest = reader.manifest();
    target::check_sequences(client, manifest).await?;

    // Replace empties the tables, so keys pointing into them from outside
    // go too; the merge modes delete nothing and only need the artifact's own
    // keys out of the way (cycles, self-references).
    let suspended: Vec<&ForeignKey> = if replace {
        target.all_foreign_keys().collect()
    } else {
        target.foreign_keys.iter().collect()
    };
    constraints::disable_triggers(client, &target.triggers).await?;
    constraints::drop_foreign_keys(client, suspended.iter().copied()).await?;
    if replace {
        empty(client, target).await?;
    }
    progress.begin(
        "restore",
        manifest.tables.len(),
        Some(manifest.total_bytes()),
    );
    let loaded = load_all(client, reader, prepared, config.mode, progress).await;
    let changed = match loaded {
        Ok(changed) => changed,
        Err(e) => {
            progress.finish();
            return Err(e);
        }
    };
    progress.phase("keys, indexes, foreign keys, triggers");
    let reinstated = reinstate(client, prepared, &suspended).await;
    progress.finish();
    reinstated?;
    set_sequences(client, manifest, replace).await?;
    count(client, manifest, target, changed).await
}

/// Put back what the load suspended, and create what comes after the data.
async fn reinstate(client: &Client, prepared: &Prepared, suspended: &[&ForeignKey]) -> Result<()> {
    constraints::add_foreign_keys(client, suspended.iter().copied()).await?;
    constraints::restore_triggers(client, &prepared.target.triggers).await?;
    prepared.create.run(client, Phase::PostData).await
}

/// Lock the tables the load touches. A replace re-checks for rows outside
/// the artifact that arrived between the first check and the lock.
async fn lock(client: &Client, target: &Target, replace: bool) -> Result<()> {
    if target.tables.is_empty() {
        return Ok(());
    }
    client
        .batch_execute(&sql::lock_for_restore(&target.tables_to_lock()))
        .await
        .context(
            "cannot lock the target tables (another session holds a lock; see --lock-timeout)",
        )?;
    if replace {
        target.check_outside_references(client).await?;
    }
    Ok(())
}

/// Empty the target's tables in one statement.
async fn empty(client: &Client, target: &Target) -> Result<()> {
    if target.tables.is_empty() {
        return Ok(());
    }
    let tables: Vec<(&QualifiedName, bool)> = target
        .tables
        .iter()
        .map(|t| (&t.name, t.partitioned))
        .collect();
    client
        .batch_execute(&sql::truncate(&tables))
        .await
        .context("cannot empty the target tables")?;
    Ok(())
}

/// Load every table in the artifact's order: merged into an existing table
/// (merge modes), or copied into an emptied or new one. Returns, per table,
/// the rows a merge inserted or changed (`None` for a plain load).
async fn load_all(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    prepared: &Prepared,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<Vec<Option<u64>>> {
    let manifest = reader.manifest();
    let mut changed = vec![None; manifest.tables.len()];
    for (position, entry) in manifest.tables.iter().enumerate() {
        let existing = prepared
            .target
            .tables
            .iter()
            .position(|t| t.name == entry.name);
        match existing {
            Some(i) if mode != Mode::Replace => {
                let key = &prepared.keys[i];
                let update = mode == Mode::Upsert;
                let merged = merge::merge_table(
                    client,
                    reader,
                    position,
                    progress,
                    &entry.name,
                    key,
                    update,
                )
                .await
                .with_context(|| format!("cannot merge table {}", entry.name))?;
                changed[position] = Some(merged);
            }
            _ => {
                // Created or truncated in this transaction: loaded frozen.
                let freeze = entry.kind != TableKind::Partitioned;
                load::load_table(client, reader, position, progress, &entry.name, freeze)
                    .await
                    .with_context(|| format!("cannot load table {}", entry.name))?;
            }
        }
    }
    Ok(changed)
}

/// Set sequences to their dumped state; a merge never moves one back under
/// rows the target already has.
async fn set_sequences(client: &Client, manifest: &Manifest, replace: bool) -> Result<()> {
    if replace {
        return constraints::set_sequences(client, &manifest.sequences).await;
    }
    let mut forward: Vec<SequenceEntry> = Vec::new();
    for sequence in &manifest.sequences {
        let (last_value, is_called) = catalog::sequence_state(client, &sequence.name).await?;
        if (sequence.last_value, sequence.is_called) > (last_value, is_called) {
            forward.push(sequence.clone());
        }
    }
    constraints::set_sequences(client, &forward).await
}

/// Re-count every table and say what changed; a plain load must hold
/// exactly the artifact's rows.
async fn count(
    client: &Client,
    manifest: &Manifest,
    target: &Target,
    changed: Vec<Option<u64>>,
) -> Result<Vec<TableCounts>> {
    let mut counts = Vec::with_capacity(manifest.tables.len());
    for ((entry, before), changed) in manifest.tables.iter().zip(&target.row_counts).zip(changed) {
        // A partitioned table counts its partitions; any other counts its
        // own rows, not its inheritance children's.
        let only = entry.kind != TableKind::Partitioned;
        let after = target::count_rows(client, &entry.name, only).await?;
        let after = u64::try_from(after).unwrap_or(0);
        let before_rows = before.map_or(0, |b| b.max(0) as u64);
        let table_counts = match changed {
            None if after != entry.rows => bail!(
                "table {} holds {after} rows after the load, the artifact {}",
                entry.name,
                entry.rows
            ),
            None => TableCounts {
                inserted: after,
                deleted: before_rows,
                ..TableCounts::default()
            },
            Some(changed) => {
                let inserted = after.saturating_sub(before_rows);
                TableCounts {
                    inserted,
                    updated: changed.saturating_sub(inserted),
                    ..TableCounts::default()
                }
            }
        };
        counts.push(TableCounts {
            table: entry.name.clone(),
            before: *before,
            after,
            ..table_counts
        });
    }
    Ok(counts)
}
