//! `CHECK` constraints marked `NOT VALID`, and PostgreSQL 18's `NOT NULL`
//! ones: rows that were there when one was added may break it, and a
//! source's artifact holds such rows. A replace drops them for the load and
//! adds them back, still `NOT VALID`, as it does foreign keys.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::read::qualified;
use crate::ident::QualifiedName;

/// A `NOT VALID` check defined on a relation itself (an inherited copy
/// goes and comes back with its parent's).
#[derive(Debug, Clone)]
pub struct UnvalidatedCheck {
    pub relation: QualifiedName,
    pub name: String,
    /// As `pg_get_constraintdef` prints it, `NOT VALID` included.
    pub definition: String,
    pub comment: Option<String>,
}

/// $1: the relations. Those defined on the relation itself: dropping and
/// re-adding one on a parent takes its partitions' and children's copies
/// with it.
const UNVALIDATED_CHECKS: &str = "
SELECT n.nspname, c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid) AS definition,
       pg_catalog.obj_description(k.oid, 'pg_constraint') AS comment
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE k.conrelid = ANY($1) AND k.contype IN ('c', 'n') AND NOT k.convalidated
  AND k.conislocal AND k.coninhcount = 0 AND c.relkind IN ('r', 'p')
ORDER BY n.nspname, c.relname, k.conname";

pub async fn unvalidated_checks(
    client: &Client,
    relation_oids: &[u32],
) -> Result<Vec<UnvalidatedCheck>> {
    let rows = client
        .query(UNVALIDATED_CHECKS, &[&relation_oids])
        .await
        .context("cannot read the NOT VALID checks")?;
    Ok(rows
        .iter()
        .map(|row| UnvalidatedCheck {
            relation: qualified(row, "nspname", "relname"),
            name: row.get("conname"),
            definition: row.get("definition"),
            comment: row.get("comment"),
        })
        .collect())
}
