//! Opening a session with the settings that make every value read back
//! exactly as it was written, on both sides of a dump and restore.

use anyhow::{Context, Result};
use tokio_postgres::{Client, NoTls};

use super::ConnectionTarget;

/// Session settings as pg_dump fixes them: text output that any major
/// reads back to the same value, and no search path for names to resolve
/// through (every name seedpack sends is schema-qualified).
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
pub async fn connect(target: &ConnectionTarget) -> Result<Session> {
    let (client, connection) = target
        .config
        .connect(NoTls)
        .await
        .with_context(|| format!("cannot connect to {target}"))?;
    tokio::spawn(async move {
        // The error, if any, reaches the client as a closed connection.
        let _ = connection.await;
    });
    client
        .batch_execute(SESSION_SETTINGS)
        .await
        .context("cannot apply session settings")?;
    // server_version_num is the stable, comparable form (150018 = 15.18).
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), \
                    current_setting('server_version_num')::int4",
            &[],
        )
        .await
        .context("cannot read the server version")?;
    let version_num: i32 = row.get(1);
    Ok(Session {
        client,
        server_version: row.get(0),
        server_version_num: u32::try_from(version_num).unwrap_or(0),
    })
}
