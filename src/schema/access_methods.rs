//! Access methods a user created (`CREATE ACCESS METHOD`): carried when a
//! dumped table or index uses one. Creating one takes a superuser.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::defined::Ddl;

/// Access methods $1, as `CREATE ACCESS METHOD` spells them.
const ACCESS_METHODS: &str = "
SELECT a.oid, pg_catalog.format('CREATE ACCESS METHOD %I TYPE %s HANDLER %s;', a.amname,
         CASE a.amtype WHEN 't' THEN 'TABLE' ELSE 'INDEX' END, a.amhandler::regproc::text) AS sql,
       true AS superuser
FROM pg_catalog.pg_am a WHERE a.oid = ANY($1) ORDER BY 1";

/// The DDL of access methods `oids`.
pub(super) async fn read(client: &Client, oids: &[u32]) -> Result<Vec<Ddl>> {
    Ok(client
        .query(ACCESS_METHODS, &[&oids])
        .await
        .context("cannot read access methods")?
        .iter()
        .map(Ddl::from_row)
        .collect())
}
