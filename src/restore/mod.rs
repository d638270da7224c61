//! `seedpack restore`: verify -> one transaction -> create what the target
//! lacks -> COPY in -> constraints, triggers, sequences -> re-count -> commit.
//!
//! Nothing touches the database until every member checksum has passed.
//! Everything after `BEGIN` is one transaction: any error, a checksum or row
//! count mismatch, or the client or server going away rolls it all back and
//! the target keeps its old data. Works as the tables' owner.
//!
//! Tables the target has are loaded data-only; tables it lacks are created
//! from the artifact's schema, in pg_restore's order: tables, data, then
//! keys, indexes, foreign keys, triggers and views. With `--clean` the
//! artifact's tables and views are dropped first and all recreated.

mod clean;
mod compat;
mod confirm;
mod constraints;
mod ddl;
mod load;
mod target;

use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::artifact::{ArtifactReader, Manifest, Phase};
use crate::config::{RestoreConfig, RestoreScope};
use crate::pg::{self, sql, QualifiedName};
use crate::progress::Progress;
use crate::report;
use clean::Clean;
use ddl::SchemaPlan;
use target::Target;

/// What a restore did, or would do (dry run).
#[derive(Debug)]
pub struct RestoreOutcome {
    pub manifest: Manifest,
    /// Per table: rows before (`None`: the table is created) and after.
    pub tables: Vec<(QualifiedName, Option<i64>, u64)>,
    /// Schema objects created (or that would be).
    pub created: usize,
    pub loads_data: bool,
    pub dry_run: bool,
}

pub async fn run(config: &RestoreConfig) -> Result<RestoreOutcome> {
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

    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    client
        .batch_execute("BEGIN")
        .await
        .context("cannot start the restore transaction")?;
    let mut target = Target::read(client, &manifest, schema.is_some(), !config.clean).await?;
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
    let changes: Vec<(QualifiedName, Option<i64>, u64)> = manifest
        .tables
        .iter()
        .zip(&target.row_counts)
        .map(|(entry, &before)| {
            let after = if loads_data {
                entry.rows
            } else {
                before.unwrap_or(0) as u64
            };
            (entry.name.clone(), before, after)
        })
        .collect();
    let outcome = |dry_run| RestoreOutcome {
        manifest: manifest.clone(),
        tables: changes.clone(),
        created: plan.count(),
        loads_data,
        dry_run,
    };

    if config.dry_run {
        client.batch_execute("ROLLBACK").await?;
        return Ok(outcome(true));
    }
    if !config.yes {
        confirm::ask(
            report::restore_preview(&config.target, &changes, "rows now"),
            format!(
                "{} {} table(s) in {}?",
                match (config.clean, loads_data) {
                    (true, _) => "Drop and recreate",
                    (false, true) => "Replace the contents of",
                    (false, false) => "Create the schema of",
                },
                changes.len(),
                config.target
            ),
        )
        .await?;
    }

    if let Some(clean) = &clean {
        clean.run(client).await?;
    }
    apply(client, &reader, &target, &plan, loads_data, config.quiet).await?;
    client
        .batch_execute("COMMIT")
        .await
        .context("cannot commit the restore")?;
    Ok(outcome(false))
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

/// The writes, in order, inside the open transaction.
async fn apply(
    client: &tokio_postgres::Client,
    reader: &Arc<ArtifactReader>,
    target: &Target,
    plan: &SchemaPlan,
    loads_data: bool,
    quiet: bool,
) -> Result<()> {
    let manifest = reader.manifest();
    if loads_data && !target.tables.is_empty() {
        client
            .batch_execute(&sql::lock_for_restore(&target.tables_to_lock()))
            .await
            .context("cannot lock the target tables")?;
        // Rows may have arrived between the first check and the lock.
        target.check_outside_references(client).await?;
    }
    plan.run(client, Phase::PreData).await?;
    if !loads_data {
        return plan.run(client, Phase::PostData).await;
    }
    target::check_sequences(client, manifest).await?;

    constraints::disable_triggers(client, &target.triggers).await?;
    constraints::drop_foreign_keys(client, target.all_foreign_keys()).await?;
    if !target.tables.is_empty() {
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
        quiet,
        "restore",
        manifest.tables.len(),
        Some(manifest.total_bytes()),
    );
    for (position, entry) in manifest.tables.iter().enumerate() {
        load::load_table(client, reader, position, &progress)
            .await
            .with_context(|| format!("cannot load table {}", entry.name))?;
    }
    progress.finish();

    constraints::add_foreign_keys(client, target.all_foreign_keys()).await?;
    constraints::restore_triggers(client, &target.triggers).await?;
    plan.run(client, Phase::PostData).await?;
    constraints::set_sequences(client, &manifest.sequences).await?;

    for entry in &manifest.tables {
        // A partitioned table counts its partitions; any other counts its
        // own rows, not its inheritance children's.
        let count = target::count_rows(client, &entry.name, entry.kind != "partitioned").await?;
        if u64::try_from(count).ok() != Some(entry.rows) {
            bail!(
                "table {} holds {count} rows after the load, the artifact {}",
                entry.name,
                entry.rows
            );
        }
    }
    Ok(())
}
