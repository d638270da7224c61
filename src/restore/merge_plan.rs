//! How `upsert` and `insert-missing` will merge each table the target has,
//! decided before any write, so that every refusal comes first.
//!
//! Rows are matched on a key: `--key`, else the one the dump recorded, else
//! the primary key. The target needs a unique constraint or index on
//! exactly those columns. When the key is not the primary key, the target's
//! primary key values are its own: never updated, and for new rows made by
//! the target when the column has a default or is an identity; every
//! foreign key in the artifact that points at such a table is translated
//! from the seed's values to the target's, through the key.
//!
//! Nothing is dropped or disabled, so readers are never blocked. A foreign
//! key that no load order satisfies (a cycle, or a self-reference to a
//! table whose values are translated) is filled after the rows are in: its
//! columns first empty, or the constraint deferred when it is deferrable.
//! Only a key with neither a nullable column nor `DEFERRABLE` is dropped and
//! re-added, which locks its table; the plan says so.

use anyhow::Result;
use tokio_postgres::Client;

use super::target::Target;
use crate::artifact::Manifest;
use crate::catalog::{self, ForeignKey, Table};
use crate::error::Error;
use crate::ident::QualifiedName;
use crate::keys::{match_key, KeyChoice};

/// How one existing table is merged.
#[derive(Debug, Clone)]
pub struct TableMerge {
    /// Its position in the artifact.
    pub position: usize,
    pub table: QualifiedName,
    /// The artifact's columns.
    pub columns: Vec<String>,
    /// The columns rows are matched on.
    pub key: Vec<String>,
    /// The primary key, when rows are matched on another key: the target
    /// keeps its own values in these columns.
    pub kept: Vec<String>,
    /// The kept columns have a default or are an identity: new rows get the
    /// target's values, not the seed's.
    pub generated: bool,
}

impl TableMerge {
    /// Whether references to this table must be translated.
    pub fn translated(&self) -> bool {
        !self.kept.is_empty()
    }
}

/// A foreign key among merged tables whose columns need work.
#[derive(Debug, Clone)]
pub struct Reference {
    pub constraint: String,
    /// The merge (index into `MergePlan::tables`) of the referencing table.
    pub child: usize,
    pub columns: Vec<String>,
    /// The merge of the referenced table.
    pub parent: usize,
    pub parent_columns: Vec<String>,
    /// The parent's values are the target's: translate the seed's.
    pub translate: bool,
    /// Filled after every table is merged (the parent comes later, or is
    /// the table itself); else translated before the child's merge.
    pub later: bool,
    /// Inserted empty and filled later (its columns are nullable).
    pub empty_first: bool,
}

/// Everything the merge will do, decided before any write.
#[derive(Debug, Default)]
pub struct MergePlan {
    pub tables: Vec<TableMerge>,
    pub references: Vec<Reference>,
    /// Deferrable constraints to defer to the commit.
    pub deferred: Vec<ForeignKey>,
    /// Constraints to drop and re-add (no nullable column, not deferrable).
    pub exclusive: Vec<ForeignKey>,
    /// What the plan does that the user should know, each a sentence.
    pub notes: Vec<String>,
}

impl MergePlan {
    /// Decide the merge of each of the artifact's tables the target has.
    /// Refuses (exit 2 or 3) a key that names no column, or that the target
    /// has no unique constraint or index on.
    pub async fn decide(
        client: &Client,
        manifest: &Manifest,
        target: &Target,
        choices: &[KeyChoice],
    ) -> Result<Self> {
        let oids: Vec<u32> = target.tables.iter().map(|t| t.oid).collect();
        refuse_insert_rules(client, &oids).await?;
        let unique = catalog::unique_keys(client, &oids).await?;
        let mut plan = Self::default();
        for table in &target.tables {
            let position = manifest
                .tables
                .iter()
                .position(|e| e.name == table.name)
                .expect("target tables come from the manifest");
            let entry = &manifest.tables[position];
            let key = match_key(choices, entry)?;
            let has_unique = unique
                .iter()
                .any(|(oid, columns)| *oid == table.oid && catalog::same_columns(columns, &key));
            if key.is_empty() || !has_unique {
                return Err(refuse_key(table, &key).into());
            }
            let kept = match catalog::same_columns(&table.primary_key, &key) {
                true => Vec::new(),
                false => table.primary_key.clone(),
            };
            let generated = !kept.is_empty()
                && kept.iter().all(|k| {
                    table
                        .columns
                        .iter()
                        .any(|c| &c.name == k && (c.has_default || c.identity))
                });
            plan.tables.push(TableMerge {
                position,
                table: table.name.clone(),
                columns: entry.columns.iter().map(|c| c.name.clone()).collect(),
                key,
                kept,
                generated,
            });
        }
        for fk in &target.foreign_keys {
            plan.add_reference(fk, &target.tables);
        }
        Ok(plan)
    }

    fn merge_of(&self, name: &QualifiedName) -> Option<usize> {
        self.tables.iter().position(|m| &m.table == name)
    }

    /// Work out what a foreign key among merged tables needs, if anything.
    fn add_reference(&mut self, fk: &ForeignKey, tables: &[Table]) {
        let child_table = tables.iter().find(|t| t.oid == fk.table_oid);
        let (Some(child), Some(parent)) = (
            child_table.and_then(|t| self.merge_of(&t.name)),
            self.merge_of(&fk.referenced),
        ) else {
            return;
        };
        let parent_merge = &self.tables[parent];
        let translate = parent_merge.translated()
            && catalog::same_columns(&fk.referenced_columns, &parent_merge.kept);
        let parent_first = parent_merge.position < self.tables[child].position;
        let one_statement = parent == child && !translate;
        if (parent_first && !translate) || one_statement {
            // Satisfied row by row as the merge goes (a self-reference
            // within one INSERT is checked at the statement's end).
            return;
        }
        let later = !parent_first;
        let nullable = child_table.is_some_and(|t| {
            fk.columns
                .iter()
                .all(|c| t.columns.iter().any(|col| &col.name == c && !col.not_null))
        });
        let empty_first = later && !fk.deferrable && nullable;
        if later && fk.deferrable {
            self.deferred.push(fk.clone());
        } else if later && !nullable {
            self.notes.push(format!(
                "foreign key {} on {} has no nullable column and is not deferrable: it is \
                 dropped and re-added, which locks {} against readers until the commit",
                fk.name, fk.relation, fk.relation
            ));
            self.exclusive.push(fk.clone());
        }
        self.references.push(Reference {
            constraint: fk.name.clone(),
            child,
            columns: fk.columns.clone(),
            parent,
            parent_columns: fk.referenced_columns.clone(),
            translate,
            later,
            empty_first,
        });
    }
}

/// The first `INSERT` or `UPDATE` rule on the tables $1, enabled or not.
const INSERT_RULES: &str = "
SELECT n.nspname, c.relname, r.rulename
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.ev_class = ANY($1) AND r.ev_type IN ('2', '3')
ORDER BY 1, 2, 3 LIMIT 1";

/// The merges write with `INSERT ... ON CONFLICT`, which PostgreSQL refuses
/// on a table with an `INSERT` or `UPDATE` rule (even a disabled one): said
/// before any write, not by the first merge.
async fn refuse_insert_rules(client: &Client, oids: &[u32]) -> Result<()> {
    let Some(row) = client.query_opt(INSERT_RULES, &[&oids]).await? else {
        return Ok(());
    };
    let table = catalog::qualified(&row, "nspname", "relname");
    let rule: String = row.get("rulename");
    Err(Error::Refused(format!(
        "table {table} has rule {rule} on INSERT or UPDATE, and PostgreSQL takes no INSERT ... \
         ON CONFLICT into such a table, which upsert and insert-missing write with; restore it \
         with --mode replace, or drop the rule"
    ))
    .into())
}

fn refuse_key(table: &Table, key: &[String]) -> Error {
    if key.is_empty() {
        return Error::Refused(format!(
            "table {} has no primary key or unique constraint; upsert and insert-missing \
             need one to match rows by (or --key {}=COLUMNS)",
            table.name, table.name.name
        ));
    }
    Error::Refused(format!(
        "table {} has no unique constraint or index on ({}) to match rows by; create one, \
         or choose another --key",
        table.name,
        key.join(", ")
    ))
}
