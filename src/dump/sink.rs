//! The bridge from the async COPY stream to the blocking artifact writer.
//!
//! Hashing and file writes run on a blocking thread (which hands blocks to
//! the compression threads), fed batches of rows through a bounded channel,
//! so reading the sockets and compressing overlap while memory stays flat.
//! If the sink is dropped before `finish` (an error, an interrupt), the
//! thread drops the writer, which deletes the temporary file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::artifact::{ArtifactWriter, Compression, Manifest, MemberSummary};

/// Compression threads at most: four compress faster than a server sends.
const MAX_THREADS: usize = 4;

/// Batches in flight between the socket and the writer thread.
const QUEUE_DEPTH: usize = 8;

enum Message {
    /// The member of the table at this position in restore order.
    Begin(usize),
    BeginStatistics,
    Data(Bytes),
    End(oneshot::Sender<MemberSummary>),
    Finish(Arc<Manifest>, oneshot::Sender<(PathBuf, PathBuf)>),
}

/// Feeds an [`ArtifactWriter`] on a blocking thread.
pub struct ArtifactSink {
    tx: mpsc::Sender<Message>,
    thread: JoinHandle<Result<()>>,
}

impl ArtifactSink {
    /// Write to `path`, compressing with `compression` on one thread per core.
    pub fn create(path: &Path, mtime: u64, compression: Compression) -> Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
        let mut writer = ArtifactWriter::create(path, mtime, compression, threads)?;
        let (tx, mut rx) = mpsc::channel(QUEUE_DEPTH);
        let thread = tokio::task::spawn_blocking(move || -> Result<()> {
            while let Some(message) = rx.blocking_recv() {
                match message {
                    Message::Begin(position) => writer.begin_member(position)?,
                    Message::BeginStatistics => writer.begin_statistics()?,
                    Message::Data(chunk) => writer.write_data(&chunk)?,
                    Message::End(reply) => {
                        let _ = reply.send(writer.end_member()?);
                    }
                    Message::Finish(manifest, reply) => {
                        let _ = reply.send(writer.finish(&manifest)?);
                        return Ok(());
                    }
                }
            }
            Ok(())
        });
        Ok(Self { tx, thread })
    }

    /// Begin the member of the table at `position` in restore order.
    pub async fn begin_member(&mut self, position: usize) -> Result<()> {
        self.send(Message::Begin(position)).await
    }

    /// Begin the planner statistics member.
    pub async fn begin_statistics(&mut self) -> Result<()> {
        self.send(Message::BeginStatistics).await
    }

    /// Append a batch of COPY rows (or statistics lines) to the open member.
    pub async fn write(&mut self, rows: Bytes) -> Result<()> {
        self.send(Message::Data(rows)).await
    }

    pub async fn end_member(&mut self) -> Result<MemberSummary> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::End(reply)).await?;
        match answer.await {
            Ok(summary) => Ok(summary),
            Err(_) => Err(self.failure().await),
        }
    }

    /// Write the manifest and the sidecar, and move both to their final
    /// names, together. Returns (artifact, sidecar).
    pub async fn finish(mut self, manifest: Arc<Manifest>) -> Result<(PathBuf, PathBuf)> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Finish(manifest, reply)).await?;
        match answer.await {
            Ok(paths) => Ok(paths),
            Err(_) => Err(self.failure().await),
        }
    }

    async fn send(&mut self, message: Message) -> Result<()> {
        if self.tx.send(message).await.is_err() {
            return Err(self.failure().await);
        }
        Ok(())
    }

    /// The writer thread stopped early: fetch its error.
    async fn failure(&mut self) -> anyhow::Error {
        match (&mut self.thread).await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => anyhow!("artifact writer stopped unexpectedly"),
            Err(e) => anyhow!("artifact writer failed: {e}"),
        }
    }
}
