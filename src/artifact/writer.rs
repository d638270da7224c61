//! Writing an artifact: streamed, checksummed, reproducible and atomic.
//!
//! Each member's tar header needs its size, which a streamed compressed
//! member only knows at its end, so the writer leaves room for the header, streams the
//! member, then seeks back and writes the header. The file lives under a
//! temporary name in the output's directory until `finish` fsyncs and renames
//! it; dropping an unfinished writer deletes the temporary file.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::blocks::{Compressor, Member};
use super::checksum::{sha256_of, DataDigest};
use super::{data_member_name, statistics_member_name, Compression, Manifest, MANIFEST_MEMBER};
use crate::atomic_file::AtomicFile;

/// Name of the member holding the SHA-256 of `manifest.json`, so a damaged
/// manifest is caught even where the content id does not cover it.
pub(crate) const MANIFEST_SUM_MEMBER: &str = "manifest.sha256";

const BLOCK: u64 = 512;

/// What was written for one table.
#[derive(Debug, Clone)]
pub struct MemberSummary {
    /// The member's name in the tar file.
    pub member: String,
    pub rows: u64,
    pub bytes: u64,
    pub data_sha256: String,
    pub member_bytes: u64,
    pub member_sha256: String,
}

struct OpenMember {
    name: String,
    header_at: u64,
    compressed: Member,
    data: DataDigest,
    stored: Stored,
}

/// The compressed bytes of a member as they reach the file.
#[derive(Default)]
struct Stored {
    sha256: Sha256,
    bytes: u64,
}

/// An artifact being written. Call [`ArtifactWriter::finish`] to keep it.
pub struct ArtifactWriter {
    out: BufWriter<AtomicFile>,
    mtime: u64,
    compressor: Compressor,
    position: u64,
    member: Option<OpenMember>,
}

impl std::fmt::Debug for ArtifactWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactWriter")
            .field("path", &self.out.get_ref().path())
            .finish()
    }
}

impl ArtifactWriter {
    /// Start an artifact that will be renamed to `path` by `finish`.
    /// `mtime` goes into every tar header (fixed, for reproducible files);
    /// table data is compressed with `compression` on `threads` threads.
    pub fn create(
        path: &Path,
        mtime: u64,
        compression: Compression,
        threads: usize,
    ) -> Result<Self> {
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, AtomicFile::create(path)?),
            mtime,
            compressor: Compressor::new(compression, threads)
                .context("cannot start compression threads")?,
            position: 0,
            member: None,
        })
    }

    /// Begin the data member of the table at `position` in restore order;
    /// feed it with `write_data`, close it with `end_member`.
    pub fn begin_member(&mut self, position: usize) -> Result<()> {
        self.begin(data_member_name(position, self.compressor.method()))
    }

    /// Begin the planner statistics member, fed and closed as a table's.
    pub fn begin_statistics(&mut self) -> Result<()> {
        self.begin(statistics_member_name(self.compressor.method()))
    }

    fn begin(&mut self, name: String) -> Result<()> {
        assert!(self.member.is_none(), "previous member not ended");
        let header_at = self.position;
        self.write_raw(&[0; BLOCK as usize])?;
        self.member = Some(OpenMember {
            name,
            header_at,
            compressed: self.compressor.member(),
            data: DataDigest::new(),
            stored: Stored::default(),
        });
        Ok(())
    }

    /// Append uncompressed table data to the open member.
    pub fn write_data(&mut self, chunk: &[u8]) -> Result<()> {
        let mut member = self.member.take().expect("no open member");
        member.data.update(chunk);
        let written = self
            .compressor
            .write(&mut member.compressed, chunk, &mut |bytes| {
                store(&mut self.out, &mut self.position, &mut member.stored, bytes)
            });
        self.member = Some(member);
        written.with_context(|| format!("cannot write artifact {}", self.path().display()))
    }

    /// Close the open member and return its checksums.
    pub fn end_member(&mut self) -> Result<MemberSummary> {
        let OpenMember {
            name,
            header_at,
            compressed,
            data,
            mut stored,
        } = self.member.take().expect("no open member");
        self.compressor
            .finish(compressed, &mut |bytes| {
                store(&mut self.out, &mut self.position, &mut stored, bytes)
            })
            .with_context(|| format!("cannot write artifact {}", self.path().display()))?;
        self.pad_to_block()?;
        let end = self.position;
        self.out.seek(SeekFrom::Start(header_at))?;
        self.out
            .write_all(&header(&name, stored.bytes, self.mtime)?)?;
        self.out.seek(SeekFrom::Start(end))?;
        Ok(MemberSummary {
            member: name,
            rows: data.rows(),
            bytes: data.bytes(),
            data_sha256: data.finish(),
            member_bytes: stored.bytes,
            member_sha256: hex::encode(stored.sha256.finalize()),
        })
    }

    fn path(&self) -> &Path {
        self.out.get_ref().path()
    }

    /// Write the manifest and the `<artifact>.sha256` sidecar (`sha256sum -c`
    /// format), fsync both, and rename both to their final paths: both
    /// appear, or neither does. Returns (artifact, sidecar).
    pub fn finish(mut self, manifest: &Manifest) -> Result<(PathBuf, PathBuf)> {
        assert!(self.member.is_none(), "member not ended");
        let sha256 = self.write_manifest(manifest)?;
        let sum = format!("{sha256}\n");
        self.write_whole_member(MANIFEST_SUM_MEMBER, sum.as_bytes())?;
        self.write_raw(&[0; 2 * BLOCK as usize])?;
        let path = self.path().to_path_buf();
        let artifact = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write artifact {}", path.display()))?;
        let sidecar = sidecar(&artifact)?;
        artifact.commit_with(sidecar)
    }

    /// Write `manifest.json`, pretty-printed, serialized twice rather than
    /// held: once to learn its size and checksum for the header, once into
    /// the file (at thousands of tables it is tens of megabytes). Returns
    /// its SHA-256.
    fn write_manifest(&mut self, manifest: &Manifest) -> Result<String> {
        let mut measured = DataDigest::new();
        serde_json::to_writer_pretty(&mut measured, manifest)?;
        let size = measured.bytes();
        self.write_raw(&header(MANIFEST_MEMBER, size, self.mtime)?)?;
        let path = self.path().to_path_buf();
        let mut counted = Counted {
            out: &mut self.out,
            bytes: 0,
        };
        serde_json::to_writer_pretty(&mut counted, manifest)
            .with_context(|| format!("cannot write artifact {}", path.display()))?;
        anyhow::ensure!(
            counted.bytes == size,
            "the manifest serialized differently twice"
        );
        self.position += size;
        self.pad_to_block()?;
        Ok(measured.finish())
    }

    fn write_whole_member(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write_raw(&header(name, bytes.len() as u64, self.mtime)?)?;
        self.write_raw(bytes)?;
        self.pad_to_block()
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .with_context(|| format!("cannot write artifact {}", self.path().display()))?;
        self.position += bytes.len() as u64;
        Ok(())
    }

    fn pad_to_block(&mut self) -> Result<()> {
        let rem = self.position % BLOCK;
        if rem != 0 {
            self.write_raw(&vec![0; (BLOCK - rem) as usize])?;
        }
        Ok(())
    }
}

/// Writes through to the artifact, counting.
struct Counted<'a> {
    out: &'a mut BufWriter<AtomicFile>,
    bytes: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The `<artifact>.sha256` sidecar of an artifact not yet committed, in
/// `sha256sum -c` format, itself not yet committed.
fn sidecar(artifact: &AtomicFile) -> Result<AtomicFile> {
    let path = artifact.path();
    let file = File::open(artifact.temporary_path())
        .with_context(|| format!("cannot reread {}", path.display()))?;
    let sum = sha256_of(file).with_context(|| format!("cannot reread {}", path.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut sidecar_path = path.as_os_str().to_owned();
    sidecar_path.push(".sha256");
    let mut sidecar = AtomicFile::create(Path::new(&sidecar_path))?;
    writeln!(sidecar, "{sum}  {file_name}")
        .with_context(|| format!("cannot write {}", Path::new(&sidecar_path).display()))?;
    Ok(sidecar)
}

/// A GNU tar header with fixed owner, mode and time, so files reproduce.
fn header(name: &str, size: u64, mtime: u64) -> Result<[u8; BLOCK as usize]> {
    let mut h = tar::Header::new_gnu();
    h.set_path(name)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(*h.as_bytes())
}

/// Append compressed bytes of the open member to the file.
fn store(
    out: &mut BufWriter<AtomicFile>,
    position: &mut u64,
    stored: &mut Stored,
    bytes: &[u8],
) -> std::io::Result<()> {
    out.write_all(bytes)?;
    stored.sha256.update(bytes);
    stored.bytes += bytes.len() as u64;
    *position += bytes.len() as u64;
    Ok(())
}
