//! What was applied to a database: the history table, the lock that
//! serializes concurrent restores, and the check that makes a repeated
//! apply a no-op.
//!
//! The table (`seedpack.history` unless `--history-table` says otherwise)
//! is created on first use, with a comment that keeps it out of dumps, and
//! written in the restore's own transaction, so
//! a row exists exactly when the data committed.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::catalog::HISTORY_COMMENT;
use crate::config::StatusConfig;
use crate::env;
use crate::ident::{quote_ident, quote_literal, QualifiedName};
use crate::mode::Mode;
use crate::pg;

/// Serializes every seedpack restore into one database: held until the
/// restore's transaction ends, bounded by the session's lock_timeout.
const LOCK: &str =
    "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('seedpack restore', 0))";

/// What a restore did to one table, as recorded and reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    pub table: QualifiedName,
    /// Rows before (`None`: the table was created).
    pub before: Option<i64>,
    pub after: u64,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

/// How an apply treated the rows its tables held, as the history records
/// it: a restore mode, or `--clean` (tables dropped and recreated), which
/// is a mode of its own, so a clean restore is never skipped because the
/// same content was merged or replaced before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliedMode {
    Replace,
    Upsert,
    InsertMissing,
    Clean,
}

impl AppliedMode {
    pub fn new(mode: Mode, clean: bool) -> Self {
        match (clean, mode) {
            (true, _) => Self::Clean,
            (false, Mode::Replace) => Self::Replace,
            (false, Mode::Upsert) => Self::Upsert,
            (false, Mode::InsertMissing) => Self::InsertMissing,
        }
    }

    /// As the history table stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replace => "replace",
            Self::Upsert => "upsert",
            Self::InsertMissing => "insert-missing",
            Self::Clean => "clean",
        }
    }
}

impl std::str::FromStr for AppliedMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            Self::Replace,
            Self::Upsert,
            Self::InsertMissing,
            Self::Clean,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
        .ok_or_else(|| format!("unknown mode {text:?} in the history"))
    }
}

impl std::fmt::Display for AppliedMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One apply, as recorded and as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub id: i64,
    pub content_id: String,
    pub label: Option<String>,
    pub artifact: String,
    pub mode: AppliedMode,
    pub tables: Vec<TableCounts>,
    pub seedpack_version: String,
    pub started_at: String,
    pub finished_at: String,
    pub applied_by: String,
    pub client: String,
}

/// What a restore records.
#[derive(Debug)]
pub struct Record<'a> {
    pub content_id: &'a str,
    pub label: Option<&'a str>,
    pub artifact: &'a str,
    pub mode: AppliedMode,
    pub tables: &'a [TableCounts],
    /// When the restore started, RFC 3339.
    pub started_at: &'a str,
}

/// Wait for any other seedpack restore into this database to finish.
pub async fn lock(client: &Client) -> Result<()> {
    client
        .batch_execute(LOCK)
        .await
        .context("another seedpack restore is running on this database and did not finish within --lock-timeout")
}

fn create_sql(table: &QualifiedName) -> String {
    format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {table} (
             id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             content_id       text NOT NULL,
             label            text,
             artifact         text NOT NULL,
             mode             text NOT NULL,
             tables           jsonb NOT NULL,
             seedpack_version text NOT NULL,
             started_at       timestamptz NOT NULL,
             finished_at      timestamptz NOT NULL,
             applied_by       text NOT NULL,
             client           text NOT NULL
         );
         CREATE INDEX IF NOT EXISTS {index} ON {table} (content_id, mode);
         COMMENT ON TABLE {table} IS {comment};",
        schema = quote_ident(&table.schema),
        table = table.quoted(),
        index = quote_ident(&format!("{}_content_id_mode", table.name)),
        comment = quote_literal(&format!(
            "{HISTORY_COMMENT} what seedpack applied to this database; never dumped"
        )),
    )
}

/// Whether `table` exists.
async fn exists(client: &Client, table: &QualifiedName) -> Result<bool> {
    Ok(client
        .query_one(
            "SELECT pg_catalog.to_regclass($1) IS NOT NULL",
            &[&table.quoted()],
        )
        .await?
        .get(0))
}

/// Applies that changed any of the tables ($1 schemas, $2 names, pairwise).
const COVERING: &str = "WHERE EXISTS (
    SELECT 1 FROM pg_catalog.jsonb_array_elements(tables) AS t(entry)
    JOIN unnest($1::text[], $2::text[]) AS w(schema_name, table_name)
      ON t.entry->'table'->>'schema' = w.schema_name AND t.entry->'table'->>'name' = w.table_name)";

/// The apply that makes this one a no-op, if any: the latest apply that
/// changed any of `tables`, when it applied `content_id` in `mode`. Any
/// later apply to those tables (a rollback to another version, a deploy of
/// something else) means this content is no longer what they hold, so it
/// applies again.
pub async fn already_applied(
    client: &Client,
    table: &QualifiedName,
    tables: &[&QualifiedName],
    content_id: &str,
    mode: AppliedMode,
) -> Result<Option<Applied>> {
    if !exists(client, table).await? {
        return Ok(None);
    }
    let schemas: Vec<&str> = tables.iter().map(|t| t.schema.as_str()).collect();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let latest = list_where(client, table, COVERING, &[&schemas, &names])
        .await?
        .into_iter()
        .next();
    Ok(latest.filter(|a| a.content_id == content_id && a.mode == mode))
}

/// `seedpack status`: every apply recorded in the target, newest first.
pub async fn status(config: &StatusConfig) -> Result<Vec<Applied>> {
    let session = pg::connect(&config.target).await?;
    list(&session.client, &config.history).await
}

/// Every apply, newest first.
pub async fn list(client: &Client, table: &QualifiedName) -> Result<Vec<Applied>> {
    if !exists(client, table).await? {
        return Ok(Vec::new());
    }
    list_where(client, table, "", &[]).await
}

async fn list_where(
    client: &Client,
    table: &QualifiedName,
    filter: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Applied>> {
    let sql = format!(
        "SELECT id, content_id, label, artifact, mode, tables, seedpack_version,
                to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS started,
                to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS finished,
                applied_by, client
         FROM {} {filter} ORDER BY id DESC",
        table.quoted()
    );
    let rows = client
        .query(&sql, params)
        .await
        .with_context(|| format!("cannot read the history in {table}"))?;
    rows.iter()
        .map(|r| applied_from_row(r).with_context(|| format!("cannot read the history in {table}")))
        .collect()
}

fn applied_from_row(row: &tokio_postgres::Row) -> Result<Applied> {
    let mode: String = row.try_get("mode")?;
    let tables: serde_json::Value = row.try_get("tables")?;
    Ok(Applied {
        id: row.try_get("id")?,
        content_id: row.try_get("content_id")?,
        label: row.try_get("label")?,
        artifact: row.try_get("artifact")?,
        mode: mode.parse().map_err(anyhow::Error::msg)?,
        tables: serde_json::from_value(tables).context("its tables column")?,
        seedpack_version: row.try_get("seedpack_version")?,
        started_at: row.try_get("started")?,
        finished_at: row.try_get("finished")?,
        applied_by: row.try_get("applied_by")?,
        client: row.try_get("client")?,
    })
}

/// Record an apply, creating the table on first use, inside the caller's
/// transaction.
pub async fn record(client: &Client, table: &QualifiedName, record: &Record<'_>) -> Result<()> {
    if !exists(client, table).await? {
        client
            .batch_execute(&create_sql(table))
            .await
            .with_context(|| {
                format!(
                    "cannot create the history table {table} (use --history-table, or --no-history)"
                )
            })?;
    }
    let who = client_identity();
    let sql = format!(
        "INSERT INTO {} (content_id, label, artifact, mode, tables, seedpack_version,
                         started_at, finished_at, applied_by, client)
         VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7::text::timestamptz, pg_catalog.clock_timestamp(),
                 session_user, $8)",
        table.quoted()
    );
    client
        .execute(
            &sql,
            &[
                &record.content_id,
                &record.label,
                &record.artifact,
                &record.mode.as_str(),
                // Text, not a serde_json::Value: at thousands of tables
                // the tree is ten times the size.
                &serde_json::to_string(record.tables)?,
                &env!("CARGO_PKG_VERSION"),
                &record.started_at,
                &who,
            ],
        )
        .await
        .with_context(|| format!("cannot record the restore in {table}"))?;
    Ok(())
}

/// `user@host` of the machine running seedpack, as far as it can tell.
fn client_identity() -> String {
    let user = env::var(env::USER)
        .or_else(|| env::var(env::LOGNAME))
        .unwrap_or_else(|| "unknown".into());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{host}")
}
