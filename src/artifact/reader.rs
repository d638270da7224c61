//! Reading an artifact: structure, manifest and checksums, streamed.
//!
//! Opening scans the tar headers (seeking past data), refuses any member it
//! does not expect, and checks that every byte of the file is either a
//! checksummed header, checksummed data, or zero padding, so that any damaged
//! byte is caught by `check_members`.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::checksum::{sha256_of, DataDigest, Digesting};
use super::copy_text::CopyChecker;
use super::statistics::{read_statistics, stray_statistics};
use super::writer::MANIFEST_SUM_MEMBER;
use super::{
    data_member_name, statistics_member_name, ArtifactError, Manifest, Method, MANIFEST_MEMBER,
};
use crate::ident::QualifiedName;

/// The largest manifest accepted; a real one is far smaller.
const MANIFEST_LIMIT: u64 = 64 << 20;
const BLOCK: u64 = 512;

#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    size: u64,
}

/// An artifact opened for reading, its manifest parsed.
#[derive(Debug)]
pub struct ArtifactReader {
    path: PathBuf,
    manifest: Arc<Manifest>,
    members: HashMap<String, Span>,
    /// Where the last member's padding ends: from there on, only zeros.
    end_of_members: u64,
    file_len: u64,
}

/// The outcome of checking one table's member.
#[derive(Debug, Clone)]
pub struct MemberCheck {
    pub table: String,
    pub member_bytes: u64,
    /// Present when the data was decompressed and checked too.
    pub rows: Option<u64>,
}

impl ArtifactReader {
    /// Open an artifact and parse its manifest. Checksums are checked by
    /// [`check_members`](Self::check_members).
    pub fn open(path: &Path) -> Result<Self, ArtifactError> {
        let file = File::open(path).map_err(|e| unreadable(path, e))?;
        let file_len = file.metadata().map_err(|e| unreadable(path, e))?.len();
        if file_len < 2 * BLOCK {
            return Err(not_an_artifact(path, format!("only {file_len} bytes long")));
        }
        let (members, end_of_members) = scan_members(path, file, file_len)?;
        if file_len < end_of_members + 2 * BLOCK {
            return Err(ArtifactError::Damaged(
                "truncated: the end-of-archive marker is missing".into(),
            ));
        }
        let reader = Self {
            path: path.to_path_buf(),
            manifest: Arc::new(read_manifest(path, &members)?),
            members,
            end_of_members,
            file_len,
        };
        reader.check_member_list()?;
        Ok(reader)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest, to keep after the reader is gone without copying it.
    pub fn shared_manifest(&self) -> Arc<Manifest> {
        Arc::clone(&self.manifest)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Check every table's stored checksum and that the padding is zeros;
    /// with `deep`, decompress too and check each table's data checksum, row
    /// count, and that it is COPY text the server can load.
    pub fn check_members(&self, deep: bool) -> Result<Vec<MemberCheck>, ArtifactError> {
        self.check_padding()?;
        let mut checks = Vec::with_capacity(self.manifest.tables.len());
        for (position, table) in self.manifest.tables.iter().enumerate() {
            let span = self.members[&data_member_name(position, self.manifest.compression)];
            let actual = sha256_of(self.open_span(span)?).map_err(|e| self.io_damage(e))?;
            if actual != table.member_sha256 {
                return Err(ArtifactError::ChecksumMismatch {
                    table: table.name.to_string(),
                    what: "stored member",
                    expected: table.member_sha256.clone(),
                    actual,
                });
            }
            let rows = if deep {
                let mut data = Digesting::new(self.table_data(position)?);
                let mut text = CopyChecker::new(&table.name.to_string(), table.columns.len());
                if let Err(e) = std::io::copy(&mut data, &mut text) {
                    text.finish()?;
                    return Err(ArtifactError::Damaged(format!("table {}: {e}", table.name)));
                }
                check_data(table, data.finish())?;
                text.finish()?;
                Some(table.rows)
            } else {
                None
            };
            checks.push(MemberCheck {
                table: table.name.to_string(),
                member_bytes: span.size,
                rows,
            });
        }
        self.check_statistics(deep)?;
        Ok(checks)
    }

    /// The statistics member's stored checksum; with `deep`, its data's.
    fn check_statistics(&self, deep: bool) -> Result<(), ArtifactError> {
        let Some(entry) = &self.manifest.statistics else {
            return Ok(());
        };
        let actual = sha256_of(self.open_span(self.members[&entry.member])?)
            .map_err(|e| self.io_damage(e))?;
        let mismatch = |what, expected: &str, actual| ArtifactError::ChecksumMismatch {
            table: "(planner statistics)".into(),
            what,
            expected: expected.to_owned(),
            actual,
        };
        if actual != entry.member_sha256 {
            return Err(mismatch("stored member", &entry.member_sha256, actual));
        }
        if deep {
            let tables: HashSet<&QualifiedName> =
                self.manifest.tables.iter().map(|t| &t.name).collect();
            let mut stray = None;
            read_statistics(self.statistics_data()?, entry, |relation| {
                let known = tables.contains(&relation.table);
                if !known {
                    stray = Some(relation);
                }
                known
            })?;
            if let Some(relation) = stray {
                return Err(stray_statistics(&relation));
            }
        }
        Ok(())
    }

    /// The planner statistics' JSON lines, when the artifact carries them;
    /// bounded as [`table_data`](Self::table_data) is. The caller checks
    /// them with [`read_statistics`].
    pub fn statistics_data(&self) -> Result<impl Read + Send + 'static, ArtifactError> {
        let entry = self.manifest.statistics.as_ref().ok_or_else(|| {
            ArtifactError::Damaged("the artifact carries no planner statistics".into())
        })?;
        self.expand(
            self.members[&entry.member],
            entry.bytes,
            "(planner statistics)".into(),
        )
    }

    /// The uncompressed COPY text of the table at `position` in restore order.
    /// The caller checks it against the manifest with [`check_data`]. Reading
    /// past the size the manifest states fails, so a member that expands
    /// without end (a decompression bomb) costs no more than an honest one.
    pub fn table_data(&self, position: usize) -> Result<impl Read + Send + 'static, ArtifactError> {
        let span = self.members[&data_member_name(position, self.manifest.compression)];
        let table = &self.manifest.tables[position];
        self.expand(span, table.bytes, table.name.to_string())
    }

    /// The uncompressed bytes of the member at `span`, failing past `limit`.
    fn expand(
        &self,
        span: Span,
        limit: u64,
        what: String,
    ) -> Result<Bounded<Box<dyn Read + Send>>, ArtifactError> {
        let stored = BufReader::with_capacity(1 << 18, self.open_span(span)?);
        let inner: Box<dyn Read + Send> = match self.manifest.compression {
            Method::Gzip => Box::new(MultiGzDecoder::new(stored)),
            Method::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(stored).map_err(|e| self.io_damage(e))?,
            ),
            Method::None => Box::new(stored),
        };
        Ok(Bounded {
            inner,
            left: limit,
            limit,
            table: what,
        })
    }

    fn check_member_list(&self) -> Result<(), ArtifactError> {
        for (position, table) in self.manifest.tables.iter().enumerate() {
            let name = data_member_name(position, self.manifest.compression);
            let span = self.members.get(&name).ok_or_else(|| {
                ArtifactError::Damaged(format!("member {name} of table {} is missing", table.name))
            })?;
            if span.size != table.member_bytes {
                return Err(ArtifactError::Damaged(format!(
                    "member {name} of table {} is {} bytes, manifest says {}",
                    table.name, span.size, table.member_bytes
                )));
            }
        }
        let statistics = self
            .members
            .iter()
            .filter(|(n, _)| is_statistics_member_name(n))
            .map(|(n, span)| (n.as_str(), span.size))
            .collect::<Vec<_>>();
        let expected = self
            .manifest
            .statistics
            .iter()
            .map(|s| (s.member.as_str(), s.member_bytes))
            .collect::<Vec<_>>();
        if statistics != expected {
            return Err(ArtifactError::Damaged(format!(
                "the planner statistics members {statistics:?} are not the manifest's {expected:?}"
            )));
        }
        let data_members = self
            .members
            .keys()
            .filter(|n| is_data_member_name(n))
            .count();
        if data_members != self.manifest.tables.len() {
            return Err(ArtifactError::Damaged(format!(
                "{data_members} data members but the manifest lists {} tables",
                self.manifest.tables.len()
            )));
        }
        Ok(())
    }

    /// Every byte outside headers and member data must be zero: padding
    /// after each member, and the end-of-archive blocks.
    fn check_padding(&self) -> Result<(), ArtifactError> {
        let mut gaps: Vec<(u64, u64)> = self
            .members
            .values()
            .map(|s| {
                (
                    s.offset + s.size,
                    (s.offset + s.size).div_ceil(BLOCK) * BLOCK,
                )
            })
            .collect();
        gaps.push((self.end_of_members, self.file_len));
        for (start, end) in gaps {
            let bytes = self.read_span(Span {
                offset: start,
                size: end - start,
            })?;
            if bytes.iter().any(|&b| b != 0) {
                return Err(ArtifactError::Damaged(format!(
                    "unexpected bytes in tar padding at offset {start}"
                )));
            }
        }
        Ok(())
    }

    fn open_span(&self, span: Span) -> Result<std::io::Take<File>, ArtifactError> {
        open_span(&self.path, span)
    }

    fn read_span(&self, span: Span) -> Result<Vec<u8>, ArtifactError> {
        read_span(&self.path, span)
    }

    fn io_damage(&self, source: std::io::Error) -> ArtifactError {
        unreadable(&self.path, source)
    }
}

fn unreadable(path: &Path, source: std::io::Error) -> ArtifactError {
    ArtifactError::Unreadable {
        path: path.display().to_string(),
        source,
    }
}

fn not_an_artifact(path: &Path, reason: String) -> ArtifactError {
    ArtifactError::NotAnArtifact {
        path: path.display().to_string(),
        reason,
    }
}

/// Every member's place in the file, from the tar headers (seeking past
/// the data), and where the last member's padding ends. Any member seedpack
/// does not write is refused.
fn scan_members(
    path: &Path,
    file: File,
    file_len: u64,
) -> Result<(HashMap<String, Span>, u64), ArtifactError> {
    let mut members = HashMap::new();
    let mut end_of_members = 0;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let entries = archive
        .entries_with_seek()
        .map_err(|e| not_an_artifact(path, e.to_string()))?;
    for (index, entry) in entries.enumerate() {
        // The tar crate's messages quote the bad bytes; say where instead.
        let entry = entry.map_err(|_| match index {
            0 => not_an_artifact(path, "it does not start with a tar header".into()),
            _ => ArtifactError::Damaged(format!("tar header {} is broken or truncated", index + 1)),
        })?;
        let name = entry
            .path()
            .map_err(|e| ArtifactError::Damaged(format!("bad member name: {e}")))?
            .to_string_lossy()
            .into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(ArtifactError::Damaged(format!(
                "member {name:?} is not a regular file"
            )));
        }
        let is_known = name == MANIFEST_MEMBER
            || name == MANIFEST_SUM_MEMBER
            || is_data_member_name(&name)
            || is_statistics_member_name(&name);
        if !is_known {
            return Err(not_an_artifact(path, format!("unexpected member {name:?}")));
        }
        let span = Span {
            offset: entry.raw_file_position(),
            size: entry.size(),
        };
        if span.offset.saturating_add(span.size) > file_len {
            return Err(ArtifactError::Damaged(format!(
                "truncated: member {name} ends past the end of the file"
            )));
        }
        end_of_members = (span.offset + span.size).div_ceil(BLOCK) * BLOCK;
        if members.insert(name.clone(), span).is_some() {
            return Err(ArtifactError::Damaged(format!(
                "member {name} appears twice"
            )));
        }
    }
    Ok((members, end_of_members))
}

/// The manifest, checked against its own checksum member, then parsed.
fn read_manifest(path: &Path, members: &HashMap<String, Span>) -> Result<Manifest, ArtifactError> {
    let manifest_span = members
        .get(MANIFEST_MEMBER)
        .copied()
        .ok_or_else(|| not_an_artifact(path, "no manifest.json (is the file truncated?)".into()))?;
    if manifest_span.size > MANIFEST_LIMIT {
        return Err(ArtifactError::Damaged(format!(
            "manifest is {} bytes, more than the {MANIFEST_LIMIT} allowed",
            manifest_span.size
        )));
    }
    let sum_span = members
        .get(MANIFEST_SUM_MEMBER)
        .copied()
        .ok_or_else(|| ArtifactError::Damaged("no manifest checksum (truncated?)".into()))?;
    if sum_span.size > 1024 {
        return Err(ArtifactError::Damaged("manifest checksum too large".into()));
    }
    let expected = String::from_utf8_lossy(&read_span(path, sum_span)?)
        .trim()
        .to_owned();
    let actual = sha256_of(open_span(path, manifest_span)?).map_err(|e| unreadable(path, e))?;
    if expected != actual {
        return Err(ArtifactError::ChecksumMismatch {
            table: "(manifest)".into(),
            what: "manifest",
            expected,
            actual,
        });
    }
    Manifest::read(|| open_span(path, manifest_span))
}

fn open_span(path: &Path, span: Span) -> Result<std::io::Take<File>, ArtifactError> {
    let mut file = File::open(path).map_err(|e| unreadable(path, e))?;
    file.seek(SeekFrom::Start(span.offset))
        .map_err(|e| unreadable(path, e))?;
    Ok(file.take(span.size))
}

fn read_span(path: &Path, span: Span) -> Result<Vec<u8>, ArtifactError> {
    let mut bytes = Vec::with_capacity(span.size as usize);
    open_span(path, span)?
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(path, e))?;
    if bytes.len() as u64 != span.size {
        return Err(ArtifactError::Damaged("truncated member".into()));
    }
    Ok(bytes)
}

/// Decompressed data that may not exceed the size its manifest states.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
    table: String,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Ask for one byte more than allowed, to notice an overrun.
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(ArtifactError::TooLarge {
                table: self.table.clone(),
                expected: self.limit,
            }));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Compare a table's streamed data digest with its manifest entry.
pub fn check_data(table: &super::TableEntry, digest: DataDigest) -> Result<(), ArtifactError> {
    if digest.rows() != table.rows {
        return Err(ArtifactError::RowCountMismatch {
            table: table.name.to_string(),
            expected: table.rows,
            actual: digest.rows(),
        });
    }
    if digest.bytes() != table.bytes {
        return Err(ArtifactError::Damaged(format!(
            "table {} holds {} bytes of data, its manifest says {}",
            table.name,
            digest.bytes(),
            table.bytes
        )));
    }
    let actual = digest.finish();
    if actual != table.data_sha256 {
        return Err(ArtifactError::ChecksumMismatch {
            table: table.name.to_string(),
            what: "data",
            expected: table.data_sha256.clone(),
            actual,
        });
    }
    Ok(())
}

const METHODS: [Method; 3] = [Method::Zstd, Method::Gzip, Method::None];

/// `data/NNNN.copy` with any method's ending; the manifest's method then
/// decides which are expected.
fn is_data_member_name(name: &str) -> bool {
    let number = METHODS.iter().find_map(|m| {
        name.strip_prefix("data/")?
            .strip_suffix(m.extension())?
            .strip_suffix(".copy")
    });
    number.is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_statistics_member_name(name: &str) -> bool {
    METHODS.iter().any(|&m| name == statistics_member_name(m))
}
