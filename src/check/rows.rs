//! Which rows differ, by key: the artifact's rows of a table are loaded
//! into a temporary table (checked against their checksum as they stream)
//! and compared with the table's under the table's key. `check --mode
//! contains` stands on this (see `contains`); `--mode exact` uses it to name
//! the first keys of a table whose digest differs.

use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;
use tokio_postgres::Client;

use crate::artifact::ArtifactReader;
use crate::ident::QualifiedName;
use crate::pg::sql::{self, RowComparison};
use crate::progress::Unseen;
use crate::restore::load_table;

/// How many differing keys a table's report lists.
pub const LISTED: i64 = 5;

/// What is wrong with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    /// The artifact's row is not in the table.
    Missing,
    /// The table's row with this key holds other values.
    Changed,
    /// The table holds a row the artifact does not (exact mode only).
    Extra,
}

/// A row that differs, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowDifference {
    pub key: String,
    pub difference: Difference,
}

/// The rows of a table that differ from the artifact's.
#[derive(Debug, Default)]
pub struct Differences {
    /// How many rows differ in all.
    pub count: u64,
    /// The first [`LISTED`] of them, in key order.
    pub first: Vec<RowDifference>,
}

/// Where the artifact's rows of the table at `position` are staged.
pub fn stage_name(position: usize) -> QualifiedName {
    QualifiedName::new("pg_temp", format!("seedpack_check_{position}"))
}

/// Stage the artifact's rows of the table at `position` beside it, typed
/// as its columns are (and checked against their checksum as they stream).
pub async fn stage(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    only: bool,
) -> Result<QualifiedName> {
    let entry = &reader.manifest().tables[position];
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let stage = stage_name(position);
    client
        .batch_execute(&sql::create_check_stage(
            &stage,
            &entry.name,
            &columns,
            only,
        ))
        .await?;
    load_table(client, reader, position, &Unseen, &stage, false).await?;
    Ok(stage)
}

/// The rows of `comparison.table` that differ from its staged ones.
pub async fn differences(client: &Client, comparison: &RowComparison<'_>) -> Result<Differences> {
    let rows = client
        .query(&sql::row_differences(comparison), &[&LISTED])
        .await
        .with_context(|| format!("cannot compare the rows of {}", comparison.table))?;
    let count = rows.first().map_or(0, |r| r.get::<_, i64>("differing")) as u64;
    let first = rows
        .iter()
        .map(|row| RowDifference {
            key: row.get("key"),
            difference: match row.get::<_, &str>("difference") {
                "missing" => Difference::Missing,
                "changed" => Difference::Changed,
                _ => Difference::Extra,
            },
        })
        .collect();
    Ok(Differences { count, first })
}

/// Compare the table at `position` of the artifact with the rows its target
/// table holds, on all the artifact's columns, under `key` (all columns
/// when empty). With `extra`, rows the artifact lacks count too.
pub async fn compare(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    key: &[String],
    only: bool,
    extra: bool,
) -> Result<Differences> {
    let entry = &reader.manifest().tables[position];
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let key: Vec<&str> = match key.is_empty() {
        true => columns.clone(),
        false => key.iter().map(String::as_str).collect(),
    };
    let stage = stage(client, reader, position, only).await?;
    let found = differences(
        client,
        &RowComparison {
            table: &entry.name,
            stage: &stage,
            columns: &columns,
            key: &key,
            only,
            extra,
        },
    )
    .await?;
    client.batch_execute(&sql::drop_table(&stage)).await?;
    Ok(found)
}

/// The server's message, when `error` is the server refusing a statement
/// (as it does for a column the table lacks); `None` for anything else.
pub fn server_message(error: &anyhow::Error) -> Option<String> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<tokio_postgres::Error>())
        .and_then(|e| e.as_db_error())
        .map(|db| db.message().to_owned())
}
