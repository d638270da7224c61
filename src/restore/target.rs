//! What the target holds for an artifact, checked before any write: the
//! tables exist with compatible columns, the sequences exist, and no table
//! outside the artifact has rows that would lose what they reference.

use std::collections::{BTreeSet, HashMap, HashSet};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::compat::check_columns;
use super::row_security;
use crate::artifact::Manifest;
use crate::catalog::{self, ForeignKey, Leaf, Table, Trigger, UnvalidatedCheck};
use crate::error::Error;
use crate::ident::QualifiedName;
use crate::pg::sql;

/// The target's side of a restore, read inside the restore transaction.
#[derive(Debug)]
pub struct Target {
    /// The artifact's tables the target has, in the artifact's (restore) order.
    pub tables: Vec<Table>,
    /// The artifact's tables the target lacks: created from the artifact's schema.
    pub missing: BTreeSet<QualifiedName>,
    /// Foreign keys on or pointing at the artifact's relations: all are
    /// dropped for the load and re-added, exactly, after it.
    pub foreign_keys: Vec<ForeignKey>,
    /// Foreign keys from tables outside the artifact into it.
    pub outside_foreign_keys: Vec<ForeignKey>,
    pub triggers: Vec<Trigger>,
    /// `NOT VALID` checks on the artifact's relations: a replace drops and
    /// re-adds them, as the artifact's rows may break them.
    pub unvalidated_checks: Vec<UnvalidatedCheck>,
    /// The leaf partitions of the partitioned tables the target has.
    pub leaves: Vec<Leaf>,
    /// Current row count of each artifact table, in manifest order; `None`
    /// for a table the target lacks.
    pub row_counts: Vec<Option<i64>>,
}

/// Finds sequences by ($1 schemas, $2 names), pairwise.
const SEQUENCES_NAMED: &str = "
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN unnest($1::text[], $2::text[]) AS w(nspname, relname)
  ON w.nspname = n.nspname AND w.relname = c.relname
WHERE c.relkind = 'S'";

impl Target {
    /// Read and check the target for `manifest`. Refusals come back as
    /// typed errors (exit 3) before anything is written. With `can_create`
    /// (the artifact carries the schema), missing tables are to be created;
    /// without it, a missing table is a refusal.
    /// With `check_compatibility` off (`--clean`: the tables are recreated),
    /// existing tables' columns are not compared.
    pub async fn read(
        client: &Client,
        manifest: &Manifest,
        can_create: bool,
        check_compatibility: bool,
        empties_tables: bool,
    ) -> Result<Self> {
        let names: Vec<QualifiedName> = manifest.tables.iter().map(|t| t.name.clone()).collect();
        let mut found: HashMap<QualifiedName, Table> = catalog::tables_named(client, &names)
            .await?
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let mut tables = Vec::with_capacity(names.len());
        let mut missing = BTreeSet::new();
        for entry in &manifest.tables {
            match found.remove(&entry.name) {
                Some(table) => {
                    if check_compatibility {
                        check_columns(entry, &table)?;
                    }
                    tables.push(table);
                }
                None if can_create => {
                    missing.insert(entry.name.clone());
                }
                None => {
                    return Err(Error::MissingTable {
                        table: entry.name.to_string(),
                    }
                    .into())
                }
            }
        }

        let table_oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
        let relations = catalog::relations(client, &table_oids).await?;
        let relation_oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();
        let inside: HashSet<u32> = table_oids.iter().copied().collect();
        let (foreign_keys, outside_foreign_keys): (Vec<_>, Vec<_>) =
            catalog::foreign_keys(client, &relation_oids)
                .await?
                .into_iter()
                .partition(|fk| inside.contains(&fk.table_oid));
        let triggers = catalog::triggers(client, &relation_oids).await?;
        let unvalidated_checks = catalog::unvalidated_checks(client, &relation_oids).await?;
        let partitioned: Vec<u32> = tables
            .iter()
            .filter(|t| t.partitioned)
            .map(|t| t.oid)
            .collect();
        let leaves = if partitioned.is_empty() {
            Vec::new()
        } else {
            catalog::leaves(client, &partitioned).await?
        };

        let row_counts = count_before(client, manifest, &tables).await?;
        let target = Self {
            tables,
            missing,
            foreign_keys,
            outside_foreign_keys,
            triggers,
            unvalidated_checks,
            leaves,
            row_counts,
        };
        if empties_tables {
            target.check_outside_references(client).await?;
        }
        Ok(target)
    }

    /// Refuse if a table outside the artifact has rows referencing one of
    /// its tables: emptying it would break them, and seedpack never cascades.
    pub async fn check_outside_references(&self, client: &Client) -> Result<()> {
        for fk in &self.outside_foreign_keys {
            let row = client
                .query_one(&sql::any_referencing_row(&fk.relation, &fk.columns), &[])
                .await
                .with_context(|| format!("cannot check rows of {}", fk.relation))?;
            if row.get::<_, bool>(0) {
                return Err(Error::ReferencedFromOutside {
                    referencing: fk.relation.to_string(),
                    referenced: fk.referenced.to_string(),
                    constraint: fk.name.clone(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// The target once `--clean` has dropped the artifact's tables: all of
    /// them are to be created; nothing of the old ones is left to handle.
    pub fn cleaned(mut self) -> Self {
        self.missing.extend(self.tables.drain(..).map(|t| t.name));
        self.foreign_keys.clear();
        self.outside_foreign_keys.clear();
        self.triggers.clear();
        self.unvalidated_checks.clear();
        self.leaves.clear();
        self
    }

    /// Every foreign key to drop and re-add: the artifact's own and those
    /// pointing into it from outside (which hold no referencing rows).
    pub fn all_foreign_keys(&self) -> impl Iterator<Item = &ForeignKey> {
        self.foreign_keys.iter().chain(&self.outside_foreign_keys)
    }

    /// The foreign keys on the artifact's tables that can stay in force
    /// while it loads, checking each row: those referencing a table loaded
    /// before theirs, or one outside the artifact (whose rows stay).
    pub fn foreign_keys_kept_in_order(&self) -> Vec<&ForeignKey> {
        let positions: HashMap<u32, usize> = self
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.oid, i))
            .collect();
        self.foreign_keys
            .iter()
            .filter(|fk| {
                match (
                    positions.get(&fk.table_oid),
                    positions.get(&fk.referenced_oid),
                ) {
                    (Some(from), Some(to)) => to < from,
                    (Some(_), None) => true,
                    _ => false,
                }
            })
            .collect()
    }

    /// Tables to lock: the artifact's and the outside tables referencing them.
    /// (For the merge modes those outside keys stay, and locking their
    /// tables costs nothing that matters for a restore.)
    pub fn tables_to_lock(&self) -> Vec<&QualifiedName> {
        let mut names: Vec<&QualifiedName> = self.tables.iter().map(|t| &t.name).collect();
        for fk in &self.outside_foreign_keys {
            if !names.contains(&&fk.relation) {
                names.push(&fk.relation);
            }
        }
        names
    }
}

/// Tables counted per query by [`count_rows_each`].
const COUNTED_TOGETHER: usize = 100;

/// Rows in each of `tables` (`true`: not counting inheritance children),
/// in order: a query per few hundred tables, not one per table. Each in a
/// subtransaction rolled back after it, which releases the locks it took
/// on tables the transaction had not locked yet: counting does not spend
/// the lock budget (see `locks`).
pub async fn count_rows_each(
    client: &Client,
    tables: &[(&QualifiedName, bool)],
) -> Result<Vec<i64>> {
    let mut counts = Vec::with_capacity(tables.len());
    for chunk in tables.chunks(COUNTED_TOGETHER) {
        client.batch_execute("SAVEPOINT seedpack_count").await?;
        let counted = client.query(&sql::count_rows_each(chunk), &[]).await;
        client
            .batch_execute("ROLLBACK TO SAVEPOINT seedpack_count; RELEASE SAVEPOINT seedpack_count")
            .await?;
        let mut rows: Vec<(i32, i64)> = counted
            .context("cannot count the tables' rows")?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        rows.sort_unstable();
        counts.extend(rows.into_iter().map(|(_, count)| count));
    }
    Ok(counts)
}

/// The current row count of each artifact table the target has, in
/// manifest order (`None` for one it lacks). A table forcing row-level
/// security on this role is counted as its owner sees it unforced.
async fn count_before(
    client: &Client,
    manifest: &Manifest,
    tables: &[Table],
) -> Result<Vec<Option<i64>>> {
    let names: Vec<&QualifiedName> = tables.iter().map(|t| &t.name).collect();
    let forced = row_security::forced(client, &names).await?;
    let by_name: HashMap<&QualifiedName, &Table> = tables.iter().map(|t| (&t.name, t)).collect();
    let present: Vec<&Table> = manifest
        .tables
        .iter()
        .filter_map(|entry| by_name.get(&entry.name).copied())
        .collect();
    // Counted together, but for those forcing row security on this role.
    let plain: Vec<(&QualifiedName, bool)> = present
        .iter()
        .filter(|t| !forced.contains(&t.name))
        .map(|t| (&t.name, t.has_children))
        .collect();
    let mut counted: HashMap<&QualifiedName, i64> = plain
        .iter()
        .map(|(name, _)| *name)
        .zip(count_rows_each(client, &plain).await?)
        .collect();
    for table in present.iter().filter(|t| forced.contains(&t.name)) {
        let count = row_security::count_unforced(client, &table.name, table.has_children).await?;
        counted.insert(&table.name, count);
    }
    Ok(manifest
        .tables
        .iter()
        .map(|entry| counted.get(&entry.name).copied())
        .collect())
}

/// Refuse if a sequence the artifact sets does not exist (once the
/// artifact's schema, if any, has been created).
pub async fn check_sequences(client: &Client, manifest: &Manifest) -> Result<()> {
    let schemas: Vec<&str> = manifest
        .sequences
        .iter()
        .map(|s| s.name.schema.as_str())
        .collect();
    let names: Vec<&str> = manifest
        .sequences
        .iter()
        .map(|s| s.name.name.as_str())
        .collect();
    let found: HashSet<QualifiedName> = client
        .query(SEQUENCES_NAMED, &[&schemas, &names])
        .await
        .context("cannot look up the target sequences")?
        .iter()
        .map(|row| catalog::qualified(row, "nspname", "relname"))
        .collect();
    for sequence in &manifest.sequences {
        if !found.contains(&sequence.name) {
            return Err(Error::Refused(format!(
                "sequence {} does not exist in the target database",
                sequence.name
            ))
            .into());
        }
    }
    Ok(())
}
