//! `check --mode contains`: every artifact row is in its table, equal under
//! the table's key, beside rows of the target's own. A table matched on a
//! natural key keeps the target's own primary key values, and references
//! to it hold the target's values: so, as a merge does, every table is
//! staged first, foreign-key values in the stages are translated to the
//! target's through the key, and the kept primary key is left out of the
//! comparison.

use std::sync::Arc;

use anyhow::Result;
use tokio_postgres::Client;

use super::rows::{self, Differences};
use crate::artifact::ArtifactReader;
use crate::catalog::{self, Table};
use crate::ident::QualifiedName;
use crate::pg::merge_sql::{self, Side};
use crate::pg::sql::RowComparison;

/// One table the target has, with what it is compared on.
pub struct Present<'a> {
    pub position: usize,
    pub table: &'a Table,
    /// The columns rows are matched on (all of them when empty).
    pub key: Vec<String>,
}

impl Present<'_> {
    /// The primary key, when rows are matched on another key: the target's
    /// own values, compared neither directly nor through references.
    fn kept(&self) -> &[String] {
        if self.key.is_empty() || catalog::same_columns(&self.table.primary_key, &self.key) {
            &[]
        } else {
            &self.table.primary_key
        }
    }
}

/// Stage every present table and translate references through kept keys;
/// returns, by table, its stage or the server's reason it could not be
/// staged (a column it lacks, say).
pub async fn stage_all(
    client: &Client,
    reader: &Arc<ArtifactReader>,
    present: &[Present<'_>],
) -> Result<Vec<Result<QualifiedName, String>>> {
    let mut stages = Vec::with_capacity(present.len());
    for table in present {
        client.batch_execute("SAVEPOINT seedpack_stage").await?;
        let staged = rows::stage(client, reader, table.position, !table.table.partitioned).await;
        match staged {
            Ok(stage) => {
                client
                    .batch_execute("RELEASE SAVEPOINT seedpack_stage")
                    .await?;
                stages.push(Ok(stage));
            }
            Err(e) => match rows::server_message(&e) {
                Some(message) => {
                    client
                        .batch_execute("ROLLBACK TO SAVEPOINT seedpack_stage")
                        .await?;
                    stages.push(Err(message));
                }
                None => return Err(e),
            },
        }
    }
    translate(client, present, &stages).await?;
    Ok(stages)
}

/// Rewrite staged foreign-key values that point at a kept primary key to
/// the target's values, through the referenced table's key.
async fn translate(
    client: &Client,
    present: &[Present<'_>],
    stages: &[Result<QualifiedName, String>],
) -> Result<()> {
    let oids: Vec<u32> = present.iter().map(|p| p.table.oid).collect();
    let relation_oids: Vec<u32> = catalog::relations(client, &oids)
        .await?
        .iter()
        .map(|r| r.oid)
        .collect();
    let staged = |oid: u32| {
        present
            .iter()
            .zip(stages)
            .find(|(p, _)| p.table.oid == oid)
            .and_then(|(p, s)| s.as_ref().ok().map(|stage| (p, stage)))
    };
    for fk in catalog::foreign_keys(client, &relation_oids).await? {
        let (Some((child, child_stage)), Some((parent, parent_stage))) =
            (staged(fk.table_oid), staged(fk.referenced_oid))
        else {
            continue;
        };
        if parent.kept().is_empty() || !catalog::same_columns(&fk.referenced_columns, parent.kept())
        {
            continue;
        }
        let child_key = strs(&child.key);
        let parent_key = strs(&parent.key);
        let statement = merge_sql::translate_stage(
            &Side {
                table: &child.table.name,
                stage: child_stage,
                key: &child_key,
            },
            &strs(&fk.columns),
            &Side {
                table: &parent.table.name,
                stage: parent_stage,
                key: &parent_key,
            },
            &strs(&fk.referenced_columns),
        );
        client.batch_execute(&statement).await?;
    }
    Ok(())
}

/// Compare one staged table: its artifact rows, less the kept primary key,
/// under its key.
pub async fn compare(
    client: &Client,
    reader: &ArtifactReader,
    table: &Present<'_>,
    stage: &QualifiedName,
) -> Result<Differences> {
    let entry = &reader.manifest().tables[table.position];
    let kept = table.kept();
    let columns: Vec<&str> = entry
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| !kept.iter().any(|k| k == c))
        .collect();
    let key: Vec<&str> = match table.key.is_empty() {
        true => columns.clone(),
        false => strs(&table.key),
    };
    rows::differences(
        client,
        &RowComparison {
            table: &entry.name,
            stage,
            columns: &columns,
            key: &key,
            only: !table.table.partitioned,
            extra: false,
        },
    )
    .await
}

fn strs(columns: &[String]) -> Vec<&str> {
    columns.iter().map(String::as_str).collect()
}
