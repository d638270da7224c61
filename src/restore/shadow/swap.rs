//! Swapping the built shadow tables in, inside the restore's transaction,
//! which holds every target's lock and has dropped the foreign keys on and
//! into them: each target is dropped and its shadow moved into its place,
//! taking its identity sequences' names and its owned sequences and
//! triggers; then the emptied shadow schemas go.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::plan::{SwapPlan, Swaps};
use crate::ident::{parse_table_name, QualifiedName};
use crate::pg::shadow_sql;

pub(crate) async fn swap_in(client: &Client, swaps: &Swaps) -> Result<()> {
    for plan in &swaps.tables {
        swap_one(client, plan)
            .await
            .with_context(|| format!("cannot swap in the new table {}", plan.target))?;
    }
    for schema in swaps.schemas.values() {
        client
            .batch_execute(&shadow_sql::drop_schema(schema))
            .await
            .with_context(|| format!("cannot drop the shadow schema {schema}"))?;
    }
    Ok(())
}

async fn swap_one(client: &Client, plan: &SwapPlan) -> Result<()> {
    for statement in &plan.release {
        client.batch_execute(statement).await?;
    }
    for statement in shadow_sql::swap(&plan.target, &plan.shadow_schema) {
        client.batch_execute(&statement).await?;
    }
    for (column, old) in &plan.identity {
        let row = client
            .query_one(
                "SELECT pg_catalog.pg_get_serial_sequence($1, $2)",
                &[&plan.target.quoted(), column],
            )
            .await?;
        let new: String = row.get(0);
        if &new != old {
            let (_, name) = parse_table_name(old).map_err(anyhow::Error::msg)?;
            let (schema, new) = parse_table_name(&new).map_err(anyhow::Error::msg)?;
            let new = QualifiedName::new(schema.unwrap_or_default(), new);
            client
                .batch_execute(&shadow_sql::rename_sequence(&new, &name))
                .await?;
        }
    }
    for statement in plan
        .identity_types
        .iter()
        .chain(&plan.own)
        .chain(&plan.triggers)
    {
        client.batch_execute(statement).await?;
    }
    Ok(())
}
