//! What a dump sees on its tables but cannot carry: said, never dropped silently.

use anyhow::{Context, Result};
use tokio_postgres::Client;

/// One sentence per object relations $1 have that the artifact does not carry.
const NOT_CARRIED: &str = "
SELECT pg_catalog.format('%s inherits from %s, which the artifact does not hold', i.inhrelid::regclass,
                         i.inhparent::regclass)
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhrelid = ANY($1) AND i.inhparent <> ALL($1) AND NOT c.relispartition
UNION ALL
SELECT pg_catalog.format('column %s.%I uses collation %I.%I, which is not carried', a.attrelid::regclass,
                         a.attname, n.nspname, co.collname)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
WHERE a.attrelid = ANY($1) AND n.nspname <> 'pg_catalog'
ORDER BY 1";

pub async fn not_carried(client: &Client, relation_oids: &[u32]) -> Result<Vec<String>> {
    Ok(client
        .query(NOT_CARRIED, &[&relation_oids])
        .await
        .context("cannot check for objects the dump cannot carry")?
        .iter()
        .map(|r| r.get(0))
        .collect())
}
