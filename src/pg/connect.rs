//! Opening a session with the settings that make every value read back
//! exactly as it was written, on both sides of a dump and restore.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::ConnectionTarget;
use crate::progress;

/// Session settings as pg_dump fixes them: text output that any major
/// reads back to the same value, and no search path for names to resolve
/// through (every name seedpack sends is schema-qualified). And no JIT:
/// catalog queries over thousands of oids look costly to the planner,
/// which then spends more time compiling them than running them (341 ms
/// of 366 for one that found nothing, at 3,000 tables).
const SESSION_SETTINGS: &str = "
SET client_encoding = 'UTF8';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET bytea_output = 'hex';
SET TimeZone = 'UTC';
SET standard_conforming_strings = on;
SET statement_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET row_security = off;
SET jit = off;
SELECT pg_catalog.set_config('search_path', '', false);
";

/// A connected session with seedpack's settings applied.
pub struct Session {
    pub client: Client,
    pub server_version: String,
    pub server_version_num: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session(PostgreSQL {})", self.server_version)
    }
}

/// Connect to `target` and apply the session settings.
///
/// A server that is not accepting connections yet (refused, reset, "the
/// database system is starting up": a CI service container, a database just
/// provisioned) is retried with backoff until the target's connect timeout
/// runs out (its retry window, `--connect-timeout`). Anything else (a bad password, a missing database) fails at
/// once. Nothing after connecting is ever retried.
pub async fn connect(target: &ConnectionTarget) -> Result<Session> {
    let tls = target.tls.client_config()?;
    let deadline = Instant::now() + target.retry_for;
    let mut pause = Duration::from_millis(100);
    let mut waiting = false;
    let client = loop {
        let attempt = match &tls {
            None => open(&target.config, NoTls).await,
            Some(config) => open(&target.config, MakeRustlsConnect::new(config.clone())).await,
        };
        match attempt {
            Ok(client) => break client,
            Err(e) if is_transient(&e) && Instant::now() + pause < deadline => {
                if !waiting {
                    waiting = true;
                    progress::notice(&format!(
                        "{} is not accepting connections yet; retrying for up to {}",
                        target.endpoint(),
                        humantime::format_duration(target.retry_for)
                    ));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot connect to {target}")),
        }
    };
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .context("cannot apply session settings")?;
    // server_version_num is the stable, comparable form (150018 = 15.18).
    let row = client
        .query_one(
            "SELECT current_setting('server_version') AS version, \
                    current_setting('server_version_num')::int4 AS version_num",
            &[],
        )
        .await
        .context("cannot read the server version")?;
    let version_num: i32 = row.get("version_num");
    Ok(Session {
        client,
        server_version: row.get("version"),
        server_version_num: u32::try_from(version_num).unwrap_or(0),
    })
}

/// One connection attempt; the connection runs on its own task.
async fn open<T>(config: &Config, tls: T) -> Result<Client, tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        // The error, if any, reaches the client as a closed connection.
        let _ = connection.await;
    });
    Ok(client)
}

/// Failures a server gives while it is coming up.
fn is_transient(error: &tokio_postgres::Error) -> bool {
    if let Some(db) = error.as_db_error() {
        return *db.code() == SqlState::CANNOT_CONNECT_NOW;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::NotFound
            );
        }
        source = cause.source();
    }
    false
}
