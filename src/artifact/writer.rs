//! Writing an artifact: streamed, checksummed, reproducible and atomic.
//!
//! Each member's tar header needs its size, which a streamed gzip member only
//! knows at its end, so the writer leaves room for the header, streams the
//! member, then seeks back and writes the header. The file lives under a
//! temporary name in the output's directory until `finish` fsyncs and renames
//! it; dropping an unfinished writer deletes the temporary file.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::checksum::{sha256_hex, DataDigest};
use super::MANIFEST_MEMBER;

/// Name of the member holding the SHA-256 of `manifest.json`, so a damaged
/// manifest is caught even where the content id does not cover it.
pub(crate) const MANIFEST_SUM_MEMBER: &str = "manifest.sha256";

const BLOCK: u64 = 512;

/// What was written for one table.
#[derive(Debug, Clone)]
pub struct MemberSummary {
    pub rows: u64,
    pub bytes: u64,
    pub data_sha256: String,
    pub member_bytes: u64,
    pub member_sha256: String,
}

struct OpenMember {
    name: String,
    header_at: u64,
    encoder: GzEncoder<Vec<u8>>,
    data: DataDigest,
    stored: Sha256,
    stored_bytes: u64,
}

/// An artifact being written. Call [`ArtifactWriter::finish`] to keep it.
pub struct ArtifactWriter {
    out: BufWriter<NamedTempFile>,
    final_path: PathBuf,
    mtime: u64,
    level: Compression,
    position: u64,
    member: Option<OpenMember>,
}

impl std::fmt::Debug for ArtifactWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactWriter")
            .field("final_path", &self.final_path)
            .finish()
    }
}

impl ArtifactWriter {
    /// Start an artifact that will be renamed to `path` by `finish`.
    /// `mtime` goes into every tar header (fixed, for reproducible files).
    pub fn create(path: &Path, mtime: u64, level: u32) -> Result<Self> {
        let dir = parent_dir(path);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
        let file = tempfile::Builder::new()
            .prefix(".seedpack-")
            .suffix(".partial")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, file),
            final_path: path.to_path_buf(),
            mtime,
            level: Compression::new(level),
            position: 0,
            member: None,
        })
    }

    /// Begin a data member; feed it with `write_data`, close it with `end_member`.
    pub fn begin_member(&mut self, name: &str) -> Result<()> {
        assert!(self.member.is_none(), "previous member not ended");
        let header_at = self.position;
        self.write_raw(&[0; BLOCK as usize])?;
        let encoder = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::with_capacity(1 << 16), self.level);
        self.member = Some(OpenMember {
            name: name.to_owned(),
            header_at,
            encoder,
            data: DataDigest::new(),
            stored: Sha256::new(),
            stored_bytes: 0,
        });
        Ok(())
    }

    /// Append uncompressed table data to the open member.
    pub fn write_data(&mut self, chunk: &[u8]) -> Result<()> {
        let member = self.member.as_mut().expect("no open member");
        member.data.update(chunk);
        member.encoder.write_all(chunk)?;
        let compressed = std::mem::take(member.encoder.get_mut());
        self.write_stored(&compressed)?;
        let member = self.member.as_mut().expect("no open member");
        *member.encoder.get_mut() = recycle(compressed);
        Ok(())
    }

    /// Close the open member and return its checksums.
    pub fn end_member(&mut self) -> Result<MemberSummary> {
        let member = self.member.as_mut().expect("no open member");
        let tail = member
            .encoder
            .try_finish()
            .map(|()| std::mem::take(member.encoder.get_mut()))?;
        self.write_stored(&tail)?;
        let member = self.member.take().expect("no open member");
        self.pad_to_block()?;
        let end = self.position;
        self.out.seek(SeekFrom::Start(member.header_at))?;
        self.out
            .write_all(&header(&member.name, member.stored_bytes, self.mtime)?)?;
        self.out.seek(SeekFrom::Start(end))?;
        Ok(MemberSummary {
            rows: member.data.rows(),
            bytes: member.data.bytes(),
            data_sha256: member.data.finish(),
            member_bytes: member.stored_bytes,
            member_sha256: hex::encode(member.stored.finalize()),
        })
    }

    /// Write the manifest, fsync, and rename to the final path. Returns the
    /// artifact's path.
    pub fn finish(mut self, manifest_json: &[u8]) -> Result<PathBuf> {
        assert!(self.member.is_none(), "member not ended");
        self.write_whole_member(MANIFEST_MEMBER, manifest_json)?;
        let sum = format!("{}\n", sha256_hex(manifest_json));
        self.write_whole_member(MANIFEST_SUM_MEMBER, sum.as_bytes())?;
        self.write_raw(&[0; 2 * BLOCK as usize])?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .context("cannot write artifact")?;
        file.as_file().sync_all().context("cannot sync artifact")?;
        file.persist(&self.final_path).with_context(|| {
            format!("cannot rename artifact into {}", self.final_path.display())
        })?;
        sync_dir(parent_dir(&self.final_path))?;
        Ok(self.final_path)
    }

    fn write_whole_member(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write_raw(&header(name, bytes.len() as u64, self.mtime)?)?;
        self.write_raw(bytes)?;
        self.pad_to_block()
    }

    fn write_stored(&mut self, bytes: &[u8]) -> Result<()> {
        let member = self.member.as_mut().expect("no open member");
        member.stored.update(bytes);
        member.stored_bytes += bytes.len() as u64;
        self.write_raw(bytes)
    }

    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .with_context(|| format!("cannot write artifact {}", self.final_path.display()))?;
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

/// Write `<artifact>.sha256` in `sha256sum -c` format, atomically. Returns its path.
pub fn write_sidecar(artifact: &Path) -> Result<PathBuf> {
    let mut hasher = Sha256::new();
    let mut file =
        File::open(artifact).with_context(|| format!("cannot reopen {}", artifact.display()))?;
    std::io::copy(&mut file, &mut hasher)?;
    let file_name = artifact
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let line = format!("{}  {}\n", hex::encode(hasher.finalize()), file_name);
    let mut sidecar_name = artifact.as_os_str().to_owned();
    sidecar_name.push(".sha256");
    let sidecar = PathBuf::from(sidecar_name);
    let dir = parent_dir(&sidecar);
    let mut tmp = tempfile::Builder::new()
        .prefix(".seedpack-")
        .suffix(".partial")
        .tempfile_in(dir)?;
    tmp.write_all(line.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&sidecar)
        .with_context(|| format!("cannot write {}", sidecar.display()))?;
    sync_dir(dir)?;
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

fn recycle(mut buf: Vec<u8>) -> Vec<u8> {
    buf.clear();
    buf
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Make a rename durable: fsync the directory that holds it.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync directory {}", dir.display()))
}
