//! Extended statistics objects (`CREATE STATISTICS`) on dumped relations,
//! through `pg_get_statisticsobjdef`, with their comments; and a table's
//! replica identity other than its primary key (`FULL`, `NOTHING`, an
//! index), which logical replication of the restored table relies on. Both
//! after the data and the indexes.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use super::roots::Roots;
use crate::artifact::{ObjectKind, SchemaObject};

/// Statistics objects on relations $1.
const STATISTICS: &str = "
SELECT s.stxrelid, pg_catalog.format('%I.%I', n.nspname, s.stxname) AS name,
       pg_catalog.pg_get_statisticsobjdef(s.oid) AS definition,
       CASE WHEN pg_catalog.obj_description(s.oid, 'pg_statistic_ext') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON STATISTICS %I.%I IS %L', n.nspname, s.stxname,
                           pg_catalog.obj_description(s.oid, 'pg_statistic_ext')) END AS comment
FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxrelid = ANY($1)
ORDER BY 2";

/// Relations $1 whose replica identity is not the default (the key).
const REPLICA_IDENTITY: &str = "
SELECT c.oid, c.oid::regclass::text AS name,
       CASE c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
         ELSE (SELECT 'USING INDEX ' || pg_catalog.quote_ident(ic.relname)
               FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
               WHERE i.indrelid = c.oid AND i.indisreplident) END AS identity
FROM pg_catalog.pg_class c
WHERE c.oid = ANY($1) AND c.relreplident NOT IN ('d', 'p')
ORDER BY 2";

/// The statistics objects and replica identities of relations `oids`.
pub(super) async fn read(
    client: &Client,
    oids: &[u32],
    roots: &Roots<'_>,
) -> Result<Vec<SchemaObject>> {
    let mut objects = Vec::new();
    for row in client
        .query(STATISTICS, &[&oids])
        .await
        .context("cannot read statistics objects")?
    {
        let mut sql = format!("{};", row.get::<_, String>("definition"));
        push_comment(&mut sql, row.get("comment"));
        let table = roots.of(row.get("stxrelid")).name.clone();
        objects.push(SchemaObject::new(
            ObjectKind::Statistics,
            row.get("name"),
            Some(table),
            sql,
        ));
    }
    for row in client
        .query(REPLICA_IDENTITY, &[&oids])
        .await
        .context("cannot read replica identities")?
    {
        let Some(identity) = row.get::<_, Option<String>>("identity") else {
            continue;
        };
        let name: String = row.get("name");
        let table = roots.of(row.get("oid")).name.clone();
        objects.push(SchemaObject::new(
            ObjectKind::Statistics,
            format!("{name} replica identity"),
            Some(table),
            format!("ALTER TABLE {name} REPLICA IDENTITY {identity};"),
        ));
    }
    Ok(objects)
}
