//! `seedpack restore`: verify -> one transaction -> COPY in -> constraints,
//! triggers, sequences -> re-count -> commit.
//!
//! Nothing touches the database until every member checksum has passed.
//! Everything after `BEGIN` is one transaction: any error, a checksum or row
//! count mismatch, or the client or server going away rolls it all back and
//! the target keeps its old data. Works as the tables' owner.

mod compat;
mod confirm;
mod constraints;
mod load;
mod target;

use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::artifact::{ArtifactReader, Manifest};
use crate::config::RestoreConfig;
use crate::pg::{self, sql, QualifiedName};
use crate::progress::Progress;
use crate::report;
use target::Target;

/// Per table: rows before and after.
#[derive(Debug)]
pub struct RestoreOutcome {
    pub manifest: Manifest,
    pub tables: Vec<(QualifiedName, i64, u64)>,
    pub dry_run: bool,
}

pub async fn run(config: &RestoreConfig) -> Result<RestoreOutcome> {
    let reader = Arc::new(open_verified(config).await?);
    let manifest = reader.manifest().clone();

    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    client
        .batch_execute("BEGIN")
        .await
        .context("cannot start the restore transaction")?;
    let target = Target::read(client, &manifest).await?;
    let changes: Vec<(QualifiedName, i64, u64)> = manifest
        .tables
        .iter()
        .zip(&target.row_counts)
        .map(|(entry, &before)| (entry.name.clone(), before, entry.rows))
        .collect();

    if config.dry_run {
        client.batch_execute("ROLLBACK").await?;
        return Ok(RestoreOutcome {
            manifest,
            tables: changes,
            dry_run: true,
        });
    }
    if !config.yes {
        confirm::ask(
            report::restore_preview(&config.target, &changes, "rows now"),
            format!(
                "Replace the contents of {} table(s) in {}?",
                changes.len(),
                config.target
            ),
        )
        .await?;
    }

    apply(client, &reader, &target, config.quiet).await?;
    client
        .batch_execute("COMMIT")
        .await
        .context("cannot commit the restore")?;
    Ok(RestoreOutcome {
        manifest,
        tables: changes,
        dry_run: false,
    })
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
    quiet: bool,
) -> Result<()> {
    let manifest = reader.manifest();
    if !target.tables.is_empty() {
        client
            .batch_execute(&sql::lock_for_restore(&target.tables_to_lock()))
            .await
            .context("cannot lock the target tables")?;
        // Rows may have arrived between the first check and the lock.
        target.check_outside_references(client).await?;
    }
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
    constraints::set_sequences(client, &manifest.sequences).await?;

    for (table, entry) in target.tables.iter().zip(&manifest.tables) {
        let count: i64 = client
            .query_one(&sql::count_rows(&table.name, table.has_children), &[])
            .await?
            .get(0);
        if u64::try_from(count).ok() != Some(entry.rows) {
            bail!(
                "table {} holds {count} rows after the load, the artifact {}",
                table.name,
                entry.rows
            );
        }
    }
    Ok(())
}
