//! The manifest: what an artifact holds, with every checksum, as JSON.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{ArtifactError, DataDigest, Method, ObjectKind, SchemaObject, SchemaSection};
use crate::ident::{quote_ident, QualifiedName};

/// The value of the manifest's `format` field.
pub const FORMAT_NAME: &str = "seedpack";
/// The newest manifest format this seedpack reads. It writes the oldest
/// that describes an artifact (see [`Method::format_version`]).
pub const FORMAT_VERSION: u32 = 2;
/// The version the content id is computed under: the same for every
/// format version, since formats differ in storage, not content.
const CONTENT_VERSION: u32 = 1;

/// The manifest of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub seedpack_version: String,
    /// The source server's version, as `server_version` reports it.
    pub server_version: String,
    pub server_version_num: u32,
    /// RFC 3339 UTC; `SOURCE_DATE_EPOCH` when set, so dumps reproduce.
    pub created_at: String,
    pub database: String,
    /// How the data members are stored; absent (gzip) in artifacts from
    /// before zstd, and in gzip ones still, so older releases read them.
    #[serde(default, skip_serializing_if = "Method::is_gzip")]
    pub compression: Method,
    /// A seed version given with `dump --label`: metadata, not content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Same whenever schema and data are the same; see [`content_id`].
    pub content_id: String,
    /// Tables in restore order: referenced tables first.
    pub tables: Vec<TableEntry>,
    pub foreign_keys: Vec<ForeignKeyEntry>,
    /// Groups of tables whose foreign keys form a loop.
    pub cycles: Vec<Vec<QualifiedName>>,
    pub self_references: Vec<QualifiedName>,
    pub sequences: Vec<SequenceEntry>,
    /// The DDL of the tables and what they need; absent in data-only artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaSection>,
    /// Written by `dump --schema-only`: the tables hold no rows, and a
    /// restore must not empty the target's.
    #[serde(default)]
    pub schema_only: bool,
    /// Written by `dump --no-order`: rows as the server read them, not in
    /// key order, so the data checksums hold for this file only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unordered: bool,
    /// Migration bookkeeping tables the dump was asked to carry: a restore
    /// loads a migration table only when it is listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migration_tables: Vec<QualifiedName>,
    /// Planner statistics of the tables and their indexes, read from a
    /// PostgreSQL 18 or newer source. Not content: the content id leaves
    /// them out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<StatisticsEntry>,
}

/// The member holding planner statistics: one JSON line per relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatisticsEntry {
    pub member: String,
    /// Lines: one per relation.
    pub relations: u64,
    /// Size of the uncompressed JSON lines.
    pub bytes: u64,
    pub data_sha256: String,
    pub member_bytes: u64,
    pub member_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    #[serde(flatten)]
    pub name: QualifiedName,
    pub kind: TableKind,
    /// The columns in the data, in order (generated columns are not stored).
    pub columns: Vec<ColumnEntry>,
    pub primary_key: Vec<String>,
    /// The natural key rows are matched on when merged (`dump --key`);
    /// empty: the primary key. Not content: the content id leaves it out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_key: Vec<String>,
    pub rows: u64,
    /// Size of the uncompressed COPY text.
    pub bytes: u64,
    /// SHA-256 of the uncompressed COPY text.
    pub data_sha256: String,
    pub member: String,
    pub member_bytes: u64,
    /// SHA-256 of the stored (compressed) member.
    pub member_sha256: String,
    /// A partitioned table's data, leaf partition by leaf partition: the
    /// data holds each leaf's rows in turn, in this order, so a restore can
    /// load each leaf directly (and frozen). Empty: the data was read
    /// through the table, in one order (older artifacts, or a leaf the dump
    /// could not read directly). Layout, not content: not in the content id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionEntry>,
}

/// One leaf partition's share of its table's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionEntry {
    #[serde(flatten)]
    pub name: QualifiedName,
    /// Its partition constraint in the dumped database, as the server
    /// printed it: a restore loads the leaf directly only into a leaf with
    /// the same constraint.
    pub bound: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What a table is, as the manifest spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// An ordinary table (it may have inheritance children).
    Table,
    /// A partitioned table, its rows in its partitions.
    Partitioned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnEntry {
    pub name: String,
    /// The type as `format_type` spells it.
    #[serde(rename = "type")]
    pub type_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKeyEntry {
    pub name: String,
    pub table: QualifiedName,
    pub references: QualifiedName,
    /// The constraint as `pg_get_constraintdef` prints it.
    pub definition: String,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// Inside a cycle or a self-reference: no load order satisfies it.
    pub needs_deferral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceEntry {
    #[serde(flatten)]
    pub name: QualifiedName,
    pub last_value: i64,
    pub is_called: bool,
}

/// A manifest's format fields, read before the rest: a newer format is
/// refused as such, not as whatever its new fields fail to parse as.
#[derive(Deserialize)]
struct Version {
    format: Option<String>,
    format_version: Option<u32>,
}

impl Version {
    fn accept(self) -> Result<(), ArtifactError> {
        if self.format.as_deref() != Some(FORMAT_NAME) {
            return Err(ArtifactError::Damaged(
                "manifest does not name the seedpack format".into(),
            ));
        }
        match self.format_version {
            Some(v) if v > FORMAT_VERSION => Err(ArtifactError::UnsupportedVersion {
                found: v,
                supported: FORMAT_VERSION,
            }),
            Some(v) if v >= 1 => Ok(()),
            _ => Err(ArtifactError::Damaged(
                "manifest has no format version".into(),
            )),
        }
    }
}

fn damaged(error: serde_json::Error) -> ArtifactError {
    ArtifactError::Damaged(format!("manifest: {error}"))
}

/// The content id: SHA-256 over the schema and data of the tables and the
/// sequence states, and nothing else (no times, versions or compression), so
/// it is the same whenever the data and schema are.
pub fn content_id(
    tables: &[TableEntry],
    foreign_keys: &[ForeignKeyEntry],
    sequences: &[SequenceEntry],
    schema: Option<&SchemaSection>,
) -> String {
    #[derive(Serialize)]
    struct TableContent<'a> {
        name: &'a QualifiedName,
        columns: &'a [ColumnEntry],
        primary_key: &'a [String],
        rows: u64,
        data_sha256: &'a str,
    }
    #[derive(Serialize)]
    struct Content<'a> {
        format_version: u32,
        tables: Vec<TableContent<'a>>,
        foreign_keys: &'a [ForeignKeyEntry],
        sequences: &'a [SequenceEntry],
        #[serde(skip_serializing_if = "Option::is_none")]
        schema: Option<&'a [super::SchemaObject]>,
    }
    let content = Content {
        format_version: CONTENT_VERSION,
        tables: tables
            .iter()
            .map(|t| TableContent {
                name: &t.name,
                columns: &t.columns,
                primary_key: &t.primary_key,
                rows: t.rows,
                data_sha256: &t.data_sha256,
            })
            .collect(),
        foreign_keys,
        sequences,
        schema: schema.map(|s| s.objects.as_slice()),
    };
    // Streamed into the hash: at thousands of tables the serialized
    // content is tens of megabytes.
    let mut digest = std::io::BufWriter::with_capacity(64 << 10, DataDigest::new());
    serde_json::to_writer(&mut digest, &content).expect("content serializes");
    let digest = digest.into_inner().expect("hashing does not fail");
    digest.finish()
}

/// The data a table states must be no more than its rows could hold, each
/// field at most PostgreSQL's 1 GB: a member that would expand to more (a
/// decompression bomb with an honest size) is refused before a byte of it
/// is decompressed.
fn check_proportion(table: &TableEntry) -> Result<(), ArtifactError> {
    let fields = table.columns.len().max(1) as u64;
    let most = table
        .rows
        .saturating_mul(fields.saturating_mul(super::copy_text::FIELD_LIMIT * 4 + 1));
    if table.bytes > most {
        return Err(ArtifactError::Damaged(format!(
            "table {} states {} bytes of data for {} rows of {fields} columns, more than they \
             could hold",
            table.name, table.bytes, table.rows
        )));
    }
    Ok(())
}

/// A table's leaf partitions must share out exactly its rows and bytes.
fn check_partitions(table: &TableEntry) -> Result<(), ArtifactError> {
    if table.partitions.is_empty() {
        return Ok(());
    }
    let (rows, bytes) = table.partitions.iter().fold((0u64, 0u64), |(r, b), p| {
        (r.saturating_add(p.rows), b.saturating_add(p.bytes))
    });
    if table.kind != TableKind::Partitioned || rows != table.rows || bytes != table.bytes {
        return Err(ArtifactError::Damaged(format!(
            "table {}: its partitions do not add up to its data",
            table.name
        )));
    }
    Ok(())
}

/// A table of a manifest that carries the schema must have its `CREATE
/// TABLE`, naming each column the data holds (unless the columns come from
/// a parent or a type: inheritance, partitions, typed tables), or the
/// restore would fail late, at `COPY`, with the wrong exit code.
fn check_table_ddl(
    table: &TableEntry,
    creates: &HashMap<&QualifiedName, &SchemaObject>,
) -> Result<(), ArtifactError> {
    let damaged = |what: String| ArtifactError::Damaged(format!("table {}: {what}", table.name));
    let ddl = creates
        .get(&table.name)
        .ok_or_else(|| damaged("the manifest's schema has no CREATE TABLE for it".into()))?;
    // CREATE TABLE name OF type, on its first line.
    let typed = ddl.sql.lines().next().is_some_and(|l| l.contains(" OF "));
    let inherited = typed || ddl.sql.contains(" INHERITS (") || ddl.sql.contains(" PARTITION OF ");
    if inherited {
        return Ok(());
    }
    match table
        .columns
        .iter()
        .find(|c| !ddl.sql.contains(&format!("{} ", quote_ident(&c.name))))
    {
        Some(column) => Err(damaged(format!(
            "its data holds column {:?}, which its CREATE TABLE does not define",
            column.name
        ))),
        None => Ok(()),
    }
}

impl Manifest {
    /// Parse and check a manifest's own consistency; members are checked by the reader.
    pub fn parse(bytes: &[u8]) -> Result<Self, ArtifactError> {
        Version::accept(serde_json::from_slice(bytes).map_err(damaged)?)?;
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(damaged)?;
        manifest.check()?;
        Ok(manifest)
    }

    /// [`parse`](Self::parse) from a reader that `open` gives, twice (its
    /// format version first), so a manifest of tens of megabytes is never
    /// held whole.
    pub fn read<R: std::io::Read>(
        open: impl Fn() -> Result<R, ArtifactError>,
    ) -> Result<Self, ArtifactError> {
        let from = |reader: R| std::io::BufReader::with_capacity(64 << 10, reader);
        Version::accept(serde_json::from_reader(from(open()?)).map_err(damaged)?)?;
        let manifest: Manifest = serde_json::from_reader(from(open()?)).map_err(damaged)?;
        manifest.check()?;
        Ok(manifest)
    }

    /// The oldest format version that describes this artifact: 1 (which
    /// seedpack versions before zstd read) for gzip without statistics.
    pub fn oldest_format_version(&self) -> u32 {
        let statistics = match self.statistics {
            Some(_) => 2,
            None => 1,
        };
        self.compression.format_version().max(statistics)
    }

    fn check(&self) -> Result<(), ArtifactError> {
        if self.format_version < self.oldest_format_version() {
            return Err(ArtifactError::Damaged(format!(
                "format version {} cannot hold what the manifest lists",
                self.format_version
            )));
        }
        if let Some(statistics) = &self.statistics {
            let expected = super::statistics_member_name(self.compression);
            if statistics.member != expected {
                return Err(ArtifactError::Damaged(format!(
                    "statistics member {:?}, expected {expected:?}",
                    statistics.member
                )));
            }
        }
        let mut names = std::collections::HashSet::new();
        for (position, table) in self.tables.iter().enumerate() {
            if !names.insert(&table.name) {
                return Err(ArtifactError::Damaged(format!(
                    "manifest lists table {} twice",
                    table.name
                )));
            }
            let expected = super::data_member_name(position, self.compression);
            if table.member != expected {
                return Err(ArtifactError::Damaged(format!(
                    "table {} names member {:?}, expected {expected:?}",
                    table.name, table.member,
                )));
            }
        }
        for table in &self.tables {
            check_proportion(table)?;
            check_partitions(table)?;
        }
        if let Some(schema) = &self.schema {
            let creates: HashMap<&QualifiedName, &SchemaObject> = schema
                .objects
                .iter()
                .rev() // the first of a name wins
                .filter(|o| o.kind == ObjectKind::Table)
                .filter_map(|o| Some((o.table.as_ref()?, o)))
                .collect();
            for table in &self.tables {
                check_table_ddl(table, &creates)?;
            }
        }
        let expected = content_id(
            &self.tables,
            &self.foreign_keys,
            &self.sequences,
            self.schema.as_ref(),
        );
        if expected != self.content_id {
            return Err(ArtifactError::Damaged(format!(
                "content id {} does not match the manifest's contents ({expected})",
                self.content_id
            )));
        }
        Ok(())
    }

    /// Saturating: a hostile manifest's counts must not overflow.
    pub fn total_rows(&self) -> u64 {
        self.tables
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.rows))
    }

    /// Saturating, as `total_rows`.
    pub fn total_bytes(&self) -> u64 {
        self.tables
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.bytes))
    }
}
