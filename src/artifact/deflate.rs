//! gzip's pieces for block-parallel compression: the member header and
//! trailer, and raw deflate of one block that ends on a byte boundary.
//!
//! Each block is deflated on its own (a fresh compressor, no shared window)
//! and ends with a sync flush, the last one with the final deflate block;
//! concatenated in order between one header and trailer, the blocks are one
//! ordinary gzip stream that any gunzip reads. The cost of not sharing the
//! window across blocks is under 1% in size.

use std::io;

use crc32fast::Hasher as Crc;
use flate2::{Compress, FlushCompress, Status};

/// A compressor for [`deflate_block`] at `level` (0 to 9).
pub(super) fn compressor(level: u32) -> Compress {
    Compress::new(flate2::Compression::new(level), false)
}

/// The 10-byte gzip header: no name, no time, OS "unknown", as flate2 writes it.
pub(super) fn header(level: u32) -> [u8; 10] {
    let extra_flags = match level {
        9 => 2,
        0 | 1 => 4,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 255]
}

/// The 8-byte gzip trailer: CRC-32 and size modulo 2^32 of the data.
pub(super) fn trailer(crc: Crc, size: u64) -> [u8; 8] {
    let mut trailer = [0u8; 8];
    trailer[..4].copy_from_slice(&crc.finalize().to_le_bytes());
    trailer[4..].copy_from_slice(&(size as u32).to_le_bytes());
    trailer
}

/// Raw deflate of one block: sync-flushed, or final when `last`.
pub(super) fn deflate_block(
    compressor: &mut Compress,
    data: &[u8],
    last: bool,
) -> io::Result<Vec<u8>> {
    compressor.reset();
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
