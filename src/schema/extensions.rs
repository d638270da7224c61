//! Extensions whose objects (types, functions, operators, operator
//! classes, languages) dumped objects use: carried as `CREATE EXTENSION IF
//! NOT EXISTS`, in the schema they live in.

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
