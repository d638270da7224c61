//! `seedpack restore`: verify -> one transaction -> create what the target
//! lacks -> load -> constraints, triggers, sequences -> re-count -> record
//! in the history -> commit.
//!
//! Nothing touches the database until every member checksum has passed.
//! Everything after `BEGIN` is one transaction: any error, a checksum or row
//! count mismatch, or the client or server going away rolls it all back and
//! the target keeps its old data. Works as the tables' owner.
//!
//! Tables the target has are loaded data-only; tables it lacks are created
//! from the artifact's schema, in pg_restore's order: tables, data, then
//! keys, indexes, foreign keys, triggers and views. With `--clean` the
//! artifact's tables and views are dropped first and all recreated. The
//! mode decides what happens to rows the target has: replaced (emptied and
//! reloaded), upserted, or kept with only missing rows inserted.
//!
//! Concurrent restores into one database are serialized by an advisory
//! lock; one whose content the history shows as applied in the same mode
//! does nothing.

mod clean;
mod compat;
mod confirm;
mod constraints;
mod ddl;
mod load;
mod merge;
mod target;

use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::artifact::{ArtifactReader, Manifest, Phase, SequenceEntry};
use crate::catalog;
use crate::config::{Mode, RestoreConfig, RestoreScope};
use crate::history::{self, Applied};
use crate::pg::{self, sql, QualifiedName};
use crate::progress::Progress;
use crate::report;
use clean::Clean;
use ddl::SchemaPlan;
use merge::MergeKey;
use target::Target;

/// What a restore did to one table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableCounts {
    pub table: QualifiedName,
    /// Rows before (`None`: the table was created).
    pub before: Option<i64>,
    pub after: u64,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

/// What a restore did, or would do (dry run), or why it did nothing.
#[derive(Debug)]
pub struct RestoreOutcome {
    pub manifest: Manifest,
    pub mode: Mode,
    pub tables: Vec<TableCounts>,
    /// Schema objects created (or that would be).
    pub created: usize,
    pub loads_data: bool,
    pub dry_run: bool,
    /// Set when the history shows this content already applied in this mode.
    pub already_applied: Option<Applied>,
}

pub async fn run(config: &RestoreConfig) -> Result<RestoreOutcome> {
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let reader = Arc::new(open_verified(config).await?);
    let manifest = reader.manifest().clone();
    let schema = match config.scope {
        RestoreScope::DataOnly => None,
        _ => manifest.schema.as_ref(),
    };
    let loads_data = config.scope != RestoreScope::SchemaOnly && !manifest.schema_only;
    if config.scope == RestoreScope::SchemaOnly && schema.is_none() {
        return Err(crate::error::Error::Usage(
            "--schema-only: this artifact carries no schema (it was dumped by an older seedpack)"
                .into(),
        )
        .into());
    }
    let outcome = |tables, created, dry_run, already_applied| RestoreOutcome {
        manifest: manifest.clone(),
        mode: config.mode,
        tables,
        created,
        loads_data,
        dry_run,
        already_applied,
    };

    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    client
        .batch_execute("BEGIN")
        .await
        .context("cannot start the restore transaction")?;
    let timeout = format!("{}ms", config.lock_timeout.as_millis());
    client
        .execute(
            "SELECT pg_catalog.set_config('lock_timeout', $1, true)",
            &[&timeout],
        )
        .await?;
    history::lock(client).await?;
    if let (Some(table), false) = (&config.history, config.force) {
        if let Some(applied) =
            history::find(client, table, &manifest.content_id, config.mode.as_str()).await?
        {
            client.batch_execute("ROLLBACK").await?;
            return Ok(outcome(Vec::new(), 0, config.dry_run, Some(applied)));
        }
    }

    let mut target = Target::read(
        client,
        &manifest,
        schema.is_some(),
        !config.clean,
        config.mode == Mode::Replace,
    )
    .await?;
    let clean = match (config.clean, schema) {
        (true, Some(schema)) => {
            let clean = Clean::prepare(client, &target, schema).await?;
            target = target.cleaned();
            Some(clean)
        }
        (true, None) => {
            return Err(crate::error::Error::Usage(
                "--clean needs an artifact that carries its schema, and no --data-only".into(),
            )
            .into())
        }
        (false, _) => None,
    };
    let dropped = clean
        .as_ref()
        .map(|c| c.dropped.clone())
        .unwrap_or_default();
    let plan = match schema {
        Some(schema) => SchemaPlan::decide(client, schema, &target.missing, &dropped).await?,
        None => SchemaPlan::default(),
    };
    plan.check_features(session.server_version_num)?;
    let keys = match config.mode {
        Mode::Replace => Vec::new(),
        _ if !loads_data => Vec::new(),
        _ => merge::keys(client, &target.tables, &manifest.tables).await?,
    };
    let preview: Vec<TableCounts> = manifest
        .tables
        .iter()
        .zip(&target.row_counts)
        .map(|(entry, &before)| TableCounts {
            table: entry.name.clone(),
            before,
            after: if loads_data {
                entry.rows
            } else {
                before.unwrap_or(0) as u64
            },
            ..TableCounts::default()
        })
        .collect();

    if config.dry_run {
        client.batch_execute("ROLLBACK").await?;
        return Ok(outcome(preview, plan.count(), true, None));
    }
    if !config.yes {
        let changes: Vec<(QualifiedName, Option<i64>, u64)> = preview
            .iter()
            .map(|c| (c.table.clone(), c.before, c.after))
            .collect();
        confirm::ask(
            report::restore_preview(&config.target, &changes, "rows now"),
            format!(
                "{} {} table(s) in {}?",
                match (config.clean, loads_data, config.mode) {
                    (true, _, _) => "Drop and recreate",
                    (false, false, _) => "Create the schema of",
                    (false, true, Mode::Replace) => "Replace the contents of",
                    (false, true, Mode::Upsert) => "Upsert into",
                    (false, true, Mode::InsertMissing) => "Insert missing rows into",
                },
                preview.len(),
                config.target
            ),
        )
        .await?;
    }

    if let Some(clean) = &clean {
        clean.run(client).await?;
    }
    let counts = apply(client, &reader, &target, &plan, &keys, loads_data, config).await?;
    if let Some(table) = &config.history {
        let artifact = config
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        history::record(
            client,
            table,
            &history::Record {
                content_id: &manifest.content_id,
                label: manifest.label.as_deref(),
                artifact: &artifact,
                mode: config.mode.as_str(),
                tables: serde_json::to_value(&counts)?,
                started_at: &started_at,
            },
        )
        .await?;
    }
    client
        .batch_execute("COMMIT")
        .await
        .context("cannot commit the restore")?;
    Ok(outcome(counts, plan.count(), false, None))
}

/// Open the artifact and check every stored member before connecting.
async fn open_verified(config: &RestoreConfig) -> Result<ArtifactReader> {
    let path = config.file.clone();
    tokio::task::spawn_blocking(move || -> Result<ArtifactReader> {
        let reader = ArtifactReader::open(&path)?;
        reader.check_members(false, |_| {})?;
        Ok(reader)
    })
    .await?
}

/// The writes, in order, inside the open transaction. Returns per-table counts.
async fn apply(
    client: &tokio_postgres::Client,
    reader: &Arc<ArtifactReader>,
    target: &Target,
    plan: &SchemaPlan,
    keys: &[MergeKey],
    loads_data: bool,
    config: &RestoreConfig,
) -> Result<Vec<TableCounts>> {
    let manifest = reader.manifest();
    let replace = config.mode == Mode::Replace;
    if loads_data && !target.tables.is_empty() {
        client
            .batch_execute(&sql::lock_for_restore(&target.tables_to_lock()))
            .await
            .context(
                "cannot lock the target tables (another session holds a lock; see --lock-timeout)",
            )?;
        if replace {
            // Rows may have arrived between the first check and the lock.
            target.check_outside_references(client).await?;
        }
    }
    plan.run(client, Phase::PreData).await?;
    if !loads_data {
        plan.run(client, Phase::PostData).await?;
        return Ok(Vec::new());
    }
    target::check_sequences(client, manifest).await?;

    // Replace empties the tables, so keys pointing into them from outside
    // go too; the merge modes delete nothing and only need the artifact's own
    // keys out of the way (cycles, self-references).
    let suspended: Vec<&catalog::ForeignKey> = if replace {
        target.all_foreign_keys().collect()
    } else {
        target.foreign_keys.iter().collect()
    };
    constraints::disable_triggers(client, &target.triggers).await?;
    constraints::drop_foreign_keys(client, suspended.iter().copied()).await?;
    if replace && !target.tables.is_empty() {
        let truncate: Vec<(&QualifiedName, bool)> = target
            .tables
            .iter()
            .map(|t| (&t.name, t.partitioned))
            .collect();
        client
            .batch_execute(&sql::truncate(&truncate))
            .await
            .context("cannot empty the target tables")?;
    }

    let progress = Progress::new(
        config.quiet,
        "restore",
        manifest.tables.len(),
        Some(manifest.total_bytes()),
    );
    let mut changed = vec![None; manifest.tables.len()];
    for (position, entry) in manifest.tables.iter().enumerate() {
        let existing = target.tables.iter().position(|t| t.name == entry.name);
        match existing {
            Some(i) if !replace => {
                let update = config.mode == Mode::Upsert;
                changed[position] = Some(
                    merge::merge_table(
                        client,
                        reader,
                        position,
                        &progress,
                        &entry.name,
                        &keys[i],
                        update,
                    )
                    .await
                    .with_context(|| format!("cannot merge table {}", entry.name))?,
                );
            }
            _ => {
                // Created or truncated in this transaction: loaded frozen.
                let freeze = entry.kind != "partitioned";
                load::load_table(client, reader, position, &progress, &entry.name, freeze)
                    .await
                    .with_context(|| format!("cannot load table {}", entry.name))?;
            }
        }
    }
    progress.finish();

    constraints::add_foreign_keys(client, suspended.iter().copied()).await?;
    constraints::restore_triggers(client, &target.triggers).await?;
    plan.run(client, Phase::PostData).await?;
    if replace {
        constraints::set_sequences(client, &manifest.sequences).await?;
    } else {
        // Never move a sequence back under rows the target already has.
        let mut forward: Vec<SequenceEntry> = Vec::new();
        for sequence in &manifest.sequences {
            let (last_value, is_called) = catalog::sequence_state(client, &sequence.name).await?;
            if (sequence.last_value, sequence.is_called) > (last_value, is_called) {
                forward.push(sequence.clone());
            }
        }
        constraints::set_sequences(client, &forward).await?;
    }

    let mut counts = Vec::with_capacity(manifest.tables.len());
    for ((entry, before), changed) in manifest.tables.iter().zip(&target.row_counts).zip(changed) {
        // A partitioned table counts its partitions; any other counts its
        // own rows, not its inheritance children's.
        let after = target::count_rows(client, &entry.name, entry.kind != "partitioned").await?;
        let after = u64::try_from(after).unwrap_or(0);
        let before_rows = before.map_or(0, |b| b.max(0) as u64);
        let table_counts = match changed {
            None => {
                if after != entry.rows {
                    bail!(
                        "table {} holds {after} rows after the load, the artifact {}",
                        entry.name,
                        entry.rows
                    );
                }
                TableCounts {
                    inserted: after,
                    deleted: before_rows,
                    ..TableCounts::default()
                }
            }
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
