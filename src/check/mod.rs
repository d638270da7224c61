//! `seedpack check`: does a database hold an artifact's data?
//!
//! `--mode exact` (after a replace): each table holds exactly the
//! artifact's rows. Its digest is compared first (`digest`); only a table
//! that differs has its rows compared by key (`rows`), to name the first
//! keys that are missing, changed or extra. `--mode contains` (after an
//! upsert or insert-missing): each table holds every artifact row, equal
//! under its key (`--key`, the dump's, or the primary key), and may hold
//! rows of its own; compared by key for every table.
//!
//! Everything is read in one snapshot; the artifact's rows are staged in
//! temporary tables that the transaction's rollback removes. A standby
//! (read-only) server can be checked exactly, without the key listing.

mod contains;
mod digest;
mod rows;

use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_postgres::Client;

use crate::artifact::{ArtifactError, ArtifactReader};
use crate::catalog;
use crate::config::CheckConfig;
use crate::error::Error;
use crate::ident::QualifiedName;
use crate::keys::{check_choices, match_key};
use crate::mode::CheckMode;
use crate::pg::{self, sql};
use digest::Digested;
pub use rows::{Difference, RowDifference};

/// How one table compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Equal,
    Differs,
    Missing,
}

#[derive(Debug, Serialize)]
pub struct TableCheck {
    pub table: QualifiedName,
    pub state: State,
    pub expected_rows: u64,
    /// Rows in the database (absent when the table is missing).
    pub rows: Option<u64>,
    /// Why it differs, when it does.
    pub detail: Option<String>,
    /// The first rows that differ, by key, when they were compared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<RowDifference>,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub content_id: String,
    pub mode: CheckMode,
    pub tables: Vec<TableCheck>,
}

impl CheckReport {
    pub fn all_equal(&self) -> bool {
        self.tables.iter().all(|t| t.state == State::Equal)
    }

    /// A failure (exit 1) naming how many tables differ, unless all are equal.
    pub fn drift(&self) -> Result<(), Error> {
        let differing = self
            .tables
            .iter()
            .filter(|t| t.state != State::Equal)
            .count();
        match differing {
            0 => Ok(()),
            _ => Err(Error::Drift {
                differing,
                total: self.tables.len(),
            }),
        }
    }
}

pub async fn run(config: &CheckConfig) -> Result<CheckReport> {
    let path = config.file.clone();
    let reader = tokio::task::spawn_blocking(move || -> Result<ArtifactReader> {
        Ok(ArtifactReader::open(&path)?)
    })
    .await??;
    let reader = Arc::new(reader);
    let manifest = reader.manifest();
    if manifest.unordered && config.mode == CheckMode::Exact {
        return Err(ArtifactError::NotComparable(
            "it was dumped with --no-order, and an exact check compares rows in key order; \
             dump again without --no-order, or check with --mode contains"
                .into(),
        )
        .into());
    }
    check_choices(&config.keys, &manifest.tables)?;
    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    let stages = begin(client, config.mode).await?;
    let names: Vec<QualifiedName> = manifest.tables.iter().map(|t| t.name.clone()).collect();
    let existing = catalog::tables_named(client, &names).await?;
    let mut tables = Vec::with_capacity(names.len());
    let mut present = Vec::new();
    for (position, entry) in manifest.tables.iter().enumerate() {
        // seedpack's own history, in an artifact from before dumps left it
        // out, says nothing about the application's data.
        if entry.name.schema == catalog::OWN_SCHEMA {
            continue;
        }
        match existing.iter().find(|t| t.name == entry.name) {
            Some(table) => present.push(contains::Present {
                position,
                table,
                key: match_key(&config.keys, entry)?,
            }),
            None => tables.push(TableCheck {
                table: entry.name.clone(),
                state: State::Missing,
                expected_rows: entry.rows,
                rows: None,
                detail: None,
                differences: Vec::new(),
            }),
        }
    }
    match config.mode {
        CheckMode::Exact => {
            for table in &present {
                let compared = Compared {
                    reader: &reader,
                    position: table.position,
                    table_oid: table.table.oid,
                    key: &table.key,
                    only: !table.table.partitioned,
                    stages,
                };
                tables.push(compared.check(client).await?);
            }
        }
        CheckMode::Contains => tables.extend(check_contains(client, &reader, &present).await?),
    }
    tables.sort_by_key(|t| {
        manifest
            .tables
            .iter()
            .position(|e| e.name == t.table)
            .unwrap_or(usize::MAX)
    });
    client.batch_execute("ROLLBACK").await?;
    Ok(CheckReport {
        content_id: manifest.content_id.clone(),
        mode: config.mode,
        tables,
    })
}

/// Start the check's snapshot. Writable, so that artifact rows can be
/// staged in temporary tables, except on a standby, where only the exact
/// digest comparison is possible. Returns whether rows can be staged.
async fn begin(client: &Client, mode: CheckMode) -> Result<bool> {
    let standby: bool = client
        .query_one("SELECT pg_catalog.pg_is_in_recovery()", &[])
        .await?
        .get(0);
    if standby && mode == CheckMode::Contains {
        return Err(Error::Refused(
            "a standby cannot stage the artifact's rows that --mode contains compares; \
             check the primary"
                .into(),
        )
        .into());
    }
    let begin = match standby {
        true => sql::BEGIN_SNAPSHOT,
        false => "BEGIN ISOLATION LEVEL REPEATABLE READ",
    };
    client
        .batch_execute(begin)
        .await
        .context("cannot start the check's transaction")?;
    Ok(!standby)
}

/// One artifact table and how to compare it.
struct Compared<'a> {
    reader: &'a Arc<ArtifactReader>,
    position: usize,
    table_oid: u32,
    key: &'a [String],
    /// Only the table's own rows, not its inheritance children's.
    only: bool,
    /// Whether artifact rows can be staged (not on a standby).
    stages: bool,
}

impl Compared<'_> {
    /// Compare exactly, inside a savepoint: a table the comparison cannot
    /// read (a column it lacks, say) differs, and the rest go on.
    async fn check(&self, client: &Client) -> Result<TableCheck> {
        let entry = &self.reader.manifest().tables[self.position];
        client.batch_execute("SAVEPOINT seedpack_check").await?;
        let compared = self.exact(client).await;
        let (state, rows, detail, differences) = match compared {
            Ok(outcome) => outcome,
            Err(e) => match rows::server_message(&e) {
                Some(message) => {
                    client
                        .batch_execute("ROLLBACK TO SAVEPOINT seedpack_check")
                        .await?;
                    (State::Differs, None, Some(message), Vec::new())
                }
                None => return Err(e.context(format!("cannot check table {}", entry.name))),
            },
        };
        client
            .batch_execute("RELEASE SAVEPOINT seedpack_check")
            .await?;
        Ok(TableCheck {
            table: entry.name.clone(),
            state,
            expected_rows: entry.rows,
            rows,
            detail,
            differences,
        })
    }

    async fn exact(&self, client: &Client) -> Result<Outcome> {
        let entry = &self.reader.manifest().tables[self.position];
        match digest::compare(client, entry, self.table_oid, self.only).await? {
            Digested::Equal { rows } => Ok((State::Equal, Some(rows), None, Vec::new())),
            Digested::Unordered => {
                let rows = count(client, &entry.name, self.only).await?;
                let detail = "its partitions are not the artifact's, so rows were compared by key";
                if !self.stages || entry.columns.is_empty() {
                    return Ok((State::Differs, Some(rows), Some(detail.into()), Vec::new()));
                }
                let found = self.rows(client, true).await?;
                Ok(if found.count == 0 && rows == entry.rows {
                    (State::Equal, Some(rows), None, Vec::new())
                } else {
                    (State::Differs, Some(rows), Some(detail.into()), found.first)
                })
            }
            Digested::Differs { rows, detail } if !self.stages || entry.columns.is_empty() => {
                Ok((State::Differs, Some(rows), Some(detail), Vec::new()))
            }
            Digested::Differs { rows, detail } => {
                let found = self.rows(client, true).await?;
                Ok((State::Differs, Some(rows), Some(detail), found.first))
            }
        }
    }

    async fn rows(&self, client: &Client, extra: bool) -> Result<rows::Differences> {
        rows::compare(
            client,
            self.reader,
            self.position,
            self.key,
            self.only,
            extra,
        )
        .await
    }
}

/// `--mode contains` for every present table: all staged (and translated)
/// first, then each compared.
async fn check_contains(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    present: &[contains::Present<'_>],
) -> Result<Vec<TableCheck>> {
    let stages = contains::stage_all(client, reader, present).await?;
    let mut checks = Vec::with_capacity(present.len());
    for (table, stage) in present.iter().zip(stages) {
        let entry = &reader.manifest().tables[table.position];
        let rows = count(client, &entry.name, !table.table.partitioned).await?;
        let (state, detail, differences) = match stage {
            Err(message) => (State::Differs, Some(message), Vec::new()),
            Ok(_) if entry.columns.is_empty() => match rows >= entry.rows {
                true => (State::Equal, None, Vec::new()),
                false => (State::Differs, None, Vec::new()),
            },
            Ok(stage) => {
                let found = contains::compare(client, reader, table, &stage).await?;
                match found.count {
                    0 => (State::Equal, None, Vec::new()),
                    count => (
                        State::Differs,
                        Some(format!(
                            "{count} of the artifact's {} rows missing or changed",
                            entry.rows
                        )),
                        found.first,
                    ),
                }
            }
        };
        checks.push(TableCheck {
            table: entry.name.clone(),
            state,
            expected_rows: entry.rows,
            rows: Some(rows),
            detail,
            differences,
        });
    }
    Ok(checks)
}

/// A table's state, its row count, why it differs, and the first rows that do.
type Outcome = (State, Option<u64>, Option<String>, Vec<RowDifference>);

async fn count(client: &Client, table: &QualifiedName, only: bool) -> Result<u64> {
    let rows: i64 = client
        .query_one(&sql::count_rows(table, only), &[])
        .await?
        .get(0);
    Ok(rows.max(0) as u64)
}
