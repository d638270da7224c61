//! More connections for a dump: each joins the first connection's exported
//! snapshot and locks the same tables, so all of them read one consistent
//! state of the database.

use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::ident::QualifiedName;
use crate::pg::{self, sql, ConnectionTarget, Session};

/// Open `readers - 1` more connections reading the same snapshot as
/// `client`'s transaction, with the same tables locked. None for one reader.
pub(super) async fn join(
    client: &Client,
    target: &ConnectionTarget,
    tables: &[&QualifiedName],
    readers: usize,
) -> Result<Vec<Session>> {
    if readers < 2 {
        return Ok(Vec::new());
    }
    let snapshot: String = client
        .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
        .await
        .context("cannot export the dump's snapshot for more connections (try --jobs 1)")?
        .get(0);
    let join = |_| async {
        let helper = pg::connect(target).await?;
        helper
            .client
            .batch_execute(&sql::join_snapshot(&snapshot))
            .await
            .context("cannot join the dump's snapshot (try --jobs 1)")?;
        helper
            .client
            .batch_execute(&sql::lock_for_dump(tables, true))
            .await
            .map_err(|e| match e.code() {
                Some(&SqlState::LOCK_NOT_AVAILABLE) => anyhow::anyhow!(
                    "another session is waiting to change a table being dumped (ALTER, DROP, \
                     TRUNCATE...); run the dump again, or with --jobs 1"
                ),
                _ => anyhow::Error::new(e).context("cannot lock the tables to dump"),
            })?;
        Ok::<_, anyhow::Error>(helper)
    };
    let mut helpers = Vec::with_capacity(readers - 1);
    for joined in futures_util::future::join_all((1..readers).map(join)).await {
        match joined {
            Ok(helper) => helpers.push(helper),
            // A server at its connection limit still gets its dump, on fewer connections.
            Err(e) if too_many_connections(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(helpers)
}

fn too_many_connections(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| *code == SqlState::TOO_MANY_CONNECTIONS)
    })
}
