//! The manifest a dump writes, from what it read: the tables' entries with
//! their members' checksums, the foreign keys, the sequences' states and
//! the schema section, and the time it records.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use tokio_postgres::Client;

use super::readers::Written;
use crate::artifact::{
    content_id, ColumnEntry, ForeignKeyEntry, Manifest, MemberSummary, SchemaSection,
    SequenceEntry, StatisticsEntry, TableEntry, TableKind, FORMAT_NAME,
};
use crate::catalog::{self, Table};
use crate::config::DumpConfig;
use crate::error::Error;
use crate::load_order::LoadOrder;
use crate::pg::Session;
use crate::selection::is_migration_table;

/// When a dump says it was made: now, or `SOURCE_DATE_EPOCH` so that dumps
/// of unchanged data reproduce byte for byte.
#[derive(Debug, Clone)]
pub(super) struct Stamp {
    /// Seconds since the epoch, for the tar headers.
    pub mtime: u64,
    /// RFC 3339 UTC, for the manifest.
    pub created_at: String,
}

impl Stamp {
    pub fn new(source_date_epoch: Option<u64>) -> Self {
        let created = source_date_epoch
            .map(|s| UNIX_EPOCH + Duration::from_secs(s))
            .unwrap_or_else(SystemTime::now);
        Self {
            mtime: created
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            created_at: humantime::format_rfc3339_seconds(created).to_string(),
        }
    }
}

/// What the dump read in its snapshot, before the data.
#[derive(Debug)]
pub(super) struct Read {
    pub order: LoadOrder,
    pub sequences: Vec<SequenceEntry>,
    pub schema: SchemaSection,
    /// The natural key to record for each table (`--key`), by position.
    pub keys: Vec<Vec<String>>,
}

/// The `--key` of each of `tables`, checked: it names columns the table
/// stores, and the source has a unique constraint or index on them (a key
/// that does not identify rows here will not in a target either).
pub(super) async fn recorded_keys(
    client: &Client,
    config: &DumpConfig,
    tables: &[Table],
) -> Result<Vec<Vec<String>>> {
    for choice in &config.keys {
        if !tables.iter().any(|t| choice.table.matches_name(&t.name)) {
            return Err(Error::Usage(format!(
                "--key {}: no table of the dump is called that",
                choice.table.written
            ))
            .into());
        }
    }
    let oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
    let unique = catalog::unique_keys(client, &oids).await?;
    let mut keys = Vec::with_capacity(tables.len());
    for table in tables {
        let Some(choice) = config
            .keys
            .iter()
            .rev()
            .find(|c| c.table.matches_name(&table.name))
        else {
            keys.push(Vec::new());
            continue;
        };
        if let Some(missing) = choice
            .columns
            .iter()
            .find(|c| !table.stored_columns().any(|col| &col.name == *c))
        {
            return Err(Error::Usage(format!(
                "--key {}: table {} stores no column {missing:?}",
                choice.table.written, table.name
            ))
            .into());
        }
        let identifies = unique.iter().any(|(oid, columns)| {
            *oid == table.oid && catalog::same_columns(columns, &choice.columns)
        });
        if !identifies {
            return Err(Error::Usage(format!(
                "--key {}: table {} has no unique constraint or index on ({})",
                choice.table.written,
                table.name,
                choice.columns.join(", ")
            ))
            .into());
        }
        keys.push(choice.columns.clone());
    }
    Ok(keys)
}

/// The manifest of a dump, once every member is written.
pub(super) fn build(
    config: &DumpConfig,
    session: &Session,
    read: Read,
    written: Vec<Written>,
    statistics: Option<MemberSummary>,
    stamp: Stamp,
) -> Manifest {
    let tables: Vec<TableEntry> = read
        .order
        .tables
        .iter()
        .zip(written)
        .enumerate()
        .map(|(position, (table, (summary, partitions)))| {
            let mut entry = table_entry(table, summary);
            entry.match_key = read.keys[position].clone();
            entry.partitions = partitions;
            entry
        })
        .collect();
    let foreign_keys = foreign_key_entries(&read.order);
    let migration_tables = read
        .order
        .tables
        .iter()
        .map(|t| t.name.clone())
        .filter(is_migration_table)
        .collect();
    let mut manifest = Manifest {
        format: FORMAT_NAME.to_owned(),
        format_version: 0,
        seedpack_version: env!("CARGO_PKG_VERSION").to_owned(),
        server_version: session.server_version.clone(),
        server_version_num: session.server_version_num,
        created_at: stamp.created_at,
        database: config.target.database().to_owned(),
        compression: config.compression.method(),
        label: config.label.clone(),
        content_id: content_id(&tables, &foreign_keys, &read.sequences, Some(&read.schema)),
        tables,
        foreign_keys,
        cycles: read.order.cycles,
        self_references: read.order.self_references,
        sequences: read.sequences,
        schema: Some(read.schema),
        schema_only: config.schema_only,
        unordered: !config.ordered,
        migration_tables,
        statistics: statistics.map(|s| StatisticsEntry {
            member: s.member,
            relations: s.rows,
            bytes: s.bytes,
            data_sha256: s.data_sha256,
            member_bytes: s.member_bytes,
            member_sha256: s.member_sha256,
        }),
    };
    manifest.format_version = manifest.oldest_format_version();
    manifest
}

fn foreign_key_entries(order: &LoadOrder) -> Vec<ForeignKeyEntry> {
    order
        .foreign_keys
        .iter()
        .map(|(fk, needs_deferral)| ForeignKeyEntry {
            name: fk.name.clone(),
            table: fk.relation.clone(),
            references: fk.referenced.clone(),
            definition: fk.definition.clone(),
            deferrable: fk.deferrable,
            initially_deferred: fk.initially_deferred,
            needs_deferral: *needs_deferral,
        })
        .collect()
}

fn table_entry(table: &Table, summary: MemberSummary) -> TableEntry {
    TableEntry {
        name: table.name.clone(),
        kind: if table.partitioned {
            TableKind::Partitioned
        } else {
            TableKind::Table
        },
        columns: table
            .stored_columns()
            .map(|c| ColumnEntry {
                name: c.name.clone(),
                type_name: c.type_name.clone(),
            })
            .collect(),
        primary_key: table.primary_key.clone(),
        match_key: Vec::new(),
        rows: summary.rows,
        bytes: summary.bytes,
        data_sha256: summary.data_sha256,
        member: summary.member,
        member_bytes: summary.member_bytes,
        member_sha256: summary.member_sha256,
        partitions: Vec::new(),
    }
}

/// The sequences that go with the dumped tables, with their states.
pub(super) async fn read_sequences(
    client: &Client,
    config: &DumpConfig,
    ordered: &LoadOrder,
) -> Result<Vec<SequenceEntry>> {
    let oids: Vec<u32> = ordered.tables.iter().map(|t| t.oid).collect();
    let mut schemas: Vec<String> = ordered
        .tables
        .iter()
        .map(|t| t.name.schema.clone())
        .chain(config.selection.schemas.iter().cloned())
        .collect();
    schemas.sort();
    schemas.dedup();
    let names =
        catalog::sequences_for(client, &oids, !config.selection.names_tables(), &schemas).await?;
    let mut sequences = Vec::with_capacity(names.len());
    for name in names {
        let (last_value, is_called) = catalog::sequence_state(client, &name).await?;
        sequences.push(SequenceEntry {
            name,
            last_value,
            is_called,
        });
    }
    Ok(sequences)
}
