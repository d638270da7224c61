//! `restore --clean`: drop the artifact's tables (with what belongs only to
//! them: partitions, indexes, constraints, triggers, owned sequences) and
//! its views, so the restore recreates them from the artifact. Anything
//! else that depends on them is a refusal, named, before any write: seedpack
//! never cascades into objects the user did not ask for.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::artifact::{ObjectKind, SchemaSection};
use crate::catalog;
use crate::error::Error;

use super::target::Target;

/// Existing views of the artifact, by name: ($1 names) -> (artifact name,
/// oid, the server's own quoting of the name, which is what DROP uses).
const EXISTING: &str = "
SELECT u.name, pg_catalog.to_regclass(u.name)::oid AS oid, pg_catalog.to_regclass(u.name)::text AS quoted
FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i)
WHERE pg_catalog.to_regclass(u.name) IS NOT NULL
ORDER BY u.i";

/// Sequences owned by a column of relations $1 (serial): dropped with them.
const OWNED_SEQUENCES: &str = "
SELECT d.objid::regclass::text FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = ANY($1) AND d.deptype = 'a'";

/// Objects depending on relations $1 (or their owned sequences or row
/// types) other than what goes with them when they are dropped.
const DEPENDENTS: &str = "
WITH doomed AS (SELECT unnest($1::oid[]) AS oid),
owned AS (
    SELECT d.objid AS oid FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
      AND d.refobjid IN (SELECT oid FROM doomed) AND d.deptype IN ('a', 'i')
),
gone AS (SELECT oid FROM doomed UNION SELECT oid FROM owned),
gone_types AS (SELECT reltype AS oid FROM pg_catalog.pg_class WHERE oid IN (SELECT oid FROM gone) AND reltype <> 0)
SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_catalog.pg_depend d
WHERE d.deptype = 'n'
  AND ((d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid IN (SELECT oid FROM gone))
    OR (d.refclassid = 'pg_catalog.pg_type'::regclass AND d.refobjid IN (SELECT oid FROM gone_types)))
  AND NOT (d.classid = 'pg_catalog.pg_class'::regclass AND d.objid IN (SELECT oid FROM gone))
  AND NOT (d.classid = 'pg_catalog.pg_type'::regclass AND d.objid IN (SELECT oid FROM gone_types))
  AND NOT (d.classid = 'pg_catalog.pg_rewrite'::regclass AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.oid = d.objid AND r.ev_class IN (SELECT oid FROM gone)))
  AND NOT (d.classid = 'pg_catalog.pg_constraint'::regclass AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.oid = d.objid AND c.conrelid IN (SELECT oid FROM gone)))
  AND NOT (d.classid = 'pg_catalog.pg_attrdef'::regclass AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_attrdef a WHERE a.oid = d.objid AND a.adrelid IN (SELECT oid FROM gone)))
  AND NOT (d.classid = 'pg_catalog.pg_trigger'::regclass AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.oid = d.objid AND t.tgrelid IN (SELECT oid FROM gone)))
ORDER BY 1";

/// What `--clean` drops, checked and ready to run.
#[derive(Debug, Default)]
pub struct Clean {
    statements: Vec<String>,
    /// The artifact's views, and the sequences owned by its tables, that it
    /// drops, by name: the restore recreates them.
    pub dropped: BTreeSet<String>,
}

impl Clean {
    /// Decide what to drop and refuse if anything else depends on it.
    pub async fn prepare(client: &Client, target: &Target, schema: &SchemaSection) -> Result<Self> {
        let views: Vec<(&str, bool)> = schema
            .objects
            .iter()
            .filter_map(|o| match o.kind {
                ObjectKind::View => Some((o.name.as_str(), false)),
                ObjectKind::MaterializedView => Some((o.name.as_str(), true)),
                _ => None,
            })
            .collect();
        let names: Vec<&str> = views.iter().map(|(n, _)| *n).collect();
        let existing: Vec<(String, u32, String)> = client
            .query(EXISTING, &[&names])
            .await
            .context("cannot look up the artifact's views")?
            .iter()
            .map(|r| (r.get("name"), r.get("oid"), r.get("quoted")))
            .collect();

        let table_oids: Vec<u32> = target.tables.iter().map(|t| t.oid).collect();
        let mut doomed: Vec<u32> = catalog::relations(client, &table_oids)
            .await?
            .iter()
            .map(|r| r.oid)
            .collect();
        doomed.extend(existing.iter().map(|(_, oid, _)| *oid));
        let dependents: Vec<String> = client
            .query(DEPENDENTS, &[&doomed])
            .await
            .context("cannot check what depends on the tables")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !dependents.is_empty() {
            return Err(Error::Refused(format!(
                "--clean would have to drop objects outside the artifact that depend on its tables: {}",
                dependents.join("; ")
            ))
            .into());
        }

        // Views last-created first, then every table in one statement (so
        // foreign keys among them need no order).
        let mut statements = Vec::new();
        for (name, _, quoted) in existing.iter().rev() {
            let materialized = views.iter().any(|(n, m)| n == name && *m);
            statements.push(format!(
                "DROP {}VIEW {quoted}",
                if materialized { "MATERIALIZED " } else { "" }
            ));
        }
        if !target.tables.is_empty() {
            let list: Vec<String> = target.tables.iter().map(|t| t.name.quoted()).collect();
            statements.push(format!("DROP TABLE {}", list.join(", ")));
        }
        let mut dropped: BTreeSet<String> = existing.into_iter().map(|(name, _, _)| name).collect();
        for row in client
            .query(OWNED_SEQUENCES, &[&doomed])
            .await
            .context("cannot read the tables' sequences")?
        {
            dropped.insert(row.get(0));
        }
        Ok(Self {
            statements,
            dropped,
        })
    }

    pub async fn run(&self, client: &Client) -> Result<()> {
        for statement in &self.statements {
            client
                .batch_execute(statement)
                .await
                .with_context(|| format!("--clean: {statement}"))?;
        }
        Ok(())
    }
}
