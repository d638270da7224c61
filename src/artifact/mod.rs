//! The on-disk format: one tar file holding compressed COPY text per table
//! and a JSON manifest, plus a `sha256sum`-style sidecar.
//!
//! Layout of `NAME.seedpack` (a GNU tar file any `tar` can list and unpack):
//!
//! ```text
//! data/0001.copy.zst  COPY text of the first table in restore order, zstd
//! data/0002.copy.zst  ... (.copy.gz when gzip, .copy when not compressed)
//! statistics.jsonl.zst  planner statistics, from PostgreSQL 18 sources
//! manifest.json       written last, once every checksum is known
//! ```
//!
//! Members are named by position, never by table name, so no table name can
//! reach a file path. The manifest may carry the tables' schema as DDL in
//! creation order (see [`SchemaSection`]). This module knows nothing of databases.

mod blocks;
mod checksum;
mod compression;
mod copy_text;
mod deflate;
mod manifest;
mod reader;
mod schema_section;
mod statistics;
mod writer;

pub use checksum::{sha256_of, DataDigest, Digesting};
pub use compression::{Compression, Method};
pub use copy_text::CopyChecker;
pub use manifest::{
    content_id, ColumnEntry, ForeignKeyEntry, Manifest, PartitionEntry, SequenceEntry,
    StatisticsEntry, TableEntry, TableKind, FORMAT_NAME, FORMAT_VERSION,
};
pub use reader::{check_data, ArtifactReader, MemberCheck};
pub use schema_section::{ObjectKind, Phase, Requirement, SchemaObject, SchemaSection};
pub use statistics::{
    read_statistics, statistics_member_name, stray_statistics, ColumnStatistics, RelationStatistics,
};
pub use writer::{ArtifactWriter, MemberSummary};

/// Name of the manifest member.
pub const MANIFEST_MEMBER: &str = "manifest.json";

/// Name of the data member of the table at `position` (0-based) in restore
/// order, stored with `method`.
pub fn data_member_name(position: usize, method: Method) -> String {
    format!("data/{:04}.copy{}", position + 1, method.extension())
}

/// Why an artifact cannot be used. Every variant means bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot read artifact {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },

    #[error("{path} is not a seedpack artifact: {reason}")]
    NotAnArtifact { path: String, reason: String },

    #[error("cannot compare the artifact with a database: {0}")]
    NotComparable(String),

    #[error("artifact is damaged: {0}")]
    Damaged(String),

    #[error("artifact format version {found} is newer than this seedpack understands ({supported}); upgrade seedpack")]
    UnsupportedVersion { found: u32, supported: u32 },

    #[error("checksum mismatch in {what} of table {table}: expected {expected}, found {actual}")]
    ChecksumMismatch {
        table: String,
        what: &'static str,
        expected: String,
        actual: String,
    },

    #[error("table {table} expands to more than the {expected} bytes its manifest states")]
    TooLarge { table: String, expected: u64 },

    #[error("row count mismatch in table {table}: manifest says {expected}, data holds {actual}")]
    RowCountMismatch {
        table: String,
        expected: u64,
        actual: u64,
    },
}
