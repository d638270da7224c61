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

mod apply;
mod clean;
mod compat;
mod confirm;
mod constraints;
mod create;
mod failures;
mod load;
mod locks;
mod merge;
mod merge_plan;
mod row_security;
mod shadow;
mod statistics;
mod target;
mod visibility;

use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::artifact::{ArtifactReader, Manifest, SchemaSection};
use crate::catalog;
use crate::config::{RestoreConfig, RestoreScope};
use crate::error::Error;
use crate::history::{self, Applied, AppliedMode, TableCounts};
use crate::mode::Mode;
use crate::pg;
use crate::progress::Progress;
use crate::selection::{is_migration_table, MIGRATION_TABLES};
use apply::Prepared;
use clean::Clean;
pub use confirm::{Action, Agree, Confirm, Request};
use create::{Choices, CreatePlan};
pub use load::load_table;
use merge_plan::MergePlan;
pub use shadow::clean_up;
use shadow::Swaps;
pub use statistics::{Statistics, ANALYZE_MIN_ROWS};
use target::Target;
use visibility::Loading;

/// What a restore did, or would do (dry run), or why it did nothing.
#[derive(Debug)]
pub struct RestoreOutcome {
    pub manifest: Arc<Manifest>,
    pub mode: Mode,
    pub tables: Vec<TableCounts>,
    /// Schema objects created (or that would be).
    pub created: usize,
    pub loads_data: bool,
    pub dry_run: bool,
    /// Set when the history shows this content already applied in this mode.
    pub already_applied: Option<Applied>,
    /// What the restore did not do of what the artifact holds, each a sentence.
    pub warnings: Vec<String>,
    /// What the restored tables' planner statistics are.
    pub statistics: Statistics,
}

/// Restore `config.file` into `config.target`, asking `confirm` before the
/// first write and reporting the load to `progress`. Commits everything or
/// nothing.
pub async fn run(
    config: &RestoreConfig,
    confirm: &impl Confirm,
    progress: &dyn Progress,
) -> Result<RestoreOutcome> {
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let reader = Arc::new(open_verified(config).await?);
    let manifest = reader.manifest();
    refuse_bookkeeping(manifest)?;
    let schema = schema_to_apply(config, manifest)?;
    let loads_data = config.scope != RestoreScope::SchemaOnly && !manifest.schema_only;
    let outcome = |tables, prepared: Option<&Prepared>, dry_run, already_applied| RestoreOutcome {
        manifest: reader.shared_manifest(),
        mode: config.mode,
        tables,
        created: prepared.map_or(0, |p| p.create.count()),
        loads_data,
        dry_run,
        already_applied,
        warnings: prepared.map(Prepared::warnings).unwrap_or_default(),
        statistics: Statistics::None,
    };

    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    let restored = async {
        begin(client, config).await?;
        if let Some(applied) = already_applied(client, config, manifest).await? {
            client.batch_execute("ROLLBACK").await?;
            return Ok(outcome(Vec::new(), None, config.dry_run, Some(applied)));
        }
        let prepared = prepare(client, config, manifest, schema, loads_data).await?;
        prepared
            .create
            .check_features(schema, session.server_version_num)?;
        let preview = preview(manifest, &prepared.target, loads_data);
        if config.dry_run {
            client.batch_execute("ROLLBACK").await?;
            return Ok(outcome(preview, Some(&prepared), true, None));
        }
        // Grants left out are said before the question, as costs are, and
        // so is a load that cannot be frozen (or fit the lock table) as asked.
        let notes: Vec<String> = (prepared.merge.notes.iter())
            .chain(&prepared.create.warnings)
            .chain(&prepared.loading_note)
            .cloned()
            .chain(prepared.swaps.note())
            .collect();
        let request = Request {
            target: &config.target,
            action: action(config, loads_data),
            tables: &preview,
            notes: &notes,
        };
        confirm.confirm(&request).await?;

        let writes = Writes {
            reader: &reader,
            prepared: &prepared,
            loads_data,
            server_version_num: session.server_version_num,
            started_at: &started_at,
        };
        let (counts, statistics) = writes.run(client, config, progress).await?;
        Ok(RestoreOutcome {
            statistics,
            ..outcome(counts, Some(&prepared), false, None)
        })
    }
    .await;
    restored.map_err(|e| failures::lock_table_full(failures::connection_lost(e, &config.target)))
}

/// The restore's writes, once it is agreed to, through the commit.
struct Writes<'a> {
    reader: &'a Arc<ArtifactReader>,
    prepared: &'a Prepared,
    loads_data: bool,
    server_version_num: u32,
    started_at: &'a str,
}

impl Writes<'_> {
    async fn run(
        &self,
        client: &Client,
        config: &RestoreConfig,
        progress: &dyn Progress,
    ) -> Result<(Vec<TableCounts>, Statistics)> {
        let (reader, prepared) = (self.reader, self.prepared);
        if let Some(clean) = &prepared.clean {
            clean.run(client).await?;
        }
        if !prepared.swaps.tables.is_empty() {
            shadow::build_over(
                &config.target,
                config.jobs,
                reader,
                &prepared.swaps,
                progress,
            )
            .await?;
        }
        let counts =
            apply::apply(client, reader, prepared, self.loads_data, config, progress).await?;
        let statistics = match self.loads_data && config.mode == Mode::Replace {
            true => statistics::settle(client, reader, self.server_version_num).await?,
            false => Statistics::None,
        };
        record(client, config, reader.manifest(), &counts, self.started_at).await?;
        client
            .batch_execute("COMMIT")
            .await
            .context("cannot commit the restore")?;
        Ok((counts, statistics))
    }
}

/// Refuse, before connecting, an artifact that would overwrite bookkeeping:
/// seedpack's own history, or a migration tool's table the dump was not
/// asked to carry (artifacts of seedpack before it left them out).
fn refuse_bookkeeping(manifest: &Manifest) -> Result<(), Error> {
    for entry in &manifest.tables {
        if entry.name.schema == catalog::OWN_SCHEMA {
            return Err(Error::Usage(format!(
                "the artifact holds seedpack's own table {}, which no restore overwrites; \
                 dump the source again with this seedpack, which leaves it out",
                entry.name
            )));
        }
        if is_migration_table(&entry.name) && !manifest.migration_tables.contains(&entry.name) {
            return Err(Error::Usage(format!(
                "the artifact holds the migration table {} without having been asked to \
                 (dump --include-migration-tables); dump the source again with this seedpack",
                entry.name
            )));
        }
    }
    Ok(())
}

/// The artifact's schema section, when this restore applies it.
fn schema_to_apply<'a>(
    config: &RestoreConfig,
    manifest: &'a Manifest,
) -> Result<Option<&'a SchemaSection>, Error> {
    let schema = match config.scope {
        RestoreScope::DataOnly => None,
        _ => manifest.schema.as_ref(),
    };
    if config.scope == RestoreScope::SchemaOnly && schema.is_none() {
        return Err(Error::Usage(
            "--schema-only: this artifact carries no schema (it was dumped by an older seedpack)"
                .into(),
        ));
    }
    if config.clean && schema.is_none() {
        return Err(Error::Usage(
            "--clean needs an artifact that carries its schema, and no --data-only".into(),
        ));
    }
    let objects = schema.map_or(&[][..], |s| s.objects.as_slice());
    if let Some(skip) = config.skip_objects.iter().find(|skip| {
        !objects
            .iter()
            .any(|o| skip.matches(o.kind.label(), &o.name))
    }) {
        return Err(Error::Usage(format!(
            "--skip-object {}: the artifact's schema holds no such object (seedpack inspect \
             --file FILE --json lists them)",
            skip.written
        )));
    }
    Ok(schema)
}

/// Open the artifact and check every member before connecting: stored and
/// data checksums, row counts, and that the data is COPY text the server
/// can load (a crafted artifact fails here, not midway through COPY).
async fn open_verified(config: &RestoreConfig) -> Result<ArtifactReader> {
    let path = config.file.clone();
    tokio::task::spawn_blocking(move || -> Result<ArtifactReader> {
        let reader = ArtifactReader::open(&path)?;
        reader.check_members(true)?;
        Ok(reader)
    })
    .await?
}

/// Start the restore transaction, bounded by `--lock-timeout`, and wait for
/// any other restore into this database.
async fn begin(client: &Client, config: &RestoreConfig) -> Result<()> {
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
    history::lock(client).await
}

/// The history's record of this content in this mode, unless `--force` or
/// `--no-history`.
async fn already_applied(
    client: &Client,
    config: &RestoreConfig,
    manifest: &Manifest,
) -> Result<Option<Applied>> {
    match (&config.history, config.force) {
        (Some(table), false) => {
            let tables: Vec<_> = manifest.tables.iter().map(|t| &t.name).collect();
            let mode = AppliedMode::new(config.mode, config.clean);
            history::already_applied(client, table, &tables, &manifest.content_id, mode).await
        }
        _ => Ok(None),
    }
}

/// Read and check the target, decide what `--clean` drops and what is
/// created, and find the merge keys: every refusal happens here, before any
/// write.
async fn prepare(
    client: &Client,
    config: &RestoreConfig,
    manifest: &Manifest,
    schema: Option<&SchemaSection>,
    loads_data: bool,
) -> Result<Prepared> {
    let mut target = Target::read(
        client,
        manifest,
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
        _ => None,
    };
    let dropped = clean
        .as_ref()
        .map(|c| c.dropped.clone())
        .unwrap_or_default();
    let create = match schema {
        Some(schema) => {
            let choices = Choices {
                new_tables: &target.missing,
                dropped: &dropped,
                skipped: &config.skip_objects,
                privileges: config.privileges,
            };
            CreatePlan::decide(client, schema, &choices).await?
        }
        None => CreatePlan::default(),
    };
    refuse_creating_migrated_tables(client, config, &target).await?;
    let merge = match config.mode {
        Mode::Replace => MergePlan::default(),
        _ if !loads_data => MergePlan::default(),
        _ => MergePlan::decide(client, manifest, &target, &config.keys).await?,
    };
    // The merge modes change rows as transactions do: unfrozen.
    let (loading, loading_note) = match config.mode {
        Mode::Replace => visibility::choose(manifest, &target, config.mvcc_safe),
        _ => (Loading::MvccSafe, None),
    };
    // Swapped tables hold frozen rows: the others are loaded frozen too, so
    // that a transaction older than the restore sees new data everywhere.
    let declined = shadow::declined(config, loads_data, clean.is_some());
    let jobs = config.jobs > 1 && loads_data && declined.is_none();
    let loading = match (jobs, loading) {
        (true, Loading::Frozen) => loading,
        _ => visibility::when_all_empty(loading, &target),
    };
    let fit = locks::fit(client, manifest, &target, loading).await?;
    let swaps = match (declined, jobs) {
        (Some(reason), _) => Swaps::declined(reason),
        (None, false) => Swaps::default(),
        _ => shadow::decide(client, manifest, &target, &fit).await?,
    };
    // Nothing swapped after all: into tables all empty, nothing to truncate.
    let loading = match swaps.tables.is_empty() {
        true => visibility::when_all_empty(fit.loading, &target),
        false => fit.loading,
    };
    Ok(Prepared {
        target,
        clean,
        create,
        merge,
        loading,
        keep_ordered_keys: fit.keep_ordered_keys,
        loading_note: loading_note.or(fit.note),
        swaps,
    })
}

/// Refuse, before any write, to create tables in a database a migration
/// tool manages (it has a bookkeeping table), unless `--create-missing`:
/// the next migration would fail on a table it meant to create. Explicit
/// DDL (`--schema-only`, `--clean`) is what was asked for.
async fn refuse_creating_migrated_tables(
    client: &Client,
    config: &RestoreConfig,
    target: &Target,
) -> Result<()> {
    let asked_for_ddl = config.scope != RestoreScope::All || config.clean || config.create_missing;
    if asked_for_ddl || target.missing.is_empty() {
        return Ok(());
    }
    let managed = catalog::tables_called(client, &MIGRATION_TABLES).await?;
    let Some(bookkeeping) = managed.first() else {
        return Ok(());
    };
    let missing: Vec<String> = target
        .missing
        .iter()
        .take(5)
        .map(|t| t.to_string())
        .collect();
    let more = target.missing.len().saturating_sub(missing.len());
    Err(Error::Refused(format!(
        "migrations manage the target's schema ({bookkeeping}), and this restore would create \
         {} table(s) it lacks: {}{}; run the migrations that create them, restore with \
         --data-only, or pass --create-missing",
        target.missing.len(),
        missing.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
    .into())
}

/// Each table's rows now and, as far as known before the load, after it.
fn preview(manifest: &Manifest, target: &Target, loads_data: bool) -> Vec<TableCounts> {
    manifest
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
        .collect()
}

fn action(config: &RestoreConfig, loads_data: bool) -> Action {
    match (config.clean, loads_data, config.mode) {
        (true, _, _) => Action::DropAndRecreate,
        (false, false, _) => Action::CreateSchema,
        (false, true, Mode::Replace) => Action::Replace,
        (false, true, Mode::Upsert) => Action::Upsert,
        (false, true, Mode::InsertMissing) => Action::InsertMissing,
    }
}

/// Record the apply in the history, in the restore's transaction.
async fn record(
    client: &Client,
    config: &RestoreConfig,
    manifest: &Manifest,
    counts: &[TableCounts],
    started_at: &str,
) -> Result<()> {
    let Some(table) = &config.history else {
        return Ok(());
    };
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
            mode: AppliedMode::new(config.mode, config.clean),
            tables: counts,
            started_at,
        },
    )
    .await
}
