//! `seedpack dump`: snapshot -> catalog -> plan -> COPY out -> artifact.
//!
//! Everything is read in one REPEATABLE READ READ ONLY transaction, so the
//! artifact is one consistent snapshot; the tables are locked ACCESS SHARE so
//! no DDL changes them mid-dump. Rows are written in a stable order (primary
//! key, else whole-row text), so unchanged data gives the same bytes. The
//! schema of the tables and what they need goes into the manifest.

mod sink;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use futures_util::StreamExt;

use crate::artifact::{
    content_id, data_member_name, write_sidecar, ColumnEntry, ForeignKeyEntry, Manifest,
    SequenceEntry, TableEntry, FORMAT_NAME, FORMAT_VERSION,
};
use crate::catalog::{self, Table};
use crate::config::DumpConfig;
use crate::ordering::{self, Ordered};
use crate::pg::{self, sql, QualifiedName};
use crate::progress::Progress;
use crate::schema;
use sink::ArtifactSink;

/// What a dump wrote.
#[derive(Debug)]
pub struct DumpOutcome {
    pub path: PathBuf,
    pub sidecar: PathBuf,
    pub manifest: Manifest,
}

pub async fn run(config: &DumpConfig) -> Result<DumpOutcome> {
    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .context("cannot start the dump transaction")?;
    let ordered = ordering::read(client, &config.selection).await?;
    if !ordered.tables.is_empty() {
        let names: Vec<&QualifiedName> = ordered.tables.iter().map(|t| &t.name).collect();
        client
            .batch_execute(&sql::lock_for_dump(&names))
            .await
            .context("cannot lock the tables to dump")?;
    }
    let sequences = read_sequences(client, config, &ordered).await?;
    let sequence_names: Vec<QualifiedName> = sequences.iter().map(|s| s.name.clone()).collect();
    let foreign_key_refs: Vec<&catalog::ForeignKey> =
        ordered.foreign_keys.iter().map(|(fk, _)| fk).collect();
    let schema = schema::read(client, &ordered.tables, &sequence_names, &foreign_key_refs).await?;

    let created = config
        .source_date_epoch
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
        .unwrap_or_else(SystemTime::now);
    let mtime = created
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let created_at = humantime::format_rfc3339_seconds(created).to_string();
    let database = config.target.database().to_owned();
    let path = config
        .output
        .clone()
        .unwrap_or_else(|| default_output(&database, &created_at));

    let mut sink = ArtifactSink::create(&path, mtime, config.compress_level)?;
    let progress = Progress::new(config.quiet, "dump", ordered.tables.len(), None);
    let mut tables = Vec::with_capacity(ordered.tables.len());
    for (position, table) in ordered.tables.iter().enumerate() {
        let entry = dump_table(
            client,
            &mut sink,
            &progress,
            position,
            table,
            config.schema_only,
        )
        .await
        .with_context(|| format!("cannot dump table {}", table.name))?;
        tables.push(entry);
        progress.table_done();
    }
    progress.finish();

    let foreign_keys: Vec<ForeignKeyEntry> = ordered
        .foreign_keys
        .iter()
        .map(|(fk, needs_deferral)| ForeignKeyEntry {
            name: fk.name.clone(),
            table: fk.relation.clone(),
            references: fk.referenced.clone(),
            definition: fk.definition.clone(),
            deferrable: fk.deferrable,
            initially_deferred: fk.initially_deferred,
            needs_deferral: *needs_deferral,
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT_NAME.to_owned(),
        format_version: FORMAT_VERSION,
        seedpack_version: env!("CARGO_PKG_VERSION").to_owned(),
        server_version: session.server_version.clone(),
        server_version_num: session.server_version_num,
        created_at,
        database,
        label: config.label.clone(),
        content_id: content_id(&tables, &foreign_keys, &sequences, Some(&schema)),
        tables,
        foreign_keys,
        cycles: ordered.cycles.clone(),
        self_references: ordered.self_references.clone(),
        sequences,
        schema: Some(schema),
        schema_only: config.schema_only,
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    let path = sink.finish(json).await?;
    let sidecar = write_sidecar(&path)?;
    client
        .batch_execute("COMMIT")
        .await
        .context("cannot end the dump transaction")?;
    Ok(DumpOutcome {
        path,
        sidecar,
        manifest,
    })
}

async fn dump_table(
    client: &tokio_postgres::Client,
    sink: &mut ArtifactSink,
    progress: &Progress,
    position: usize,
    table: &Table,
    schema_only: bool,
) -> Result<TableEntry> {
    let columns: Vec<&str> = table.stored_columns().map(|c| c.name.as_str()).collect();
    let statement = sql::copy_out(
        &table.name,
        &columns,
        &table.primary_key,
        !table.partitioned,
    );
    let member = data_member_name(position);
    sink.begin_member(member.clone()).await?;
    if !schema_only {
        let mut bar = progress.table(&table.name.to_string(), None);
        let stream = client.copy_out(&statement).await?;
        futures_util::pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            bar.advance(&chunk);
            sink.write(&chunk).await?;
        }
    }
    let summary = sink.end_member().await?;
    Ok(TableEntry {
        name: table.name.clone(),
        kind: table.kind().to_owned(),
        columns: table
            .stored_columns()
            .map(|c| ColumnEntry {
                name: c.name.clone(),
                type_name: c.type_name.clone(),
            })
            .collect(),
        primary_key: table.primary_key.clone(),
        rows: summary.rows,
        bytes: summary.bytes,
        data_sha256: summary.data_sha256,
        member,
        member_bytes: summary.member_bytes,
        member_sha256: summary.member_sha256,
    })
}

async fn read_sequences(
    client: &tokio_postgres::Client,
    config: &DumpConfig,
    ordered: &Ordered,
) -> Result<Vec<SequenceEntry>> {
    let oids: Vec<u32> = ordered.tables.iter().map(|t| t.oid).collect();
    let mut schemas: Vec<String> = ordered
        .tables
        .iter()
        .map(|t| t.name.schema.clone())
        .chain(config.selection.schemas.iter().cloned())
        .collect();
    schemas.sort();
    schemas.dedup();
    let names =
        catalog::sequences_for(client, &oids, !config.selection.names_tables(), &schemas).await?;
    let mut sequences = Vec::with_capacity(names.len());
    for name in names {
        let (last_value, is_called) = catalog::sequence_state(client, &name).await?;
        sequences.push(SequenceEntry {
            name,
            last_value,
            is_called,
        });
    }
    Ok(sequences)
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
