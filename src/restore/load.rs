//! Loading one table: artifact member -> gunzip -> COPY FROM STDIN, with the
//! data checksum and row count checked as the bytes stream past.
//!
//! Reading and decompressing run on a blocking thread feeding a bounded
//! channel; the socket is written on the async side. Memory stays flat.

use std::io::Read;
use std::sync::Arc;

use anyhow::{bail, Result};
use bytes::Bytes;
use futures_util::SinkExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use crate::artifact::{check_data, ArtifactError, ArtifactReader, Digesting, TableEntry};
use crate::ident::QualifiedName;
use crate::pg::sql;
use crate::progress::Progress;

const CHUNK: usize = 256 << 10;
const QUEUE_DEPTH: usize = 16;

/// COPY the table at `position` of the artifact into `destination` (the
/// table itself, or a staging table). Fails, naming the table, if the data
/// does not match the manifest. `freeze`: the destination was created or
/// truncated in this transaction and is not partitioned.
pub async fn load_table(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    progress: &dyn Progress,
    destination: &QualifiedName,
    freeze: bool,
) -> Result<()> {
    let entry = &reader.manifest().tables[position];
    let whole = [Share {
        table: destination,
        rows: entry.rows,
        bytes: entry.bytes,
    }];
    load_shares(client, reader, position, progress, &whole, freeze).await
}

/// COPY a partitioned table's data straight into its leaf partitions, each
/// its share (`TableEntry::partitions`), so that each can be loaded frozen.
pub async fn load_leaves(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    progress: &dyn Progress,
    freeze: bool,
) -> Result<()> {
    let entry = &reader.manifest().tables[position];
    let shares: Vec<Share> = entry
        .partitions
        .iter()
        .map(|p| Share {
            table: &p.name,
            rows: p.rows,
            bytes: p.bytes,
        })
        .collect();
    load_shares(client, reader, position, progress, &shares, freeze).await
}

/// What is left of the chunk the last share ended in, else the next chunk
/// (`pending.take().or(rx.recv().await)` would take the next one even when
/// something is left, and drop it).
async fn next_chunk(pending: &mut Option<Bytes>, rx: &mut mpsc::Receiver<Bytes>) -> Option<Bytes> {
    match pending.take() {
        Some(rest) => Some(rest),
        None => rx.recv().await,
    }
}

/// Where a run of the table's data goes: its rows and bytes.
struct Share<'a> {
    table: &'a QualifiedName,
    rows: u64,
    bytes: u64,
}

/// Stream the table's data, cut into `shares` in order, one COPY each.
async fn load_shares(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    progress: &dyn Progress,
    shares: &[Share<'_>],
    freeze: bool,
) -> Result<()> {
    let entry: &TableEntry = &reader.manifest().tables[position];
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE_DEPTH);
    let mut producer = Some(read_data(reader, position, tx));

    let mut bar = progress.table(&entry.name.to_string(), Some(entry.bytes));
    let mut pending: Option<Bytes> = None;
    let last = shares.len().saturating_sub(1);
    for (index, share) in shares.iter().enumerate() {
        if share.bytes == 0 && share.rows == 0 && index != last {
            continue;
        }
        let sink = client
            .copy_in::<_, Bytes>(&sql::copy_in(share.table, &columns, freeze))
            .await?;
        futures_util::pin_mut!(sink);
        let mut left = share.bytes;
        while left > 0 {
            let Some(mut chunk) = next_chunk(&mut pending, &mut rx).await else {
                break;
            };
            if chunk.len() as u64 > left {
                pending = Some(chunk.split_off(left as usize));
            }
            left -= chunk.len() as u64;
            bar.advance(&chunk);
            progress.advance_bytes(chunk.len() as u64);
            sink.send(chunk).await?;
        }
        if left > 0 {
            // The data ended early: a reading error says why.
            if let Some(producer) = producer.take() {
                producer.await??;
            }
            bail!(
                "table {}: the data is shorter than the manifest states",
                entry.name
            );
        }
        if index == last {
            // Check the data before letting the last COPY finish: a damaged
            // stream must not look like a complete table, even inside the
            // transaction.
            if pending.is_some() || rx.recv().await.is_some() {
                bail!(
                    "table {}: the data is longer than the manifest states",
                    entry.name
                );
            }
            if let Some(producer) = producer.take() {
                producer.await??;
            }
        }
        let loaded = sink.as_mut().finish().await?;
        if loaded != share.rows {
            bail!(
                "table {}: the server loaded {loaded} rows into {}, the artifact holds {}",
                entry.name,
                share.table,
                share.rows
            );
        }
    }
    bar.done();
    Ok(())
}

/// Decompress the table's data on a blocking thread into `tx`, in large
/// chunks, checking it against the manifest at its end.
fn read_data(
    reader: &Arc<ArtifactReader>,
    position: usize,
    tx: mpsc::Sender<Bytes>,
) -> JoinHandle<Result<()>> {
    let source = Arc::clone(reader);
    tokio::task::spawn_blocking(move || -> Result<()> {
        let entry = &source.manifest().tables[position];
        let mut data = Digesting::new(source.table_data(position)?);
        loop {
            let mut buf = vec![0; CHUNK];
            let n = read_full(&mut data, &mut buf)
                .map_err(|e| artifact_error(e, &entry.name.to_string()))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            if tx.blocking_send(Bytes::from(buf)).is_err() {
                // The loader stopped; its error is the one to report.
                return Ok(());
            }
        }
        check_data(entry, data.finish())?;
        Ok(())
    })
}

/// A failure reading the artifact is bad input (exit 2): an overrun keeps
/// its own message, anything else (corrupt compressed data, a changed file) is damage.
fn artifact_error(error: std::io::Error, table: &str) -> ArtifactError {
    match error
        .into_inner()
        .map(|inner| inner.downcast::<ArtifactError>())
    {
        Some(Ok(artifact)) => *artifact,
        Some(Err(other)) => ArtifactError::Damaged(format!("table {table}: {other}")),
        None => ArtifactError::Damaged(format!("table {table}: unreadable data")),
    }
}

/// Read until `buf` is full or the input ends, so chunks are large.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
