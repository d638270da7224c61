//! `seedpack dump`: snapshot -> catalog -> plan -> COPY out -> artifact.
//!
//! Everything is read in one REPEATABLE READ READ ONLY transaction, so the
//! artifact is one consistent snapshot; the tables are locked ACCESS SHARE so
//! no DDL changes them mid-dump. With `--jobs`, more connections join that
//! transaction's exported snapshot and read parts of the data at once (see
//! `parts` and `readers`). Rows are written in a stable order (primary key,
//! else whole-row text), so unchanged data gives the same bytes. The schema
//! of the tables and what they need goes into the manifest.

mod parts;
mod readers;
mod sink;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::artifact::{
    content_id, data_member_name, write_sidecar, ColumnEntry, ForeignKeyEntry, Manifest,
    MemberSummary, SequenceEntry, TableEntry, FORMAT_NAME, FORMAT_VERSION,
};
use crate::catalog::{self, Table};
use crate::config::DumpConfig;
use crate::ordering::{self, Ordered};
use crate::pg::{self, sql, ConnectionTarget, QualifiedName, Session};
use crate::progress::Progress;
use crate::schema;
use readers::Source;
use sink::ArtifactSink;

/// What a dump wrote.
#[derive(Debug)]
pub struct DumpOutcome {
    pub path: PathBuf,
    pub sidecar: PathBuf,
    pub manifest: Manifest,
    /// Connections that read the data, and the parts they read.
    pub connections: usize,
    pub parts: usize,
}

pub async fn run(config: &DumpConfig) -> Result<DumpOutcome> {
    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .context("cannot start the dump transaction")?;
    let ordered = ordering::read(client, &config.selection).await?;
    let names: Vec<&QualifiedName> = ordered.tables.iter().map(|t| &t.name).collect();
    if !names.is_empty() {
        client
            .batch_execute(&sql::lock_for_dump(&names, false))
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

    let parts = if config.schema_only {
        Vec::new()
    } else {
        parts::plan(client, &ordered.tables, config.jobs, config.ordered).await?
    };
    let helpers =
        join_snapshot(client, &config.target, &names, config.jobs.min(parts.len())).await?;
    let clients: Vec<&Client> = std::iter::once(client)
        .chain(helpers.iter().map(|h| &h.client))
        .collect();

    let mut sink = ArtifactSink::create(&path, mtime, config.compress_level)?;
    let progress = Progress::new(config.quiet, "dump", ordered.tables.len(), None);
    let source = Source {
        tables: &ordered.tables,
        parts: &parts,
        ordered: config.ordered,
    };
    let summaries = readers::copy_tables(&clients, &source, &mut sink, &progress).await?;
    progress.finish();
    for helper in &helpers {
        helper.client.batch_execute("COMMIT").await?;
    }
    let tables: Vec<TableEntry> = ordered
        .tables
        .iter()
        .zip(summaries)
        .enumerate()
        .map(|(position, (table, summary))| table_entry(position, table, summary))
        .collect();

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
        unordered: !config.ordered,
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
        connections: clients.len(),
        parts: parts.len(),
    })
}

/// Open `readers - 1` more connections reading the same snapshot as
/// `client`'s transaction, with the same tables locked. None for one reader.
async fn join_snapshot(
    client: &Client,
    target: &ConnectionTarget,
    tables: &[&QualifiedName],
    readers: usize,
) -> Result<Vec<Session>> {
    if readers < 2 {
        return Ok(Vec::new());
    }
    let snapshot: String = client
        .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
        .await
        .context("cannot export the dump's snapshot for more connections (try --jobs 1)")?
        .get(0);
    let join = |_| async {
        let helper = pg::connect(target).await?;
        helper
            .client
            .batch_execute(&sql::join_snapshot(&snapshot))
            .await
            .context("cannot join the dump's snapshot (try --jobs 1)")?;
        helper
            .client
            .batch_execute(&sql::lock_for_dump(tables, true))
            .await
            .map_err(|e| match e.code() {
                Some(&SqlState::LOCK_NOT_AVAILABLE) => anyhow::anyhow!(
                    "another session is waiting to change a table being dumped (ALTER, DROP, \
                     TRUNCATE...); run the dump again, or with --jobs 1"
                ),
                _ => anyhow::Error::new(e).context("cannot lock the tables to dump"),
            })?;
        Ok::<_, anyhow::Error>(helper)
    };
    let mut helpers = Vec::with_capacity(readers - 1);
    for joined in futures_util::future::join_all((1..readers).map(join)).await {
        match joined {
            Ok(helper) => helpers.push(helper),
            // A server at its connection limit still gets its dump, on fewer connections.
            Err(e) if too_many_connections(&e) => {}
            Err(e) => return Err(e),
        }
    }
    if helpers.len() + 1 < readers {
        eprintln!(
            "seedpack: warning: the server accepts no more connections; dumping over {} instead of {readers}",
            helpers.len() + 1
        );
    }
    Ok(helpers)
}

fn too_many_connections(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| *code == SqlState::TOO_MANY_CONNECTIONS)
    })
}

fn table_entry(position: usize, table: &Table, summary: MemberSummary) -> TableEntry {
    TableEntry {
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
        member: data_member_name(position),
        member_bytes: summary.member_bytes,
        member_sha256: summary.member_sha256,
    }
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
