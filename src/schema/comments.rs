//! Comments on schema objects, as the statements that set them: each is
//! built and quoted by the server, and appended to its object's DDL.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

/// Comments on relations $1, their columns and their valid NOT NULL
/// constraints, as statements.
const RELATION_COMMENTS: &str = "
SELECT c.oid AS relation, pg_catalog.format('COMMENT ON %s %s IS %L',
         CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
         c.oid::regclass::text, d.description) AS statement
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid
WHERE c.oid = ANY($1) AND d.objsubid = 0
UNION ALL
SELECT c.oid, pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.oid::regclass::text, a.attname,
                                d.description)
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE c.oid = ANY($1) AND d.objsubid > 0
UNION ALL
-- NOT NULL constraints (PostgreSQL 18) made with their table; comments on
-- the others come with them (constraints.rs).
SELECT con.conrelid, pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', con.conname,
                                       con.conrelid::regclass::text, d.description)
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_constraint con ON d.classoid = 'pg_catalog.pg_constraint'::regclass AND d.objoid = con.oid
WHERE con.conrelid = ANY($1) AND con.contype = 'n' AND con.convalidated
ORDER BY 1, 2";

/// Comment statements per relation oid, for tables, partitions and views.
pub(super) async fn relation_comments(
    client: &Client,
    oids: &[u32],
) -> Result<HashMap<u32, Vec<String>>> {
    let mut comments: HashMap<u32, Vec<String>> = HashMap::new();
    for row in client
        .query(RELATION_COMMENTS, &[&oids])
        .await
        .context("cannot read comments")?
    {
        comments
            .entry(row.get("relation"))
            .or_default()
            .push(row.get("statement"));
    }
    Ok(comments)
}

/// Append a comment statement the server built, when there is a comment.
pub(super) fn push_comment(sql: &mut String, comment: Option<String>) {
    if let Some(comment) = comment {
        sql.push('\n');
        sql.push_str(&comment);
        sql.push(';');
    }
}
