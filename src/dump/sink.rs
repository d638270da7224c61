//! The bridge from the async COPY stream to the blocking artifact writer.
//!
//! COPY yields one message per row; the sink gathers them into batches of
//! [`BATCH`] bytes, so the blocking thread that hashes and writes (and hands
//! blocks to the compression threads) wakes once per batch, not once per
//! row. The channel is bounded, so reading the socket and compressing overlap
//! while memory stays flat. If the sink is dropped before `finish` (an error,
//! an interrupt), the thread drops the writer, which deletes the temporary file.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::artifact::{ArtifactWriter, MemberSummary};

/// Bytes of COPY text sent to the writer thread at once.
const BATCH: usize = 256 << 10;

/// Batches in flight between the socket and the writer thread.
const QUEUE_DEPTH: usize = 8;

enum Message {
    Begin(String),
    Data(Bytes),
    End(oneshot::Sender<MemberSummary>),
    Finish(Vec<u8>, oneshot::Sender<PathBuf>),
}

/// Feeds an [`ArtifactWriter`] on a blocking thread.
pub struct ArtifactSink {
    tx: mpsc::Sender<Message>,
    thread: JoinHandle<Result<()>>,
    batch: BytesMut,
}

impl ArtifactSink {
    /// Write to `path`, compressing at `level` on one thread per core.
    pub fn create(path: &Path, mtime: u64, level: u32) -> Result<Self> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut writer = ArtifactWriter::create(path, mtime, level, threads)?;
        let (tx, mut rx) = mpsc::channel(QUEUE_DEPTH);
        let thread = tokio::task::spawn_blocking(move || -> Result<()> {
            while let Some(message) = rx.blocking_recv() {
                match message {
                    Message::Begin(name) => writer.begin_member(&name)?,
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
        Ok(Self {
            tx,
            thread,
            batch: BytesMut::with_capacity(BATCH),
        })
    }

    pub async fn begin_member(&mut self, name: String) -> Result<()> {
        self.send(Message::Begin(name)).await
    }

    pub async fn write(&mut self, rows: &[u8]) -> Result<()> {
        self.batch.extend_from_slice(rows);
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn end_member(&mut self) -> Result<MemberSummary> {
        self.flush().await?;
        let (reply, answer) = oneshot::channel();
        self.send(Message::End(reply)).await?;
        match answer.await {
            Ok(summary) => Ok(summary),
            Err(_) => Err(self.failure().await),
        }
    }

    /// Write the manifest and move the artifact to its final name.
    pub async fn finish(mut self, manifest: Vec<u8>) -> Result<PathBuf> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Finish(manifest, reply)).await?;
        match answer.await {
            Ok(path) => Ok(path),
            Err(_) => Err(self.failure().await),
        }
    }

    async fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = self.batch.split().freeze();
        self.batch.reserve(BATCH);
        self.send(Message::Data(batch)).await
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
