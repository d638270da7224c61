//! `seedpack check`: does a database hold exactly an artifact's data?
//!
//! Each of the artifact's tables is read as a dump reads it (same session
//! settings, same columns, same row order) and its row count and SHA-256
//! compared with the manifest's. CI can prove staging holds the released seed.

use anyhow::{Context, Result};
use futures_util::StreamExt;
use serde::Serialize;

use crate::artifact::{ArtifactError, ArtifactReader, DataDigest, TableEntry};
use crate::catalog;
use crate::config::CheckConfig;
use crate::error::Error;
use crate::ident::QualifiedName;
use crate::pg::{self, sql};

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
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub content_id: String,
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
    let manifest = reader.manifest();
    if manifest.unordered {
        return Err(ArtifactError::NotComparable(
            "it was dumped with --no-order, and check compares rows in key order; \
             dump again without --no-order"
                .into(),
        )
        .into());
    }
    let session = pg::connect(&config.target).await?;
    let client = &session.client;
    client
        .batch_execute(sql::BEGIN_SNAPSHOT)
        .await
        .context("cannot start a read-only transaction")?;
    let names: Vec<QualifiedName> = manifest.tables.iter().map(|t| t.name.clone()).collect();
    let existing = catalog::tables_named(client, &names).await?;
    let mut tables = Vec::with_capacity(names.len());
    // seedpack's own history, in an artifact from before dumps left it
    // out, says nothing about the application's data.
    let compared = manifest
        .tables
        .iter()
        .filter(|t| t.name.schema != catalog::OWN_SCHEMA);
    for entry in compared {
        let check = match existing.iter().find(|t| t.name == entry.name) {
            None => TableCheck {
                table: entry.name.clone(),
                state: State::Missing,
                expected_rows: entry.rows,
                rows: None,
                detail: None,
            },
            Some(table) => compare(client, entry, table.partitioned).await?,
        };
        tables.push(check);
    }
    Ok(CheckReport {
        content_id: manifest.content_id.clone(),
        tables,
    })
}

/// Read a table as a dump would and compare it with its manifest entry.
async fn compare(
    client: &tokio_postgres::Client,
    entry: &TableEntry,
    partitioned: bool,
) -> Result<TableCheck> {
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let statement = sql::copy_out(&sql::CopyOut {
        table: &entry.name,
        columns: &columns,
        only: !partitioned,
        order: Some(&entry.primary_key),
        range: None,
    });
    let mut digest = DataDigest::new();
    let result = async {
        let stream = client.copy_out(&statement).await?;
        futures_util::pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            digest.update(&chunk?);
        }
        Ok::<_, tokio_postgres::Error>(())
    }
    .await;
    let (state, rows, detail) = match result {
        // A column the artifact has but the table lacks, say: it differs.
        Err(e) => {
            client.batch_execute("ROLLBACK").await?;
            client.batch_execute(sql::BEGIN_SNAPSHOT).await?;
            let detail = e
                .as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_else(|| e.to_string());
            (State::Differs, None, Some(detail))
        }
        Ok(()) => {
            let rows = digest.rows();
            if rows != entry.rows {
                (
                    State::Differs,
                    Some(rows),
                    Some(format!("{rows} rows, the artifact {}", entry.rows)),
                )
            } else if digest.finish() != entry.data_sha256 {
                (
                    State::Differs,
                    Some(rows),
                    Some("same row count, different content".into()),
                )
            } else {
                (State::Equal, Some(rows), None)
            }
        }
    };
    Ok(TableCheck {
        table: entry.name.clone(),
        state,
        expected_rows: entry.rows,
        rows,
        detail,
    })
}
