//! gzip compression of one member on several threads, with output that does
//! not depend on them.
//!
//! A member's data is cut into blocks of [`BLOCK_SIZE`] bytes at fixed
//! offsets; each block is deflated on its own (a fresh compressor, no shared
//! window) and ends on a byte boundary with a sync flush, the last one with
//! the final deflate block. The blocks, concatenated in order between one
//! gzip header and trailer, are one ordinary gzip stream that any gunzip
//! reads. The bytes depend only on the data and the level, never on the
//! number of threads or their timing, so artifacts stay reproducible. The
//! cost of not sharing the window across blocks is under 1% in size.

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crc32fast::Hasher as Crc;
use flate2::{Compress, Compression, FlushCompress, Status};

/// Uncompressed bytes per independently compressed block.
pub(crate) const BLOCK_SIZE: usize = 1 << 20;

struct Job {
    data: Vec<u8>,
    last: bool,
    reply: SyncSender<io::Result<Vec<u8>>>,
}

/// A pool of threads deflating blocks; shared by all members of an artifact.
pub(crate) struct Deflater {
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
    level: Compression,
    depth: usize,
}

impl Deflater {
    /// A pool of `threads` (at least one) compressing at `level`.
    pub fn new(level: u32, threads: usize) -> io::Result<Self> {
        let threads = threads.max(1);
        let level = Compression::new(level);
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        let workers = (0..threads)
            .map(|n| {
                let queue = Arc::clone(&queue);
                std::thread::Builder::new()
                    .name(format!("seedpack-deflate-{n}"))
                    .spawn(move || work(&queue, level))
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self {
            jobs: Some(jobs),
            workers,
            level,
            // Enough blocks in flight to keep every thread busy while the
            // oldest is written.
            depth: 2 * threads + 1,
        })
    }

    /// Start a gzip member.
    pub fn member(&self) -> GzipMember {
        GzipMember {
            header_pending: true,
            block: Vec::with_capacity(BLOCK_SIZE),
            crc: Crc::new(),
            size: 0,
            in_flight: VecDeque::with_capacity(self.depth),
        }
    }

    /// Append `data` to `member`; `out` receives compressed bytes as blocks
    /// complete, in order.
    pub fn write(
        &self,
        member: &mut GzipMember,
        mut data: &[u8],
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if std::mem::take(&mut member.header_pending) {
            out(&self.header())?;
        }
        member.crc.update(data);
        member.size = member.size.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let room = BLOCK_SIZE - member.block.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            member.block.extend_from_slice(now);
            data = rest;
            if member.block.len() == BLOCK_SIZE {
                let block = std::mem::replace(&mut member.block, Vec::with_capacity(BLOCK_SIZE));
                self.submit(member, block, false)?;
                while member.in_flight.len() >= self.depth {
                    out(&receive(&mut member.in_flight)?)?;
                }
            }
        }
        Ok(())
    }

    /// End `member`: the last block, then the gzip trailer.
    pub fn finish(
        &self,
        mut member: GzipMember,
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if member.header_pending {
            out(&self.header())?;
        }
        let block = std::mem::take(&mut member.block);
        self.submit(&mut member, block, true)?;
        while !member.in_flight.is_empty() {
            out(&receive(&mut member.in_flight)?)?;
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&member.crc.finalize().to_le_bytes());
        trailer[4..].copy_from_slice(&(member.size as u32).to_le_bytes());
        out(&trailer)
    }

    fn submit(&self, member: &mut GzipMember, data: Vec<u8>, last: bool) -> io::Result<()> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job { data, last, reply };
        self.jobs
            .as_ref()
            .expect("pool open until drop")
            .send(job)
            .map_err(|_| io::Error::other("the compression threads stopped"))?;
        member.in_flight.push_back(answer);
        Ok(())
    }

    /// The 10-byte gzip header: no name, no time, OS "unknown", as flate2 writes it.
    fn header(&self) -> [u8; 10] {
        let extra_flags = match self.level.level() {
            9 => 2,
            0 | 1 => 4,
            _ => 0,
        };
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 255]
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A gzip member being compressed: the partial block and the blocks in flight.
pub(crate) struct GzipMember {
    header_pending: bool,
    block: Vec<u8>,
    crc: Crc,
    /// Uncompressed bytes; the trailer keeps them modulo 2^32.
    size: u64,
    in_flight: VecDeque<Receiver<io::Result<Vec<u8>>>>,
}

fn receive(in_flight: &mut VecDeque<Receiver<io::Result<Vec<u8>>>>) -> io::Result<Vec<u8>> {
    let answer = in_flight.pop_front().expect("a block in flight");
    answer
        .recv()
        .map_err(|_| io::Error::other("a compression thread stopped"))?
}

fn work(queue: &Mutex<Receiver<Job>>, level: Compression) {
    let mut compressor = Compress::new(level, false);
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        compressor.reset();
        let result = deflate_block(&mut compressor, &job.data, job.last);
        let _ = job.reply.send(result);
    }
}

/// Raw deflate of one block: sync-flushed, or final when `last`.
fn deflate_block(compressor: &mut Compress, data: &[u8], last: bool) -> io::Result<Vec<u8>> {
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let mut consumed = 0;
    loop {
        let before = compressor.total_in();
        let status = compressor
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        consumed += (compressor.total_in() - before) as usize;
        let done = match status {
            Status::StreamEnd => true,
            // A sync flush is complete once all input is taken and the
            // output did not fill up.
            Status::Ok | Status::BufError => {
                !last && consumed == data.len() && out.len() < out.capacity()
            }
        };
        if done {
            return Ok(out);
        }
        out.reserve(out.capacity().max(64));
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gzip(data: &[u8], level: u32, threads: usize, piece: usize) -> Vec<u8> {
        let pool = Deflater::new(level, threads).unwrap();
        let mut member = pool.member();
        let mut out = Vec::new();
        let mut sink = |bytes: &[u8]| -> io::Result<()> {
            out.extend_from_slice(bytes);
            Ok(())
        };
        for chunk in data.chunks(piece.max(1)) {
            pool.write(&mut member, chunk, &mut sink).unwrap();
        }
        pool.finish(member, &mut sink).unwrap();
        out
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"0123456789\tabc\n"[(i * 7 + i / 1000) % 15])
            .collect()
    }

    #[test]
    fn round_trips_at_block_boundaries_and_levels() {
        for len in [
            0,
            1,
            BLOCK_SIZE - 1,
            BLOCK_SIZE,
            BLOCK_SIZE + 1,
            3 * BLOCK_SIZE,
        ] {
            let data = sample(len);
            for level in [0, 1, 6, 9] {
                assert_eq!(
                    gunzip(&gzip(&data, level, 2, 65_536)),
                    data,
                    "len {len} level {level}"
                );
            }
        }
    }

    #[test]
    fn bytes_do_not_depend_on_threads_or_write_sizes() {
        let data = sample(2 * BLOCK_SIZE + 12_345);
        let one = gzip(&data, 6, 1, data.len());
        assert_eq!(gzip(&data, 6, 3, 4_096), one);
        assert_eq!(gzip(&data, 6, 2, 1_000_003), one);
    }

    #[test]
    fn empty_member_matches_flate2() {
        let encoder = flate2::GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::new(), Compression::new(6));
        let expected = encoder.finish().unwrap();
        assert_eq!(gzip(&[], 6, 1, 1), expected);
    }
}
