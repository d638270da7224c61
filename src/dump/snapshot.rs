//! More connections for a dump: each joins the first connection's exported
//! snapshot, so all of them read one consistent state of the database. The
//! first connection holds a lock on every table; the others lock each table
//! just before they read it (see `readers`), so the lock table holds the
//! tables once, not once per connection.

use anyhow::{Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::ident::QualifiedName;
use crate::pg::{self, sql, ConnectionTarget, Session};

/// Open `readers - 1` more connections reading the same snapshot as
/// `client`'s transaction. None for one reader. Returns them with the
/// snapshot's name, which they join again after each commit.
pub(super) async fn join(
    client: &Client,
    target: &ConnectionTarget,
    readers: usize,
) -> Result<(Vec<Session>, Option<String>)> {
    if readers < 2 {
        return Ok((Vec::new(), None));
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
    Ok((helpers, Some(snapshot)))
}

/// Lock the relation a helper is about to read, without waiting: when
/// another session waits to change it (ALTER, DROP, TRUNCATE queued behind
/// the first connection's lock), waiting would deadlock with the dump.
pub(super) async fn lock_to_read(client: &Client, relation: &QualifiedName) -> Result<()> {
    client
        .batch_execute(&sql::lock_for_dump(&[relation], true))
        .await
        .map_err(|e| match e.code() {
            Some(&SqlState::LOCK_NOT_AVAILABLE) => anyhow::anyhow!(
                "another session is waiting to change a table being dumped (ALTER, DROP, \
                 TRUNCATE...); run the dump again, or with --jobs 1"
            ),
            _ => anyhow::Error::new(e).context("cannot lock the tables to dump"),
        })
}

/// End a helper's transaction, releasing the locks it took, and join the
/// dump's snapshot again in a new one.
pub(super) async fn rejoin(client: &Client, snapshot: &str) -> Result<()> {
    client
        .batch_execute(&format!("COMMIT; {}", sql::join_snapshot(snapshot)))
        .await
        .context("cannot join the dump's snapshot again (try --jobs 1)")
}

fn too_many_connections(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| *code == SqlState::TOO_MANY_CONNECTIONS)
    })
}
