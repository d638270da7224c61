//! Reading the parts over one or more connections, writing them in order.
//!
//! Each connection takes the next part not yet taken and streams its rows,
//! in batches, into a bounded channel of that part's own; the writer drains
//! the parts' channels strictly in order, so the artifact's bytes do not
//! depend on which connection read what. Parts are handed out no further
//! than `readers` ahead of the one being written, and each part's channel
//! holds at most [`PART_QUEUE`] batches, so memory stays flat: a connection
//! that runs ahead waits. All connections read one snapshot (see `dump`).

use anyhow::{anyhow, Context, Result};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::sync::{mpsc, Mutex};
use tokio_postgres::Client;

use super::parts::Part;
use super::sink::ArtifactSink;
use super::snapshot;
use crate::artifact::{MemberSummary, PartitionEntry};
use crate::catalog::Table;
use crate::pg::sql::{self, CopyOut};
use crate::progress::Progress;

/// Bytes of COPY text per batch.
const BATCH: usize = 256 << 10;

/// Batches a part may hold before its connection waits for the writer.
const PART_QUEUE: usize = 16;

/// Parts a helper connection reads in one transaction.
const PARTS_PER_TRANSACTION: usize = 64;

/// A part's position, and the rows its connection reads.
type PartRows = (usize, mpsc::Receiver<Piece>);

enum Piece {
    Rows(Bytes),
    /// The part was read to its end.
    Done,
}

/// What the parts of a dump are read from.
pub struct Source<'a> {
    pub tables: &'a [Table],
    pub parts: &'a [Part],
    /// In key order; see `sql::CopyOut::order`.
    pub ordered: bool,
    /// The snapshot the connections after the first join (see `snapshot`).
    pub snapshot: Option<&'a str>,
}

/// A table's member as written: its summary, and each leaf partition's
/// share when it was read leaf by leaf.
pub type Written = (MemberSummary, Vec<PartitionEntry>);

/// Read every part over `clients` and write each table's member to `sink`,
/// in table order. Returns what was written, in the same order.
pub async fn copy_tables(
    clients: &[&Client],
    source: &Source<'_>,
    sink: &mut ArtifactSink,
    progress: &dyn Progress,
) -> Result<Vec<Written>> {
    let (order_tx, order_rx) = mpsc::channel(clients.len());
    let queue = PartQueue {
        next: Mutex::new((0, order_tx)),
        count: source.parts.len(),
    };
    let readers = futures_util::future::try_join_all(
        clients
            .iter()
            .enumerate()
            .map(|(i, client)| read_parts(client, i > 0, &queue, source)),
    );
    let (summaries, _) =
        tokio::try_join!(write_members(order_rx, source, sink, progress), readers)?;
    Ok(summaries)
}

/// Hands out parts in order; each part's receiver goes to the writer before
/// anyone reads the part.
struct PartQueue {
    next: Mutex<(usize, mpsc::Sender<PartRows>)>,
    count: usize,
}

impl PartQueue {
    /// The next part and where its rows go; `None` when all are taken or the
    /// writer stopped.
    async fn take(&self) -> Option<(usize, mpsc::Sender<Piece>)> {
        let mut next = self.next.lock().await;
        let index = next.0;
        if index == self.count {
            return None;
        }
        let (tx, rx) = mpsc::channel(PART_QUEUE);
        next.1.send((index, rx)).await.ok()?;
        next.0 += 1;
        Some((index, tx))
    }
}

/// Read parts until none is left. A helper (a connection after the first)
/// locks each relation it reads, and ends its transaction every
/// [`PARTS_PER_TRANSACTION`] parts to release those locks, joining the
/// snapshot again: the tables are locked once by the first connection,
/// and at most that many more times by each helper.
async fn read_parts(
    client: &Client,
    helper: bool,
    queue: &PartQueue,
    source: &Source<'_>,
) -> Result<()> {
    let mut read = 0;
    while let Some((index, rows)) = queue.take().await {
        let part = &source.parts[index];
        let table = &source.tables[part.table];
        if let (true, Some(snapshot)) = (helper, source.snapshot) {
            if read > 0 && read % PARTS_PER_TRANSACTION == 0 {
                snapshot::rejoin(client, snapshot).await?;
            }
            let relation = part.leaf.as_ref().map_or(&table.name, |leaf| &leaf.name);
            snapshot::lock_to_read(client, relation).await?;
        }
        read_part(client, table, part, source.ordered, &rows)
            .await
            .with_context(|| format!("cannot dump table {}", table.name))?;
        read += 1;
    }
    Ok(())
}

async fn read_part(
    client: &Client,
    table: &Table,
    part: &Part,
    ordered: bool,
    rows: &mpsc::Sender<Piece>,
) -> Result<()> {
    if let Some(bounds) = &part.bounds {
        let lower = bounds.lower.as_deref().unwrap_or_default();
        let upper = bounds.upper.as_deref().unwrap_or_default();
        client.execute(sql::PART_BOUNDS, &[&lower, &upper]).await?;
    }
    let columns: Vec<&str> = table.stored_columns().map(|c| c.name.as_str()).collect();
    let statement = sql::copy_out(&CopyOut {
        table: part.leaf.as_ref().map_or(&table.name, |leaf| &leaf.name),
        columns: &columns,
        only: !table.partitioned || part.leaf.is_some(),
        order: ordered.then_some(table.primary_key.as_slice()),
        range: part.bounds.as_ref().map(|b| b.key_range(table)),
    });
    let stream = client.copy_out(&statement).await?;
    futures_util::pin_mut!(stream);
    let mut batch = BytesMut::with_capacity(BATCH);
    while let Some(row) = stream.next().await {
        let row = row?;
        if batch.len() + row.len() > BATCH && !batch.is_empty() {
            send(rows, Piece::Rows(batch.split().freeze())).await?;
            batch.reserve(BATCH);
        }
        batch.extend_from_slice(&row);
    }
    if !batch.is_empty() {
        send(rows, Piece::Rows(batch.freeze())).await?;
    }
    send(rows, Piece::Done).await
}

async fn send(rows: &mpsc::Sender<Piece>, piece: Piece) -> Result<()> {
    rows.send(piece)
        .await
        .map_err(|_| anyhow!("the artifact writer stopped"))
}

/// Write each table's member from its parts' rows, in order.
async fn write_members(
    mut order: mpsc::Receiver<PartRows>,
    source: &Source<'_>,
    sink: &mut ArtifactSink,
    progress: &dyn Progress,
) -> Result<Vec<Written>> {
    let mut written = Vec::with_capacity(source.tables.len());
    let mut next_part = 0;
    for (position, table) in source.tables.iter().enumerate() {
        sink.begin_member(position).await?;
        let mut bar = progress.table(&table.name.to_string(), None);
        let mut partitions = Vec::new();
        while let Some(part) = source.parts.get(next_part).filter(|p| p.table == position) {
            // A leaf's rows and bytes (COPY text: a row per newline).
            let mut share = (0u64, 0u64);
            let (index, mut pieces) = order
                .recv()
                .await
                .ok_or_else(|| anyhow!("the dump's connections stopped early"))?;
            debug_assert_eq!(index, next_part);
            loop {
                match pieces.recv().await {
                    Some(Piece::Rows(rows)) => {
                        bar.advance(&rows);
                        if part.leaf.is_some() {
                            share.0 += rows.iter().filter(|&&b| b == b'\n').count() as u64;
                            share.1 += rows.len() as u64;
                        }
                        sink.write(rows).await?;
                    }
                    Some(Piece::Done) => break,
                    // Its connection failed; that error is the one reported.
                    None => return Err(anyhow!("cannot dump table {}", table.name)),
                }
            }
            if let Some(leaf) = &part.leaf {
                partitions.push(PartitionEntry {
                    name: leaf.name.clone(),
                    bound: leaf.bound.clone(),
                    rows: share.0,
                    bytes: share.1,
                });
            }
            next_part += 1;
        }
        bar.done();
        drop(bar);
        written.push((sink.end_member().await?, partitions));
        progress.table_done();
    }
    Ok(written)
}
