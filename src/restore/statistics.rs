//! After a replace's load, before its commit: planner statistics, so the
//! restored tables plan well from the first query.
//!
//! From a PostgreSQL 18 source into 18 or newer, the artifact's statistics
//! are set as the source had them (`pg_restore_relation_stats`,
//! `pg_restore_attribute_stats`; the tables' owner may, through MAINTAIN),
//! on each relation only where it is the one they were read from: of an
//! artifact table, an index with the same definition, a partition with the
//! same bound. Otherwise the loaded tables of at least [`ANALYZE_MIN_ROWS`]
//! rows are analyzed: about 0.3 ms per table plus 0.3 s for a million rows
//! here, against plans made blind until autovacuum comes by; smaller tables
//! plan well from their size alone. The merge modes leave statistics to
//! autovacuum: the tables hold more than the artifact says.

use std::collections::HashSet;
use std::io::Read;

use anyhow::{Context, Result};
use futures_util::{stream, StreamExt, TryStreamExt};
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use crate::artifact::{
    read_statistics, stray_statistics, ArtifactError, ArtifactReader, Manifest, RelationStatistics,
    StatisticsEntry,
};
use crate::catalog::STATISTICS_VERSION;
use crate::ident::QualifiedName;
use crate::pg::statistics_sql as sql;

/// Tables with fewer rows are not analyzed: a plan over them costs little
/// whatever it is, and their page count already tells the planner much.
pub const ANALYZE_MIN_ROWS: u64 = 1_000;

/// Statistics calls in flight on the connection at once.
const IN_FLIGHT: usize = 64;

/// What the restore did for the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statistics {
    /// Set from the artifact for this many relations.
    Carried(u64),
    /// These many tables analyzed.
    Analyzed(usize),
    /// The artifact's statistics were refused (the server's reason), these
    /// many tables analyzed instead.
    Refused {
        reason: String,
        analyzed: usize,
    },
    None,
}

/// Give the loaded tables their statistics: carried when the artifact has
/// them and the target can take them, else ANALYZE of the large tables.
pub(super) async fn settle(
    client: &Client,
    reader: &ArtifactReader,
    server_version_num: u32,
) -> Result<Statistics> {
    let manifest = reader.manifest();
    if manifest.statistics.is_some() && server_version_num >= STATISTICS_VERSION {
        return carry(client, reader).await;
    }
    analyze(client, manifest).await.map(Statistics::Analyzed)
}

/// ANALYZE the artifact's tables of at least [`ANALYZE_MIN_ROWS`] rows
/// that the restoring role owns (or is a member of the owner of).
async fn analyze(client: &Client, manifest: &Manifest) -> Result<usize> {
    let large: Vec<&QualifiedName> = manifest
        .tables
        .iter()
        .filter(|t| t.rows >= ANALYZE_MIN_ROWS)
        .map(|t| &t.name)
        .collect();
    if large.is_empty() {
        return Ok(0);
    }
    let (schemas, names): (Vec<&str>, Vec<&str>) = large
        .iter()
        .map(|t| (t.schema.as_str(), t.name.as_str()))
        .unzip();
    let owned: HashSet<(String, String)> = client
        .query(sql::OWNED_TABLES, &[&schemas, &names])
        .await
        .context("cannot read the tables' owners")?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let tables: Vec<&QualifiedName> = large
        .into_iter()
        .filter(|t| owned.contains(&(t.schema.clone(), t.name.clone())))
        .collect();
    if !tables.is_empty() {
        client
            .batch_execute(&sql::analyze(&tables))
            .await
            .context("cannot analyze the restored tables")?;
    }
    Ok(tables.len())
}

/// Set the artifact's statistics, relation by relation as they stream from
/// the artifact. Any failure rolls back to before the first and falls back
/// to ANALYZE: statistics are never worth a failed restore.
async fn carry(client: &Client, reader: &ArtifactReader) -> Result<Statistics> {
    client
        .batch_execute("SAVEPOINT seedpack_statistics")
        .await?;
    match set_all(client, reader).await {
        Ok(relations) => {
            client
                .batch_execute("RELEASE SAVEPOINT seedpack_statistics")
                .await?;
            Ok(Statistics::Carried(relations))
        }
        Err(e) => match server_reason(&e) {
            Some(reason) => {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT seedpack_statistics")
                    .await?;
                let analyzed = analyze(client, reader.manifest()).await?;
                Ok(Statistics::Refused { reason, analyzed })
            }
            None => Err(e),
        },
    }
}

/// The server's message when it raised the error (a value it would not
/// take), not a broken connection or a damaged artifact.
fn server_reason(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|cause| {
        let db = cause
            .downcast_ref::<tokio_postgres::Error>()?
            .as_db_error()?;
        Some(db.message().to_owned())
    })
}

async fn set_all(client: &Client, reader: &ArtifactReader) -> Result<u64> {
    let manifest = reader.manifest();
    let entry = manifest.statistics.clone().expect("statistics carried");
    let version = i32::try_from(manifest.server_version_num).unwrap_or(i32::MAX);
    let relation = client.prepare(sql::RESTORE_RELATION_STATS).await?;
    let attribute = client.prepare(sql::RESTORE_ATTRIBUTE_STATS).await?;
    let tables: HashSet<&QualifiedName> = manifest.tables.iter().map(|t| &t.name).collect();

    let data = reader.statistics_data()?;
    let (lines, mut received) = mpsc::channel::<RelationStatistics>(IN_FLIGHT);
    let reading = tokio::task::spawn_blocking(move || read_lines(data, &entry, &lines));
    let relations = stream::poll_fn(|cx| received.poll_recv(cx));
    let calls = relations
        .map(|relation| {
            if !tables.contains(&relation.table) {
                return Err(anyhow::Error::from(stray_statistics(&relation)));
            }
            Ok(calls_for(relation, version))
        })
        .map_ok(|calls| stream::iter(calls.into_iter().map(Ok::<_, anyhow::Error>)))
        .try_flatten()
        .map_ok(|call| run(client, &relation, &attribute, call))
        .try_buffered(IN_FLIGHT);
    let set = calls.try_fold(0u64, |n, relations| async move { Ok(n + relations) });
    let set = set.await;
    let read = reading.await.context("the statistics reader stopped")?;
    read?;
    set
}

/// One statistics call: a relation's, or one of its columns'.
struct Call {
    params: Vec<Option<String>>,
    version: i32,
    attnum: Option<i16>,
    inherited: Option<bool>,
}

/// The arguments the statements take, in their order, after the relation
/// and its guard (see `sql::RESTORE_RELATION_STATS`).
const RELATION_KEYS: [&str; 4] = ["relpages", "reltuples", "relallvisible", "relallfrozen"];
const ATTRIBUTE_KEYS: [&str; 13] = [
    "null_frac",
    "avg_width",
    "n_distinct",
    "most_common_vals",
    "most_common_freqs",
    "histogram_bounds",
    "correlation",
    "most_common_elems",
    "most_common_elem_freqs",
    "elem_count_histogram",
    "range_length_histogram",
    "range_empty_frac",
    "range_bounds_histogram",
];

fn calls_for(relation: RelationStatistics, version: i32) -> Vec<Call> {
    let target = [
        Some(relation.schema.clone()),
        Some(relation.name.clone()),
        Some(relation.table.schema.clone()),
        Some(relation.table.name.clone()),
        relation.definition.clone(),
    ];
    let mut calls = vec![Call {
        params: (target.iter().cloned())
            .chain(
                RELATION_KEYS
                    .iter()
                    .map(|k| relation.relation.get(*k).cloned()),
            )
            .collect(),
        version,
        attnum: None,
        inherited: None,
    }];
    for column in relation.columns {
        calls.push(Call {
            params: (target.iter().cloned())
                .chain(std::iter::once(column.attname))
                .chain(
                    ATTRIBUTE_KEYS
                        .iter()
                        .map(|k| column.values.get(*k).cloned()),
                )
                .collect(),
            version,
            attnum: column.attnum,
            inherited: Some(column.inherited),
        });
    }
    calls
}

/// Run one call; 1 when it was a relation's and set, else 0.
async fn run(
    client: &Client,
    relation: &Statement,
    attribute: &Statement,
    call: Call,
) -> Result<u64> {
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&call.version];
    params.extend(call.params.iter().map(|p| p as &(dyn ToSql + Sync)));
    let rows = match call.inherited {
        None => client.execute(relation, &params).await,
        Some(ref inherited) => {
            params.push(&call.attnum);
            params.push(inherited);
            client.execute(attribute, &params).await.map(|_| 0)
        }
    };
    rows.context("cannot set the planner statistics")
}

/// Parse the member's lines, sending each relation on; a damaged member
/// fails the restore it was read in.
fn read_lines(
    data: impl Read,
    entry: &StatisticsEntry,
    lines: &mpsc::Sender<RelationStatistics>,
) -> Result<(), ArtifactError> {
    // A send fails when the restore stopped reading: its error says why.
    read_statistics(data, entry, |relation| {
        lines.blocking_send(relation).is_ok()
    })
}
