//! `check --mode exact`'s first look: each table read as a dump reads it
//! (same session settings, same columns, same row order), its row count and
//! SHA-256 compared with the manifest's. Equal digests end the check of a
//! table without staging a row. A partitioned table dumped leaf by leaf is
//! read leaf by leaf, when the database's leaves are the artifact's.

use anyhow::Result;
use futures_util::StreamExt;
use tokio_postgres::Client;

use crate::artifact::{DataDigest, TableEntry};
use crate::catalog;
use crate::ident::QualifiedName;
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
    /// The table cannot be read in the dump's order (its partitions are
    /// not the artifact's): only a comparison by key can tell.
    Unordered,
}

/// Read `entry`'s table and compare its digest with the manifest's. A
/// failure (a column the table lacks) is the server's error.
pub(super) async fn compare(
    client: &Client,
    entry: &TableEntry,
    table_oid: u32,
    only: bool,
) -> Result<Digested> {
    let Some(sources) = sources(client, entry, table_oid, only).await? else {
        return Ok(Digested::Unordered);
    };
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let mut digest = DataDigest::new();
    for (table, only) in sources {
        let statement = sql::copy_out(&sql::CopyOut {
            table,
            columns: &columns,
            only,
            order: Some(&entry.primary_key),
            range: None,
        });
        let stream = client.copy_out(&statement).await?;
        futures_util::pin_mut!(stream);
        while let Some(chunk) = stream.next().await {
            digest.update(&chunk?);
        }
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

/// What to read, in order, as (relation, `ONLY`): the table, or its leaf
/// partitions in the artifact's order when the dump read it leaf by leaf.
/// `None` when the database's leaves are not the artifact's.
async fn sources<'a>(
    client: &Client,
    entry: &'a TableEntry,
    table_oid: u32,
    only: bool,
) -> Result<Option<Vec<(&'a QualifiedName, bool)>>> {
    if entry.partitions.is_empty() {
        return Ok(Some(vec![(&entry.name, only)]));
    }
    let mut here: Vec<QualifiedName> = catalog::leaves(client, &[table_oid])
        .await?
        .into_iter()
        .map(|leaf| leaf.name)
        .collect();
    let mut dumped: Vec<&QualifiedName> = entry.partitions.iter().map(|p| &p.name).collect();
    here.sort();
    dumped.sort();
    if !here.iter().eq(dumped.iter().copied()) {
        return Ok(None);
    }
    Ok(Some(
        entry.partitions.iter().map(|p| (&p.name, true)).collect(),
    ))
}
