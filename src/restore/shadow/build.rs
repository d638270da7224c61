//! Building the shadow tables over several connections: each table in a
//! transaction of its own, created, loaded `FREEZE`, given its keys and
//! indexes, committed. The largest tables start first, so the connections
//! finish together.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use futures_util::future::try_join_all;
use tokio_postgres::Client;

use super::plan::{SwapPlan, Swaps};
use crate::artifact::ArtifactReader;
use crate::ident::QualifiedName;
use crate::pg::shadow_sql;
use crate::progress::Progress;
use crate::restore::load::load_table;

/// Build every shadow table of `swaps` over `helpers` (committing each).
pub(super) async fn build(
    helpers: &[&Client],
    reader: &Arc<ArtifactReader>,
    swaps: &Swaps,
    progress: &dyn Progress,
) -> Result<()> {
    let first = *helpers
        .first()
        .context("no connection to build shadow tables on")?;
    for schema in swaps.schemas.values() {
        first
            .batch_execute(&shadow_sql::create_schema(schema))
            .await
            .with_context(|| format!("cannot create the shadow schema {schema}"))?;
    }
    let manifest = reader.manifest();
    let mut order: Vec<&SwapPlan> = swaps.tables.iter().collect();
    order.sort_by_key(|p| std::cmp::Reverse(manifest.tables[p.position].bytes));
    let queue = Mutex::new(VecDeque::from(order));
    let next = || queue.lock().expect("queue lock").pop_front();
    let bytes = swaps
        .tables
        .iter()
        .map(|p| manifest.tables[p.position].bytes)
        .sum();
    progress.begin("shadow tables", swaps.tables.len(), Some(bytes));
    let built = try_join_all(helpers.iter().map(|&helper| async move {
        while let Some(plan) = next() {
            build_one(helper, reader, plan, progress)
                .await
                .with_context(|| format!("cannot build the shadow of table {}", plan.target))?;
        }
        Ok::<_, anyhow::Error>(())
    }))
    .await;
    progress.finish();
    built.map(|_| ())
}

async fn build_one(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    plan: &SwapPlan,
    progress: &dyn Progress,
) -> Result<()> {
    client.batch_execute("BEGIN").await?;
    client.batch_execute(&plan.create).await?;
    let shadow = QualifiedName::new(plan.shadow_schema.clone(), plan.target.name.clone());
    load_table(client, reader, plan.position, progress, &shadow, true).await?;
    for statement in &plan.build {
        client.batch_execute(statement).await?;
    }
    client.batch_execute("COMMIT").await?;
    Ok(())
}
