//! The writes of a restore, in order, inside its open transaction: lock
//! (replace), suspend what the load must not trip, empty (replace), load or
//! merge, put everything back exactly, set sequences, and re-count.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::clean::Clean;
use super::create::CreatePlan;
use super::merge;
use super::merge_plan::MergePlan;
use super::shadow::{self, Swaps};
use super::target::{self, Target};
use super::visibility::Loading;
use super::{constraints, load, row_security};
use crate::artifact::{ArtifactReader, Manifest, Phase, SchemaSection, TableKind};
use crate::catalog::ForeignKey;
use crate::config::RestoreConfig;
use crate::history::TableCounts;
use crate::ident::QualifiedName;
use crate::mode::Mode;
use crate::pg::{merge_sql, sql};
use crate::progress::Progress;

/// What the restore found and decided before its first write.
#[derive(Debug)]
pub(super) struct Prepared {
    pub target: Target,
    pub clean: Option<Clean>,
    pub create: CreatePlan,
    /// How the merge modes merge each table the target has.
    pub merge: MergePlan,
    /// How tables are emptied and loaded (see `visibility`).
    pub loading: Loading,
    /// A replace keeps the foreign keys between tables loaded in order in
    /// force (the lock budget has no room to drop them all; see `locks`).
    pub keep_ordered_keys: bool,
    /// Why a replace not asked to be MVCC-safe is.
    pub loading_note: Option<String>,
    /// `--jobs`: the tables built beside their targets and swapped in.
    pub swaps: Swaps,
}

impl Prepared {
    /// What the restore will not do as the artifact says, or will do at a
    /// cost worth knowing, each a sentence.
    pub fn warnings(&self) -> Vec<String> {
        self.create
            .warnings
            .iter()
            .chain(&self.merge.notes)
            .chain(&self.loading_note)
            .cloned()
            .chain(self.swaps.note())
            .collect()
    }
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
    let manifest = reader.manifest();
    let schema = manifest.schema.as_ref();
    let replace = config.mode == Mode::Replace;
    if loads_data && replace {
        lock(client, target, config.lock_timeout).await?;
    }
    prepared.create.run(client, schema, Phase::PreData).await?;
    if !loads_data {
        prepared.create.run(client, schema, Phase::PostData).await?;
        return Ok(Vec::new());
    }
    target::check_sequences(client, manifest).await?;
    let names: Vec<&QualifiedName> = manifest.tables.iter().map(|t| &t.name).collect();
    let mut unforced = row_security::unforce(client, &names).await?;
    let suspended = suspend(client, prepared, replace).await?;
    if !replace {
        // Ahead of the rows that use them, so that the target's own inserts
        // meanwhile draw values past the seed's.
        sequences_forward(client, manifest, prepared).await?;
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
    shadow::swap_in(client, &prepared.swaps).await?;
    progress.phase("keys, indexes, foreign keys, triggers");
    let update = config.mode == Mode::Upsert;
    let reinstated = reinstate(client, prepared, schema, &suspended, replace, update).await;
    progress.finish();
    reinstated?;
    if replace {
        constraints::set_sequences(client, &manifest.sequences).await?;
    }
    // Tables just created may force row-level security now.
    unforced.extend(row_security::unforce(client, &names).await?);
    let counts = count(client, manifest, target, prepared, changed).await?;
    row_security::force_again(client, &unforced).await?;
    Ok(counts)
}

/// Take out of the way what the load must not trip over; returns the
/// foreign keys dropped. User triggers are disabled in every mode: the
/// artifact states what the tables hold, and an audit or `updated_at`
/// trigger firing would make them hold something else (and a second apply
/// change them again). Replace empties the tables: every foreign key on or
/// into them is dropped (cycles load in any order, and re-adding validates
/// each key in one pass). The merge modes block no reader: disabling a
/// trigger makes writers wait, not readers, and they drop nothing but the
/// keys their plan cannot satisfy otherwise, deferring those it can.
async fn suspend<'a>(
    client: &Client,
    prepared: &'a Prepared,
    replace: bool,
) -> Result<Vec<&'a ForeignKey>> {
    let target = &prepared.target;
    constraints::disable_triggers(client, &target.triggers).await?;
    if !replace {
        let deferred: Vec<(&str, &str)> = prepared
            .merge
            .deferred
            .iter()
            .map(|fk| (fk.relation.schema.as_str(), fk.name.as_str()))
            .collect();
        if !deferred.is_empty() {
            client.batch_execute(&merge_sql::defer(&deferred)).await?;
        }
        let dropped: Vec<&ForeignKey> = prepared.merge.exclusive.iter().collect();
        constraints::drop_foreign_keys(client, dropped.iter().copied()).await?;
        return Ok(dropped);
    }
    let kept: HashSet<(&QualifiedName, &str)> = match prepared.keep_ordered_keys {
        true => target
            .foreign_keys_kept_in_order()
            .into_iter()
            .map(|fk| (&fk.relation, fk.name.as_str()))
            .collect(),
        false => HashSet::new(),
    };
    let dropped: Vec<&ForeignKey> = target
        .all_foreign_keys()
        .filter(|fk| !kept.contains(&(&fk.relation, fk.name.as_str())))
        .collect();
    constraints::drop_foreign_keys(client, dropped.iter().copied()).await?;
    constraints::drop_checks(client, &target.unvalidated_checks).await?;
    let swapped: HashSet<&QualifiedName> =
        prepared.swaps.tables.iter().map(|p| &p.target).collect();
    let emptied: Vec<(&QualifiedName, bool)> = target
        .tables
        .iter()
        .rev()
        .filter(|t| !swapped.contains(&t.name))
        .map(|t| (&t.name, t.partitioned))
        .collect();
    empty(client, &emptied, prepared.loading).await?;
    Ok(dropped)
}

/// Put back what the load suspended (after the merge modes have filled the
/// references they left for last), and create what comes after the data.
async fn reinstate(
    client: &Client,
    prepared: &Prepared,
    schema: Option<&SchemaSection>,
    suspended: &[&ForeignKey],
    replace: bool,
    update: bool,
) -> Result<()> {
    if !replace {
        merge::fill_later(client, &prepared.merge, update).await?;
    }
    constraints::add_foreign_keys(client, suspended.iter().copied()).await?;
    if replace {
        constraints::add_checks(client, &prepared.target.unvalidated_checks).await?;
    }
    constraints::restore_triggers(client, &prepared.target.triggers).await?;
    prepared.create.run(client, schema, Phase::PostData).await
}

/// Lock the tables a replace empties, and re-check for rows outside the
/// artifact that arrived between the first check and the lock.
///
/// All tables are locked at once without waiting; when another session
/// holds one, the attempt is rolled back to a savepoint (releasing every
/// lock it took) and tried again after a pause that doubles up to half a
/// second, until `lock_timeout` has passed. Waiting so, the restore holds no
/// lock that the application's readers would queue behind.
async fn lock(client: &Client, target: &Target, lock_timeout: Duration) -> Result<()> {
    if target.tables.is_empty() {
        return Ok(());
    }
    let statement = sql::lock_for_restore(&target.tables_to_lock());
    let deadline = Instant::now() + lock_timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        client.batch_execute("SAVEPOINT seedpack_lock").await?;
        match client.batch_execute(&statement).await {
            Ok(()) => {
                client
                    .batch_execute("RELEASE SAVEPOINT seedpack_lock")
                    .await?;
                break;
            }
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT seedpack_lock")
                    .await?;
                if Instant::now() + pause >= deadline {
                    return Err(anyhow!(
                        "cannot lock the target tables: another session held a lock on one \
                         of them for all of --lock-timeout ({}); nothing was changed",
                        humantime::format_duration(lock_timeout)
                    ));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(e) => return Err(anyhow::Error::new(e).context("cannot lock the target tables")),
        }
    }
    target.check_outside_references(client).await
}

/// Empty the target's tables (in reverse load order): in one `TRUNCATE`, or
/// with `DELETE`s that older snapshots do not see, referencing tables
/// before those they reference for the foreign keys in force.
async fn empty(client: &Client, tables: &[(&QualifiedName, bool)], loading: Loading) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    let statement = match loading {
        Loading::Frozen => sql::truncate(tables),
        Loading::MvccSafe => sql::delete_all(tables),
    };
    client
        .batch_execute(&statement)
        .await
        .context("cannot empty the target tables")?;
    Ok(())
}

/// Load every table in the artifact's order: merged into an existing table
/// (merge modes), or copied into an emptied or new one. Returns, per table,
/// the merge (index into the plan) of each merged table (`None` for a plain
/// load).
async fn load_all(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    prepared: &Prepared,
    mode: Mode,
    progress: &dyn Progress,
) -> Result<Vec<Option<usize>>> {
    let manifest = reader.manifest();
    let mut changed = vec![None; manifest.tables.len()];
    let swapped = prepared.swaps.positions();
    for (position, entry) in manifest.tables.iter().enumerate() {
        if swapped.contains(&position) {
            continue;
        }
        let existing = prepared
            .target
            .tables
            .iter()
            .position(|t| t.name == entry.name);
        let merge = prepared
            .merge
            .tables
            .iter()
            .position(|m| m.position == position);
        match (existing, merge) {
            (Some(_), Some(index)) if mode != Mode::Replace => {
                let update = mode == Mode::Upsert;
                merge::merge_table(client, reader, &prepared.merge, index, update, progress)
                    .await
                    .with_context(|| format!("cannot merge table {}", entry.name))?;
                changed[position] = Some(index);
            }
            _ => load_whole(client, reader, position, prepared.loading, progress)
                .await
                .with_context(|| format!("cannot load table {}", entry.name))?,
        }
    }
    Ok(changed)
}

/// Load a table created or emptied in this transaction: frozen, a
/// partitioned one straight into its leaves; or unfrozen, as it comes.
async fn load_whole(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    loading: Loading,
    progress: &dyn Progress,
) -> Result<()> {
    let entry = &reader.manifest().tables[position];
    let partitioned = entry.kind == TableKind::Partitioned;
    match loading {
        Loading::Frozen if partitioned && !entry.partitions.is_empty() => {
            load::load_leaves(client, reader, position, progress, true).await
        }
        // (A partitioned table without leaf shares holds no rows here.)
        Loading::Frozen => {
            load::load_table(
                client,
                reader,
                position,
                progress,
                &entry.name,
                !partitioned,
            )
            .await
        }
        Loading::MvccSafe => {
            load::load_table(client, reader, position, progress, &entry.name, false).await
        }
    }
}

/// Move each sequence forward to its dumped state, never back under the
/// target's rows, and outside the transaction's locks; leave alone those
/// that give values to a primary key the target keeps its own of (matched
/// on a natural key). (Replace sets them exactly, in the transaction.)
async fn sequences_forward(
    client: &Client,
    manifest: &Manifest,
    prepared: &Prepared,
) -> Result<()> {
    let kept = merge::kept_sequences(client, &prepared.merge, &manifest.sequences).await?;
    for sequence in manifest
        .sequences
        .iter()
        .filter(|s| !kept.contains(&s.name))
    {
        client
            .execute(
                &merge_sql::sequence_forward(&sequence.name),
                &[&sequence.last_value, &sequence.is_called],
            )
            .await
            .with_context(|| format!("cannot move sequence {} forward", sequence.name))?;
    }
    Ok(())
}

/// Re-count every table and say what changed; a plain load must hold
/// exactly the artifact's rows.
async fn count(
    client: &Client,
    manifest: &Manifest,
    target: &Target,
    prepared: &Prepared,
    merged: Vec<Option<usize>>,
) -> Result<Vec<TableCounts>> {
    // A partitioned table counts its partitions; any other counts its own
    // rows, not its inheritance children's.
    let tables: Vec<(&QualifiedName, bool)> = manifest
        .tables
        .iter()
        .map(|entry| (&entry.name, entry.kind != TableKind::Partitioned))
        .collect();
    let afters = target::count_rows_each(client, &tables).await?;
    let mut counts = Vec::with_capacity(manifest.tables.len());
    for (((entry, before), merge), after) in manifest
        .tables
        .iter()
        .zip(&target.row_counts)
        .zip(merged)
        .zip(afters)
    {
        let changed = match merge {
            Some(index) => Some(merge::touched_rows(client, &prepared.merge, index).await?),
            None => None,
        };
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
