//! Partitions: how each is created. Made with `PARTITION OF` (stating the
//! NOT NULL and defaults of its own), or, when its columns stand in another
//! order than its parent's, as a table of its own, then attached.
//! Their own keys and indexes are made before the partitioned table's,
//! which attaches them.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::shapes::{ColumnDef, Shell};
use crate::ident::quote_ident;

/// A partition whose columns stand in another order than its parent's, or
/// (PostgreSQL 18) whose NOT NULL constraints are named otherwise (it was
/// made on its own and attached), is created so, as a table of its own, and
/// attached, as pg_dump does: `PARTITION OF` would give it its parent's
/// order and names. Returns the table's shell as a standalone table and the
/// `ATTACH`.
pub(super) fn attached_partition(
    shell: &Shell,
    shells: &HashMap<u32, Shell>,
    columns: &HashMap<u32, Vec<ColumnDef>>,
    oid: u32,
) -> Option<(Shell, String)> {
    let parent_name = shell.parents.first().filter(|_| shell.is_partition)?;
    let (parent, _) = shells.iter().find(|(_, s)| &s.name == parent_name)?;
    let names = |oid: &u32| -> Vec<(&str, Option<&str>)> {
        columns
            .get(oid)
            .into_iter()
            .flatten()
            .map(|c| (c.name.as_str(), c.not_null_constraint.as_deref()))
            .collect()
    };
    if names(&oid) == names(parent) {
        return None;
    }
    let attach = format!(
        "ALTER TABLE {parent_name} ATTACH PARTITION {} {};",
        shell.name,
        shell.partition_bound.as_deref().unwrap_or("DEFAULT")
    );
    let standalone = Shell {
        is_partition: false,
        parents: Vec::new(),
        partition_bound: None,
        ..shell.clone()
    };
    Some((standalone, attach))
}

/// A column as a table of its own defines it: its generation expression
/// stated, identity left to the parent it is attached to.
pub(super) fn standalone_column(c: &ColumnDef) -> ColumnDef {
    ColumnDef {
        inherited: false,
        identity: String::new(),
        identity_sequence: None,
        ..c.clone()
    }
}

/// The valid checks of a relation's ancestors, which a table must have to
/// be attached as a partition.
pub(super) fn ancestor_checks(
    shell: &Shell,
    shells: &HashMap<u32, Shell>,
    checks: &HashMap<u32, Vec<String>>,
) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut parents = shell.parents.clone();
    while let Some(parent) = parents.pop() {
        if let Some((oid, parent_shell)) = shells.iter().find(|(_, s)| s.name == parent) {
            found.extend(checks.get(oid).into_iter().flatten().cloned());
            parents.extend(parent_shell.parents.iter().cloned());
        }
    }
    // Each once: a check merged down the tree is listed at every level.
    found.sort();
    found.dedup();
    found
}

/// What a partition's columns hold that its parent's do not: `NOT NULL`,
/// or a default of its own (`col WITH OPTIONS ...` in `PARTITION OF`);
/// otherwise a partition takes its parent's.
pub(super) fn partition_options(
    shell: &Shell,
    shells: &HashMap<u32, Shell>,
    columns: &HashMap<u32, Vec<ColumnDef>>,
    oid: u32,
) -> Vec<String> {
    let parent = shell.parents.first().and_then(|name| {
        let (oid, _) = shells.iter().find(|(_, s)| &s.name == name)?;
        columns.get(oid)
    });
    let Some(parent) = parent else {
        return Vec::new();
    };
    let mut options = Vec::new();
    for column in columns.get(&oid).into_iter().flatten() {
        let Some(inherited) = parent.iter().find(|p| p.name == column.name) else {
            continue;
        };
        let mut constraints = String::new();
        let plain = column.generated.is_empty() && column.identity.is_empty();
        match column.default.as_ref().filter(|_| plain) {
            Some(default) if inherited.default.as_ref() != Some(default) => {
                constraints.push_str(&format!(" DEFAULT {default}"));
            }
            // Made on its own and attached, it has none where its parent
            // has one; PARTITION OF would give it the parent's.
            None if plain && inherited.default.is_some() && inherited.generated.is_empty() => {
                constraints.push_str(" DEFAULT NULL");
            }
            _ => {}
        }
        if column.not_null && !inherited.not_null {
            if let Some(name) = &column.not_null_name {
                constraints.push_str(&format!(" CONSTRAINT {}", quote_ident(name)));
            }
            constraints.push_str(" NOT NULL");
        }
        if !constraints.is_empty() {
            options.push(format!(
                "{} WITH OPTIONS{constraints}",
                quote_ident(&column.name)
            ));
        }
    }
    options
}

/// The statements `query` (over relations `oids`) returns for partitions'
/// own keys or indexes, as `(root, sql)` rows in order, joined by the oid of
/// the partitioned table's key or index they belong under: each is made
/// before it, so that it attaches them and they keep their names.
pub(super) async fn made_before_their_root(
    client: &Client,
    query: &str,
    oids: &[u32],
) -> Result<HashMap<u32, String>> {
    let mut by_root: HashMap<u32, String> = HashMap::new();
    for row in client
        .query(query, &[&oids])
        .await
        .context("cannot read the keys and indexes of partitions")?
    {
        let sql = by_root.entry(row.get("root")).or_default();
        sql.push_str(row.get("sql"));
        sql.push('\n');
    }
    Ok(by_root)
}
