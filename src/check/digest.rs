//! `check --mode exact`'s first look: each table read as a dump reads it
//! (same session settings, same columns, same row order), its row count and
//! SHA-256 compared with the manifest's. Equal digests end the check of a
//! table without staging a row.

use anyhow::Result;
use futures_util::StreamExt;
use tokio_postgres::Client;

use crate::artifact::{DataDigest, TableEntry};
use crate::pg::sql;

/// How a table's digest compares.
#[derive(Debug)]
pub(super) enum Digested {
    Equal {
        rows: u64,
    },
    /// Row count or content differs; `detail` says which.
    Differs {
        rows: u64,
        detail: String,
    },
}

/// Read `entry`'s table and compare its digest with the manifest's. A
/// failure (a column the table lacks) is the server's error.
pub(super) async fn compare(client: &Client, entry: &TableEntry, only: bool) -> Result<Digested> {
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let statement = sql::copy_out(&sql::CopyOut {
        table: &entry.name,
        columns: &columns,
        only,
        order: Some(&entry.primary_key),
        range: None,
    });
    let mut digest = DataDigest::new();
    let stream = client.copy_out(&statement).await?;
    futures_util::pin_mut!(stream);
    while let Some(chunk) = stream.next().await {
        digest.update(&chunk?);
    }
    let rows = digest.rows();
    Ok(if rows != entry.rows {
        Digested::Differs {
            rows,
            detail: format!("{rows} rows, the artifact {}", entry.rows),
        }
    } else if digest.finish() != entry.data_sha256 {
        Digested::Differs {
            rows,
            detail: "same row count, different content".into(),
        }
    } else {
        Digested::Equal { rows }
    })
}
