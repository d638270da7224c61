//! `--mode upsert` and `--mode insert-missing`: each existing table is
//! loaded through a staging table (COPY, checked as it streams) and merged
//! with one `INSERT ... SELECT ... ON CONFLICT` on its key, in dependency
//! order: set-based, never row by row. Rows the artifact does not hold are
//! left alone.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::load;
use crate::artifact::{ArtifactReader, TableEntry};
use crate::catalog::Table;
use crate::error::Error;
use crate::ident::QualifiedName;
use crate::pg::sql;
use crate::progress::Progress;

/// The key ON CONFLICT uses: the primary key, else the first unique constraint.
const KEY: &str = "
SELECT con.conname,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = $1 AND con.contype IN ('p', 'u') AND con.conparentid = 0
ORDER BY con.contype = 'p' DESC, con.conname
LIMIT 1";

/// A table's merge key.
#[derive(Debug, Clone)]
pub struct MergeKey {
    pub constraint: String,
    pub columns: Vec<String>,
}

/// The key of each existing table, found before any write; a table without
/// a usable key is a refusal naming it.
pub async fn keys(
    client: &Client,
    tables: &[Table],
    entries: &[TableEntry],
) -> Result<Vec<MergeKey>> {
    let mut keys = Vec::with_capacity(tables.len());
    for table in tables {
        let refuse = |why: &str| {
            Error::Refused(format!(
                "table {} {why}; upsert and insert-missing need one to match rows by",
                table.name
            ))
        };
        let row = client
            .query_opt(KEY, &[&table.oid])
            .await
            .with_context(|| format!("cannot read the keys of {}", table.name))?
            .ok_or_else(|| refuse("has no primary key or unique constraint"))?;
        let key = MergeKey {
            constraint: row.get("conname"),
            columns: row.get("columns"),
        };
        let entry = entries
            .iter()
            .find(|e| e.name == table.name)
            .expect("tables come from the manifest");
        if !key
            .columns
            .iter()
            .all(|k| entry.columns.iter().any(|c| &c.name == k))
        {
            return Err(refuse(&format!(
                "has key {} on columns the artifact does not hold",
                key.constraint
            ))
            .into());
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Load the table at `position` into a staging table and merge it into
/// `table`. Returns how many rows were inserted or changed.
pub async fn merge_table(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    position: usize,
    progress: &dyn Progress,
    table: &QualifiedName,
    key: &MergeKey,
    update: bool,
) -> Result<u64> {
    let stage = QualifiedName::new("pg_temp", "seedpack_stage");
    client
        .batch_execute(&sql::create_stage(&stage, table))
        .await
        .context("cannot create the staging table")?;
    load::load_table(client, reader, position, progress, &stage, true).await?;
    let entry = &reader.manifest().tables[position];
    let columns: Vec<&str> = entry.columns.iter().map(|c| c.name.as_str()).collect();
    let merge = sql::merge_from_stage(
        table,
        &stage,
        &columns,
        &key.constraint,
        &key.columns,
        update,
    );
    let changed: i64 = client
        .query_one(&merge, &[])
        .await
        .with_context(|| format!("cannot merge into {table}"))?
        .get(0);
    client.batch_execute(&sql::drop_table(&stage)).await?;
    Ok(changed as u64)
}
