//! `seedpack dump`: snapshot -> catalog -> plan -> COPY out -> artifact.
//!
//! Everything is read in one REPEATABLE READ READ ONLY transaction, so the
//! artifact is one consistent snapshot; the tables are locked ACCESS SHARE so
//! no DDL changes them mid-dump. With `--jobs`, more connections join that
//! transaction's exported snapshot (`snapshot`) and read parts of the data
//! at once (`parts` and `readers`). Rows are written in a stable order
//! (primary key, else whole-row text), so unchanged data gives the same
//! bytes. The schema of the tables and what they need goes into the
//! manifest (`manifest`).

mod manifest;
mod parts;
mod readers;
mod sink;
mod snapshot;
mod statistics;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::artifact::Manifest;
use crate::catalog;
use crate::config::DumpConfig;
use crate::ident::QualifiedName;
use crate::load_order;
use crate::pg::{self, sql};
use crate::progress::Progress;
use crate::schema;
use manifest::{Read, Stamp};
use readers::Source;
use sink::ArtifactSink;

/// What a dump wrote.
#[derive(Debug)]
pub struct DumpOutcome {
    pub path: PathBuf,
    pub sidecar: PathBuf,
    pub manifest: Arc<Manifest>,
    /// Connections that read the data, and the parts they read.
    pub connections: usize,
    pub parts: usize,
    /// What the dump could not do as asked, each a sentence.
    pub warnings: Vec<String>,
    /// Migration bookkeeping tables left out (`--include-migration-tables`).
    pub left_out: Vec<QualifiedName>,
}

/// Dump the configured tables to an artifact and its sidecar, reporting the
/// data's progress to `progress`. Nothing appears under the artifact's name
/// unless the whole dump succeeds.
pub async fn run(config: &DumpConfig, progress: &dyn Progress) -> Result<DumpOutcome> {
    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    let read = read_catalog(client, config).await?;
    let stamp = Stamp::new(config.source_date_epoch);
    let path = config
        .output
        .clone()
        .unwrap_or_else(|| default_output(config.target.database(), &stamp.created_at));

    let parts = if config.schema_only {
        Vec::new()
    } else {
        parts::plan(client, &read.order.tables, config.jobs, config.ordered).await?
    };
    let readers = config.jobs.min(parts.len());
    let (helpers, snapshot) = snapshot::join(client, &config.target, readers).await?;
    let mut warnings = Vec::new();
    if helpers.len() + 1 < readers {
        warnings.push(format!(
            "the server accepts no more connections; dumping over {} instead of {readers}",
            helpers.len() + 1
        ));
    }
    let clients: Vec<&Client> = std::iter::once(client)
        .chain(helpers.iter().map(|h| &h.client))
        .collect();

    let mut sink = ArtifactSink::create(&path, stamp.mtime, config.compression)?;
    progress.begin("dump", read.order.tables.len(), None);
    let source = Source {
        tables: &read.order.tables,
        parts: &parts,
        ordered: config.ordered,
        snapshot: snapshot.as_deref(),
    };
    let summaries = readers::copy_tables(&clients, &source, &mut sink, progress).await;
    progress.finish();
    let summaries = summaries?;
    for helper in &helpers {
        helper.client.batch_execute("COMMIT").await?;
    }
    let carries_statistics = config.statistics
        && !config.schema_only
        && session.server_version_num >= catalog::STATISTICS_VERSION;
    let statistics = match carries_statistics {
        true => statistics::write(client, &read.order.tables, &mut sink).await?,
        false => None,
    };
    let left_out = read.order.left_out.clone();
    let manifest = Arc::new(manifest::build(
        config, &session, read, summaries, statistics, stamp,
    ));
    let (path, sidecar) = sink.finish(Arc::clone(&manifest)).await?;
    client
        .batch_execute("COMMIT")
        .await
        .context("cannot end the dump transaction")?;
    Ok(DumpOutcome {
        path,
        sidecar,
        manifest,
        connections: clients.len(),
        parts: parts.len(),
        warnings,
        left_out,
    })
}

/// Start the dump's snapshot, order and lock the selected tables, and read
/// their sequences and schema.
async fn read_catalog(client: &Client, config: &DumpConfig) -> Result<Read> {
    client
        .batch_execute(sql::BEGIN_SNAPSHOT)
        .await
        .context("cannot start the dump transaction")?;
    let order = load_order::read(client, &config.selection).await?;
    let names: Vec<&QualifiedName> = order.tables.iter().map(|t| &t.name).collect();
    if !names.is_empty() {
        client
            .batch_execute(&sql::lock_for_dump(&names, false))
            .await
            .context("cannot lock the tables to dump")?;
    }
    let sequences = manifest::read_sequences(client, config, &order).await?;
    let sequence_names: Vec<QualifiedName> = sequences.iter().map(|s| s.name.clone()).collect();
    let foreign_keys: Vec<&catalog::ForeignKey> =
        order.foreign_keys.iter().map(|(fk, _)| fk).collect();
    let outside: Vec<&catalog::ForeignKey> = order.outside_foreign_keys.iter().collect();
    let whole_schemas = match (config.selection.whole_schemas(), &config.selection.schemas) {
        (false, _) => Vec::new(),
        (true, named) if !named.is_empty() => named.clone(),
        (true, _) => catalog::user_schemas(client).await?,
    };
    let scope = schema::Scope {
        tables: &order.tables,
        sequences: &sequence_names,
        foreign_keys: &foreign_keys,
        outside_foreign_keys: &outside,
        whole_schemas: &whole_schemas,
        privileges: config.privileges,
    };
    let schema = schema::read(client, &scope).await?;
    let keys = manifest::recorded_keys(client, config, &order.tables).await?;
    Ok(Read {
        order,
        sequences,
        schema,
        keys,
    })
}

/// `artifacts/<db>-<yyyymmddThhmmssZ>.seedpack`, from an RFC 3339 time.
fn default_output(database: &str, created_at: &str) -> PathBuf {
    let stamp: String = created_at
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let safe_db: String = database
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("artifacts").join(format!("{safe_db}-{stamp}.seedpack"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_output_names_database_and_utc_time() {
        assert_eq!(
            default_output("my app", "2026-11-22T10:04:05Z"),
            PathBuf::from("artifacts/my_app-20261122T100405Z.seedpack")
        );
    }
}
