//! Which rows differ, by key: the artifact's rows of a table are loaded
//! into a temporary table (checked against their checksum as they stream)
//! and compared with the table's under the table's key. `check --mode
//! contains` stands on this; `--mode exact` uses it to name the first keys
//! of a table whose digest differs.

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

/// Compare the table at `position` of the artifact with the rows its target
/// table holds, under `key` (all columns when empty). With `extra`, rows
/// the artifact lacks count too.
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
    let stage = QualifiedName::new("pg_temp", "seedpack_check");
    client
        .batch_execute(&sql::create_check_stage(
            &stage,
            &entry.name,
            &columns,
            only,
        ))
        .await?;
    load_table(client, reader, position, &Unseen, &stage, false).await?;
    let comparison = RowComparison {
        table: &entry.name,
        stage: &stage,
        columns: &columns,
        key: &key,
        only,
        extra,
    };
    let rows = client
        .query(&sql::row_differences(&comparison), &[&LISTED])
        .await
        .with_context(|| format!("cannot compare the rows of {}", entry.name))?;
    client.batch_execute(&sql::drop_table(&stage)).await?;
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
