//! Extensions whose types, functions, operators or operator classes dumped
//! objects use: carried as `CREATE EXTENSION IF NOT EXISTS`, in the schema
//! they live in.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::artifact::{ObjectKind, SchemaObject};

/// Extensions $1 and the schema each lives in.
const EXTENSIONS: &str = "
SELECT pg_catalog.format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I;', e.extname, n.nspname)
         AS sql,
       e.extname::text AS name, n.nspname
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = ANY($1) ORDER BY e.extname";

/// Extensions owning an operator class, operator family or operator that
/// relations $1 (their indexes, constraints and defaults) or views $2 use:
/// a trigram or btree_gist index names no function or type of its
/// extension, only its operator class.
const THROUGH_OPERATORS: &str = "
SELECT DISTINCT e.extname::text AS name
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_depend x
  ON x.classid = d.refclassid AND x.objid = d.refobjid AND x.deptype = 'e'
 AND x.refclassid = 'pg_catalog.pg_extension'::regclass
JOIN pg_catalog.pg_extension e ON e.oid = x.refobjid
WHERE d.refclassid IN ('pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass,
                       'pg_catalog.pg_operator'::regclass)
  AND ((d.classid = 'pg_catalog.pg_class'::regclass
        AND d.objid IN (SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_constraint'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_constraint WHERE conrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_attrdef'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_attrdef WHERE adrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_rewrite'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_rewrite WHERE ev_class = ANY($2))))";

/// The extensions whose operators or operator classes relations
/// `relation_oids` and views `view_oids` use.
pub(super) async fn used_through_operators(
    client: &Client,
    relation_oids: &[u32],
    view_oids: &[u32],
) -> Result<Vec<String>> {
    let rows = client
        .query(THROUGH_OPERATORS, &[&relation_oids, &view_oids])
        .await
        .context("cannot read the operator classes tables use")?;
    Ok(rows.iter().map(|r| r.get("name")).collect())
}

/// `CREATE EXTENSION` for each of `names`, with the schema it lives in.
pub(super) async fn read(client: &Client, names: &[String]) -> Result<Vec<(SchemaObject, String)>> {
    let rows = client
        .query(EXTENSIONS, &[&names])
        .await
        .context("cannot read extensions")?;
    Ok(rows
        .iter()
        .map(|row| {
            let object =
                SchemaObject::new(ObjectKind::Extension, row.get("name"), None, row.get("sql"));
            (object, row.get("nspname"))
        })
        .collect())
}
