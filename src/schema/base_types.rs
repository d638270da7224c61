//! Base types (`CREATE TYPE name (INPUT = ..., OUTPUT = ...)`), their
//! functions usually written in C: every option the catalog records, so
//! the type behaves the same after a restore. Created after a shell and
//! the functions that define it (`ordering`).

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

/// Base types $1, each with its options as `CREATE TYPE` spells them
/// (those at their default left out). `typsubscript` exists from PostgreSQL 14: read
/// through `to_jsonb`, it is NULL before.
const BASE: &str = "
SELECT t.oid, pg_catalog.format_type(t.oid, NULL) AS name, pg_catalog.array_remove(ARRAY[
         'INPUT = ' || t.typinput::regproc::text,
         'OUTPUT = ' || t.typoutput::regproc::text,
         CASE WHEN t.typreceive <> 0 THEN 'RECEIVE = ' || t.typreceive::regproc::text END,
         CASE WHEN t.typsend <> 0 THEN 'SEND = ' || t.typsend::regproc::text END,
         CASE WHEN t.typmodin <> 0 THEN 'TYPMOD_IN = ' || t.typmodin::regproc::text END,
         CASE WHEN t.typmodout <> 0 THEN 'TYPMOD_OUT = ' || t.typmodout::regproc::text END,
         CASE WHEN t.typanalyze <> 0 THEN 'ANALYZE = ' || t.typanalyze::regproc::text END,
         CASE WHEN COALESCE(pg_catalog.to_jsonb(t) ->> 'typsubscript', '-') <> '-'
              THEN 'SUBSCRIPT = ' || (pg_catalog.to_jsonb(t) ->> 'typsubscript') END,
         'INTERNALLENGTH = ' || CASE WHEN t.typlen = -1 THEN 'variable' ELSE t.typlen::text END,
         CASE WHEN t.typbyval THEN 'PASSEDBYVALUE' END,
         'ALIGNMENT = ' || CASE t.typalign WHEN 'c' THEN 'char' WHEN 's' THEN 'int2'
                                           WHEN 'i' THEN 'int4' ELSE 'double' END,
         'STORAGE = ' || CASE t.typstorage WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external'
                                           WHEN 'm' THEN 'main' ELSE 'extended' END,
         CASE WHEN t.typcategory <> 'U'
              THEN 'CATEGORY = ' || pg_catalog.quote_literal(t.typcategory::text) END,
         CASE WHEN t.typispreferred THEN 'PREFERRED = true' END,
         CASE WHEN t.typdefault IS NOT NULL
              THEN 'DEFAULT = ' || pg_catalog.quote_literal(t.typdefault) END,
         CASE WHEN t.typelem <> 0 THEN 'ELEMENT = ' || pg_catalog.format_type(t.typelem, NULL) END,
         CASE WHEN t.typdelim <> ',' THEN 'DELIMITER = ' || pg_catalog.quote_literal(t.typdelim::text) END,
         CASE WHEN t.typcollation <> 0 THEN 'COLLATABLE = true' END
       ], NULL) AS options
FROM pg_catalog.pg_type t WHERE t.oid = ANY($1)";

/// Each base type's `CREATE TYPE`, by oid.
pub(super) async fn base_ddl(client: &Client, oids: &[u32]) -> Result<HashMap<u32, String>> {
    Ok(client
        .query(BASE, &[&oids])
        .await
        .context("cannot read base types")?
        .iter()
        .map(|row| {
            let name: String = row.get("name");
            let options: Vec<String> = row.get("options");
            (
                row.get("oid"),
                format!("CREATE TYPE {name} ({});", options.join(", ")),
            )
        })
        .collect())
}
