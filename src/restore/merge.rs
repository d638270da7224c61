//! `--mode upsert` and `--mode insert-missing`, as a [`MergePlan`] decided:
//! each table the target has is loaded into a staging table (COPY, checked
//! as it streams), its foreign-key values translated from the seed's to the
//! target's where the plan says, and merged with one `INSERT ... SELECT ...
//! ON CONFLICT` on its key, in dependency order: set-based, never row by
//! row. Rows the artifact does not hold are left alone. References no load
//! order satisfies are filled once every table is in.
//!
//! Stages (and the keys of the rows each merge touched) stay until the
//! commit: later tables translate through them.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::load;
use super::merge_plan::{MergePlan, Reference, TableMerge};
use crate::artifact::{ArtifactReader, SequenceEntry};
use crate::ident::QualifiedName;
use crate::pg::merge_sql::{self, MergeRows, Side};
use crate::progress::Progress;

fn stage_of(merge: &TableMerge) -> QualifiedName {
    QualifiedName::new("pg_temp", format!("seedpack_stage_{}", merge.position))
}

fn touched_of(merge: &TableMerge) -> QualifiedName {
    QualifiedName::new("pg_temp", format!("seedpack_touched_{}", merge.position))
}

fn strs(columns: &[String]) -> Vec<&str> {
    columns.iter().map(String::as_str).collect()
}

/// Stage, translate and merge the plan's table `index`; the keys of the
/// rows it inserted or changed go into its touched table.
pub async fn merge_table(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    plan: &MergePlan,
    index: usize,
    update: bool,
    progress: &dyn Progress,
) -> Result<()> {
    let merge = &plan.tables[index];
    let (stage, touched) = (stage_of(merge), touched_of(merge));
    let columns = strs(&merge.columns);
    let key = strs(&merge.key);
    client
        .batch_execute(&merge_sql::create_stage(&stage, &merge.table, &columns))
        .await
        .context("cannot create the staging table")?;
    load::load_table(client, reader, merge.position, progress, &stage, true).await?;
    let side = Side {
        table: &merge.table,
        stage: &stage,
        key: &key,
    };
    for reference in plan
        .references
        .iter()
        .filter(|r| r.child == index && r.translate && !r.later)
    {
        translate(client, plan, reference, &side).await?;
    }
    client
        .batch_execute(&merge_sql::create_touched(&touched, &stage, &key))
        .await?;

    let kept = strs(&merge.kept);
    let insert: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| !(merge.generated && kept.contains(c)))
        .collect();
    let empty: Vec<&str> = plan
        .references
        .iter()
        .filter(|r| r.child == index && r.empty_first)
        .flat_map(|r| r.columns.iter().map(String::as_str))
        .collect();
    // References filled once every table is in are no part of the update.
    let filled_later: Vec<&str> = plan
        .references
        .iter()
        .filter(|r| r.child == index && r.later)
        .flat_map(|r| r.columns.iter().map(String::as_str))
        .collect();
    let updated: Vec<&str> = match update {
        true => columns
            .iter()
            .copied()
            .filter(|c| !key.contains(c) && !kept.contains(c) && !filled_later.contains(c))
            .collect(),
        false => Vec::new(),
    };
    let statement = merge_sql::merge_rows(&MergeRows {
        side,
        touched: &touched,
        insert: &insert,
        empty: &empty,
        update: &updated,
    });
    client
        .execute(&statement, &[])
        .await
        .map_err(|e| collision(e, &merge.table))?;
    Ok(())
}

/// How many rows of the plan's table `index` the merge inserted or changed.
pub async fn touched_rows(client: &Client, plan: &MergePlan, index: usize) -> Result<u64> {
    let count: i64 = client
        .query_one(
            &merge_sql::count_touched(&touched_of(&plan.tables[index])),
            &[],
        )
        .await?
        .get(0);
    Ok(count.max(0) as u64)
}

/// Rewrite a reference's staged values to the target's, through its parent.
async fn translate(
    client: &Client,
    plan: &MergePlan,
    reference: &Reference,
    child: &Side<'_>,
) -> Result<()> {
    let parent = &plan.tables[reference.parent];
    let (parent_stage, parent_key) = (stage_of(parent), strs(&parent.key));
    let parent_side = Side {
        table: &parent.table,
        stage: &parent_stage,
        key: &parent_key,
    };
    let statement = merge_sql::translate_stage(
        child,
        &strs(&reference.columns),
        &parent_side,
        &strs(&reference.parent_columns),
    );
    client
        .batch_execute(&statement)
        .await
        .with_context(|| format!("cannot translate foreign key {}", reference.constraint))
}

/// Once every table is merged, set the references left for last to the
/// seed's values (translated where the parent kept the target's): on every
/// row the artifact holds (`update`, upsert), or only on the rows the merge
/// inserted (insert-missing, where the values inserted are not final).
pub async fn fill_later(client: &Client, plan: &MergePlan, update: bool) -> Result<()> {
    for reference in plan
        .references
        .iter()
        .filter(|r| r.later && (update || r.empty_first || r.translate))
    {
        let child = &plan.tables[reference.child];
        let parent = &plan.tables[reference.parent];
        let (child_stage, child_key) = (stage_of(child), strs(&child.key));
        let (parent_stage, parent_key) = (stage_of(parent), strs(&parent.key));
        let child_side = Side {
            table: &child.table,
            stage: &child_stage,
            key: &child_key,
        };
        let parent_side = Side {
            table: &parent.table,
            stage: &parent_stage,
            key: &parent_key,
        };
        let parent_columns = strs(&reference.parent_columns);
        let through = reference
            .translate
            .then_some((&parent_side, parent_columns.as_slice()));
        let statement = merge_sql::fill_references(
            &child_side,
            &touched_of(child),
            &strs(&reference.columns),
            through,
            !update,
        );
        client
            .batch_execute(&statement)
            .await
            .with_context(|| format!("cannot fill foreign key {}", reference.constraint))?;
    }
    Ok(())
}

/// Of `sequences`, those that give values to a primary key the target keeps
/// its own of (matched on a natural key): a merge leaves them alone.
pub async fn kept_sequences(
    client: &Client,
    plan: &MergePlan,
    sequences: &[SequenceEntry],
) -> Result<Vec<QualifiedName>> {
    let (tables, columns): (Vec<String>, Vec<&str>) = plan
        .tables
        .iter()
        .filter(|m| m.generated)
        .flat_map(|m| m.kept.iter().map(|c| (m.table.quoted(), c.as_str())))
        .unzip();
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = sequences.iter().map(|s| s.name.quoted()).collect();
    let kept: Vec<String> = client
        .query(KEPT_SEQUENCES, &[&names, &tables, &columns])
        .await
        .context("cannot find the sequences of kept keys")?
        .iter()
        .map(|r| r.get("name"))
        .collect();
    Ok(sequences
        .iter()
        .filter(|s| kept.contains(&s.name.quoted()))
        .map(|s| s.name.clone())
        .collect())
}

/// Of sequences $1 (quoted names), those that columns ($2 tables, $3
/// columns, pairwise) take their values from.
const KEPT_SEQUENCES: &str = "
SELECT u.name FROM unnest($1::text[]) AS u(name)
WHERE pg_catalog.to_regclass(u.name) IN (
    SELECT pg_catalog.pg_get_serial_sequence(k.t, k.c)::regclass
    FROM unnest($2::text[], $3::text[]) AS k(t, c)
    WHERE pg_catalog.pg_get_serial_sequence(k.t, k.c) IS NOT NULL)";

/// A seed row that collides with a target row on a unique constraint other
/// than the key: one line naming the table, the constraint and the values.
fn collision(error: tokio_postgres::Error, table: &QualifiedName) -> anyhow::Error {
    match error.as_db_error() {
        Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => anyhow!(
            "table {table}: a seed row collides with a row of the target on unique constraint {}{}; \
             match rows on that constraint's columns with --key, or change one of the rows",
            db.constraint().unwrap_or("?"),
            db.detail().map(|d| format!(" ({})", d.trim_end_matches('.'))).unwrap_or_default()
        ),
        _ => anyhow::Error::new(error).context(format!("cannot merge into {table}")),
    }
}
