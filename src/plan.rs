//! `seedpack plan`: the load order of a live database's tables, its
//! self-references and cycles, and the foreign keys a restore defers.

use anyhow::{Context, Result};

use crate::config::PlanConfig;
use crate::load_order::{self, LoadOrder};
use crate::pg::{self, sql};

/// Read the selected tables in one snapshot and order them.
pub async fn run(config: &PlanConfig) -> Result<LoadOrder> {
    let session = pg::connect(&config.target).await?;
    session
        .client
        .batch_execute(sql::BEGIN_SNAPSHOT)
        .await
        .context("cannot start a read-only transaction")?;
    load_order::read(&session.client, &config.selection).await
}
