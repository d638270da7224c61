//! Trigger DDL: `CREATE TRIGGER` through `pg_get_triggerdef`, with any
//! non-default firing state, for the relations of dumped tables; and the
//! state of each partition's clone of a parent's trigger that is not the
//! default one the clone is created with.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use crate::artifact::{ObjectKind, SchemaObject};
use crate::catalog::{Relation, Table};
use crate::ident::quote_ident;

/// User triggers of relations $1 defined there (not cloned from a parent).
const TRIGGERS: &str = "
SELECT t.tgrelid, t.tgname, pg_catalog.pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS state, t.tgrelid::regclass::text AS relation_name,
       CASE WHEN pg_catalog.obj_description(t.oid, 'pg_trigger') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON TRIGGER %I ON %s IS %L', t.tgname, t.tgrelid::regclass::text, pg_catalog.obj_description(t.oid, 'pg_trigger')) END AS comment
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = ANY($1) AND NOT t.tgisinternal AND t.tgparentid = 0
ORDER BY t.tgrelid, t.tgname";

/// Clones, on partitions $1, of their parents' triggers, whose firing state
/// is not the default a new clone gets (disabled on one partition, say).
/// Before PostgreSQL 15 clones are marked internal, so they are told from
/// the internal triggers of foreign keys by their constraint, not the mark.
const CLONE_STATES: &str = "
SELECT t.tgrelid, t.tgname, t.tgenabled::text AS state, t.tgrelid::regclass::text AS relation_name
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = ANY($1) AND t.tgparentid <> 0 AND t.tgenabled <> 'O'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.oid = t.tgconstraint AND c.contype = 'f')
ORDER BY t.tgrelid, t.tgname";

/// `ALTER TABLE ... TRIGGER` (or `RULE`) for a firing state other than
/// the default.
pub(super) fn state_change(state: &str) -> Option<&'static str> {
    match state {
        "D" => Some("DISABLE"),
        "R" => Some("ENABLE REPLICA"),
        "A" => Some("ENABLE ALWAYS"),
        _ => None,
    }
}

/// The table (root) a relation of `tables` belongs to.
fn table_of<'a>(relations: &[Relation], tables: &'a [Table], relation: u32) -> Result<&'a Table> {
    relations
        .iter()
        .find(|r| r.oid == relation)
        .and_then(|r| tables.iter().find(|t| t.oid == r.table_oid))
        .context("trigger on an unknown relation")
}

/// `CREATE TRIGGER` and any non-default firing state, for relations of `tables`.
pub async fn triggers(
    client: &Client,
    relations: &[Relation],
    tables: &[Table],
) -> Result<Vec<SchemaObject>> {
    let oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();
    let mut objects = Vec::new();
    for row in client
        .query(TRIGGERS, &[&oids])
        .await
        .context("cannot read triggers")?
    {
        let relation: u32 = row.get("tgrelid");
        let name: String = row.get("tgname");
        let table = table_of(relations, tables, relation)?;
        let relation_name: String = row.get("relation_name");
        let mut sql = format!("{};", row.get::<_, String>("definition"));
        if let Some(state) = state_change(&row.get::<_, String>("state")) {
            sql.push_str(&format!(
                "\nALTER TABLE ONLY {relation_name} {state} TRIGGER {};",
                quote_ident(&name)
            ));
        }
        push_comment(&mut sql, row.get("comment"));
        objects.push(SchemaObject::new(
            ObjectKind::Trigger,
            format!("{relation_name} {}", quote_ident(&name)),
            Some(table.name.clone()),
            sql,
        ));
    }
    // After every CREATE TRIGGER: the clones exist once their parent's does.
    for row in client
        .query(CLONE_STATES, &[&oids])
        .await
        .context("cannot read the triggers of partitions")?
    {
        let relation: u32 = row.get("tgrelid");
        let Some(state) = state_change(&row.get::<_, String>("state")) else {
            continue;
        };
        let name: String = row.get("tgname");
        let relation_name: String = row.get("relation_name");
        objects.push(SchemaObject::new(
            ObjectKind::Trigger,
            format!("{relation_name} {} state", quote_ident(&name)),
            Some(table_of(relations, tables, relation)?.name.clone()),
            format!(
                "ALTER TABLE ONLY {relation_name} {state} TRIGGER {};",
                quote_ident(&name)
            ),
        ));
    }
    Ok(objects)
}
