//! `restore --jobs N`: the tables a replace empties are built beside their
//! targets, over several connections at once, then swapped in by the
//! restore's one transaction.
//!
//! Each shadow table is created in a private schema (`seedpack_shadow_*`,
//! one per target schema, owned by the restoring role and used by no one
//! else) like its target (`LIKE ... INCLUDING ALL`, storage options,
//! persistence, access method), loaded `FREEZE` and given the target's
//! keys, indexes, comments, owner and grants, in a transaction of its own
//! that commits when the table is done (`build`). Then the restore's
//! transaction, holding every target's lock, drops each target (its
//! foreign keys are already out of the way), moves its shadow into place
//! with its indexes, gives it the target's triggers and owned sequences,
//! and goes on as a restore does: foreign keys, trigger states, sequences,
//! counts, history, one commit (`swap`). Readers wait for the locks and
//! then see the new tables; nothing changes for them before the commit.
//!
//! A table is swapped only when everything of its definition is rebuilt
//! exactly (`pg::shadow_sql::SWAP_PLANS` says why not, otherwise); the
//! others load in place as without `--jobs`. A failure or a kill anywhere
//! leaves the targets untouched: the shadow schemas left behind belong to
//! no running restore (restores are serialized by the history's lock), and
//! the next restore, or `seedpack clean-up`, drops them.

mod build;
mod plan;
mod swap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::history;
use crate::pg::{self, shadow_sql};
use build::build;
pub(super) use plan::{decide, declined, Swaps};
pub(super) use swap::swap_in;

/// Build `swaps` over `jobs` connections of their own, after removing
/// what earlier runs left behind (the caller holds the history's lock).
pub(super) async fn build_over(
    target: &pg::ConnectionTarget,
    jobs: usize,
    reader: &std::sync::Arc<crate::artifact::ArtifactReader>,
    swaps: &Swaps,
    progress: &dyn crate::progress::Progress,
) -> Result<()> {
    let wanted = jobs.min(swaps.tables.len()).max(1);
    let mut sessions = Vec::with_capacity(wanted);
    for _ in 0..wanted {
        sessions.push(pg::connect(target).await?);
    }
    let helpers: Vec<&Client> = sessions.iter().map(|s| &s.client).collect();
    remove_stale(helpers[0]).await?;
    build(&helpers, reader, swaps, progress).await
}

/// Remove the shadow tables of `restore --jobs` runs that ended without
/// their commit, after waiting for a restore that is running. Returns the
/// schemas removed.
pub async fn clean_up(target: &pg::ConnectionTarget) -> Result<Vec<String>> {
    let session = pg::connect(target).await?;
    let client = &session.client;
    client.batch_execute("BEGIN").await?;
    history::lock(client).await?;
    let removed = remove_stale(client).await?;
    client
        .batch_execute("COMMIT")
        .await
        .context("cannot commit the clean-up")?;
    Ok(removed)
}

/// Drop the shadow schemas runs left behind. Call holding the history's
/// lock (or from a session that waited for it): then no restore is running.
pub(super) async fn remove_stale(client: &Client) -> Result<Vec<String>> {
    let schemas: Vec<String> = client
        .query(shadow_sql::SHADOW_SCHEMAS, &[])
        .await
        .context("cannot look for leftover shadow schemas")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for schema in &schemas {
        client
            .batch_execute(&shadow_sql::drop_schema(schema))
            .await
            .with_context(|| format!("cannot drop the leftover shadow schema {schema}"))?;
    }
    Ok(schemas)
}
