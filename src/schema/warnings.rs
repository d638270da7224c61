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
-- A rule renamed to a view's rule name: PostgreSQL creates no such rule.
SELECT pg_catalog.format('%s is not carried: PostgreSQL creates a rule named _RETURN only as a view''s SELECT',
                         pg_catalog.pg_describe_object('pg_catalog.pg_rewrite'::regclass, r.oid, 0))
FROM pg_catalog.pg_rewrite r
WHERE r.ev_class = ANY($1) AND r.rulename = '_RETURN' AND r.ev_type <> '1'
ORDER BY 1";

/// What a dump of whole schemas $1 leaves out of a database on purpose:
/// objects of the server's configuration rather than the application's
/// (foreign data wrappers, servers and tables, publications) and event
/// triggers whose function it does not carry, each with why. Objects an
/// extension owns come with it.
const DATABASE_LEVEL: &str = "
WITH found(classid, oid, why) AS (
    SELECT 'pg_catalog.pg_foreign_data_wrapper'::regclass, oid,
           'foreign data wrappers and servers describe the source''s network, not its data'
    FROM pg_catalog.pg_foreign_data_wrapper
    UNION ALL
    SELECT 'pg_catalog.pg_foreign_server'::regclass, oid,
           'foreign data wrappers and servers describe the source''s network, not its data'
    FROM pg_catalog.pg_foreign_server
    UNION ALL
    SELECT 'pg_catalog.pg_class'::regclass, c.oid, 'its rows live on another server'
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'f' AND n.nspname = ANY($1)
    UNION ALL
    SELECT 'pg_catalog.pg_publication'::regclass, oid, 'publications configure the source''s replication'
    FROM pg_catalog.pg_publication
    UNION ALL
    SELECT 'pg_catalog.pg_event_trigger'::regclass, e.oid,
           'its function is outside the dumped schemas'
    FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname <> ALL($1)
)
SELECT pg_catalog.format('%s is not carried: %s', pg_catalog.pg_describe_object(f.classid, f.oid, 0), f.why)
FROM found f
WHERE f.oid >= 16384
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = f.classid AND d.objid = f.oid AND d.deptype = 'e')
ORDER BY 1";

/// One sentence per object relations `relation_oids` have that the
/// artifact does not carry, and, with schemas dumped `whole`, per object
/// of the database a dump leaves out.
pub async fn not_carried(
    client: &Client,
    relation_oids: &[u32],
    whole: &[String],
) -> Result<Vec<String>> {
    let mut warnings: Vec<String> = client
        .query(NOT_CARRIED, &[&relation_oids])
        .await
        .context("cannot check for objects the dump cannot carry")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !whole.is_empty() {
        let rows = client
            .query(DATABASE_LEVEL, &[&whole])
            .await
            .context("cannot list what a dump of the database leaves out")?;
        warnings.extend(rows.iter().map(|r| r.get::<_, String>(0)));
    }
    Ok(warnings)
}
