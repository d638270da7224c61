//! Compression of one member on several threads, with output that does not
//! depend on them.
//!
//! A member's data is cut into blocks of [`BLOCK_SIZE`] bytes at fixed
//! offsets and each block is compressed on its own, so the bytes depend only
//! on the data and the setting, never on the number of threads or their
//! timing, and artifacts stay reproducible. gzip: raw deflate blocks between
//! one header and trailer (see [`super::deflate`]). zstd: each block is a
//! frame of its own, with its size and checksum; concatenated frames are one
//! stream that `zstd -d` reads. none: the data as it is, no threads.

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crc32fast::Hasher as Crc;

use super::deflate;
use super::Compression;

/// Uncompressed bytes per independently compressed block.
pub(crate) const BLOCK_SIZE: usize = 1 << 20;

struct Job {
    data: Vec<u8>,
    last: bool,
    reply: SyncSender<io::Result<Vec<u8>>>,
}

/// One thread's compressor.
enum Codec {
    Deflate(flate2::Compress),
    Zstd(zstd::bulk::Compressor<'static>),
}

impl Codec {
    /// The codec of `compression`; none when the data is stored as it is.
    fn new(compression: Compression) -> io::Result<Option<Self>> {
        Ok(match compression {
            Compression::Gzip(level) => Some(Self::Deflate(deflate::compressor(level))),
            Compression::Zstd(level) => {
                let mut zstd = zstd::bulk::Compressor::new(level)?;
                zstd.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
                Some(Self::Zstd(zstd))
            }
            Compression::None => None,
        })
    }

    fn block(&mut self, data: &[u8], last: bool) -> io::Result<Vec<u8>> {
        match self {
            Self::Deflate(compressor) => deflate::deflate_block(compressor, data, last),
            Self::Zstd(compressor) => compressor.compress(data),
        }
    }
}

/// A pool of threads compressing blocks; shared by all members of an artifact.
pub(crate) struct Compressor {
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
    compression: Compression,
    depth: usize,
}

impl Compressor {
    /// A pool of `threads` (at least one; none when nothing is compressed)
    /// compressing with `compression`.
    pub fn new(compression: Compression, threads: usize) -> io::Result<Self> {
        let threads = match compression {
            Compression::None => 0,
            _ => threads.max(1),
        };
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads);
        let queue = Arc::new(Mutex::new(queue));
        let workers = (0..threads)
            .map(|n| {
                let queue = Arc::clone(&queue);
                let codec = Codec::new(compression)?.expect("a codec for a compressing method");
                std::thread::Builder::new()
                    .name(format!("seedpack-compress-{n}"))
                    .spawn(move || work(&queue, codec))
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self {
            jobs: Some(jobs),
            workers,
            compression,
            // Enough blocks in flight to keep every thread busy while the
            // oldest is written.
            depth: 2 * threads + 1,
        })
    }

    pub fn method(&self) -> super::Method {
        self.compression.method()
    }

    /// Start a member.
    pub fn member(&self) -> Member {
        Member {
            header_pending: true,
            block: Vec::new(),
            crc: Crc::new(),
            size: 0,
            in_flight: VecDeque::with_capacity(self.depth),
        }
    }

    /// Append `data` to `member`; `out` receives compressed bytes as blocks
    /// complete, in order.
    pub fn write(
        &self,
        member: &mut Member,
        mut data: &[u8],
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.start(member, out)?;
        match self.compression {
            Compression::None => return out(data),
            Compression::Gzip(_) => member.crc.update(data),
            Compression::Zstd(_) => {}
        }
        member.size = member.size.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            if member.block.capacity() == 0 {
                member.block.reserve_exact(BLOCK_SIZE);
            }
            let room = BLOCK_SIZE - member.block.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            member.block.extend_from_slice(now);
            data = rest;
            if member.block.len() == BLOCK_SIZE {
                let block = std::mem::take(&mut member.block);
                self.submit(member, block, false)?;
                while member.in_flight.len() >= self.depth {
                    out(&receive(&mut member.in_flight)?)?;
                }
            }
        }
        Ok(())
    }

    /// End `member`: the last block, then gzip's trailer.
    pub fn finish(
        &self,
        mut member: Member,
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.start(&mut member, out)?;
        if self.compression == Compression::None {
            return Ok(());
        }
        let block = std::mem::take(&mut member.block);
        self.submit(&mut member, block, true)?;
        while !member.in_flight.is_empty() {
            out(&receive(&mut member.in_flight)?)?;
        }
        match self.compression {
            Compression::Gzip(_) => out(&deflate::trailer(member.crc, member.size)),
            _ => Ok(()),
        }
    }

    /// gzip's header, before a member's first bytes.
    fn start(
        &self,
        member: &mut Member,
        out: &mut impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        match self.compression {
            Compression::Gzip(level) if std::mem::take(&mut member.header_pending) => {
                out(&deflate::header(level))
            }
            _ => Ok(()),
        }
    }

    fn submit(&self, member: &mut Member, data: Vec<u8>, last: bool) -> io::Result<()> {
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
}

impl Drop for Compressor {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A member being compressed: the partial block and the blocks in flight.
pub(crate) struct Member {
    header_pending: bool,
    block: Vec<u8>,
    /// gzip's CRC-32 of the data.
    crc: Crc,
    /// Uncompressed bytes; gzip's trailer keeps them modulo 2^32.
    size: u64,
    in_flight: VecDeque<Receiver<io::Result<Vec<u8>>>>,
}

fn receive(in_flight: &mut VecDeque<Receiver<io::Result<Vec<u8>>>>) -> io::Result<Vec<u8>> {
    let answer = in_flight.pop_front().expect("a block in flight");
    answer
        .recv()
        .map_err(|_| io::Error::other("a compression thread stopped"))?
}

fn work(queue: &Mutex<Receiver<Job>>, mut codec: Codec) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let result = codec.block(&job.data, job.last);
        let _ = job.reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn compress(data: &[u8], compression: Compression, threads: usize, piece: usize) -> Vec<u8> {
        let pool = Compressor::new(compression, threads).unwrap();
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

    fn expand(mut bytes: &[u8], compression: Compression) -> Vec<u8> {
        let mut out = Vec::new();
        match compression {
            Compression::Gzip(_) => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
            Compression::Zstd(_) => zstd::stream::read::Decoder::new(bytes)
                .unwrap()
                .read_to_end(&mut out),
            Compression::None => bytes.read_to_end(&mut out),
        }
        .unwrap();
        out
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"0123456789\tabc\n"[(i * 7 + i / 1000) % 15])
            .collect()
    }

    const SETTINGS: [Compression; 7] = [
        Compression::Gzip(0),
        Compression::Gzip(1),
        Compression::Gzip(6),
        Compression::Gzip(9),
        Compression::Zstd(1),
        Compression::Zstd(3),
        Compression::None,
    ];

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
            for setting in SETTINGS {
                let stored = compress(&data, setting, 2, 65_536);
                assert_eq!(expand(&stored, setting), data, "len {len} {setting}");
            }
        }
    }

    #[test]
    fn bytes_do_not_depend_on_threads_or_write_sizes() {
        let data = sample(2 * BLOCK_SIZE + 12_345);
        for setting in SETTINGS {
            let one = compress(&data, setting, 1, data.len());
            assert_eq!(compress(&data, setting, 3, 4_096), one, "{setting}");
            assert_eq!(compress(&data, setting, 2, 1_000_003), one, "{setting}");
        }
    }

    #[test]
    fn zstd_blocks_are_frames_of_their_own() {
        let data = sample(2 * BLOCK_SIZE + 1);
        let stored = compress(&data, Compression::Zstd(3), 2, 65_536);
        let first = zstd::zstd_safe::find_frame_compressed_size(&stored).unwrap();
        let frame = zstd::stream::decode_all(&stored[..first]).unwrap();
        assert_eq!(frame, data[..BLOCK_SIZE]);
    }

    #[test]
    fn empty_gzip_member_matches_flate2() {
        let encoder = flate2::GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::new(), flate2::Compression::new(6));
        let expected = encoder.finish().unwrap();
        assert_eq!(compress(&[], Compression::Gzip(6), 1, 1), expected);
    }
}
