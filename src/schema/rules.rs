//! Rules other than a view's own `SELECT` (an `INSTEAD` rule that makes a
//! join view writable, a rule that logs deletes from a table): `CREATE
//! RULE` through `pg_get_ruledef`, with any comment and firing state.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::triggers::state_change;
use crate::ident::quote_ident;

/// Rules of relations $1.
const RULES: &str = "
SELECT r.ev_class, r.rulename, pg_catalog.pg_get_ruledef(r.oid) AS definition,
       r.ev_enabled::text AS state, r.ev_class::regclass::text AS relation_name,
       c.relkind IN ('r', 'p') AS on_table,
       CASE WHEN pg_catalog.obj_description(r.oid, 'pg_rewrite') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON RULE %I ON %s IS %L', r.rulename, r.ev_class::regclass::text,
                           pg_catalog.obj_description(r.oid, 'pg_rewrite')) END AS comment
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
WHERE r.ev_class = ANY($1) AND r.rulename <> '_RETURN'
ORDER BY r.ev_class, r.rulename";

/// One rule's DDL.
#[derive(Debug)]
pub(super) struct Rule {
    /// `relation rule`, for messages.
    pub name: String,
    pub sql: String,
}

/// The rules of `relation_oids`, by relation, each with its comment and,
/// on a table, a firing state other than the default.
pub(super) async fn read(
    client: &Client,
    relation_oids: &[u32],
) -> Result<HashMap<u32, Vec<Rule>>> {
    let mut rules: HashMap<u32, Vec<Rule>> = HashMap::new();
    if relation_oids.is_empty() {
        return Ok(rules);
    }
    for row in client
        .query(RULES, &[&relation_oids])
        .await
        .context("cannot read rules")?
    {
        let relation_name: String = row.get("relation_name");
        let name = quote_ident(&row.get::<_, String>("rulename"));
        let mut sql: String = row.get("definition");
        let state = state_change(&row.get::<_, String>("state"));
        if let Some(state) = state.filter(|_| row.get::<_, bool>("on_table")) {
            sql.push_str(&format!(
                "\nALTER TABLE {relation_name} {state} RULE {name};"
            ));
        }
        if let Some(comment) = row.get::<_, Option<String>>("comment") {
            sql.push_str(&format!("\n{comment};"));
        }
        rules.entry(row.get("ev_class")).or_default().push(Rule {
            name: format!("{relation_name} {name}"),
            sql,
        });
    }
    Ok(rules)
}
