//! Row-level security: each table's policies (`CREATE POLICY`, with the
//! roles they name) and its `ENABLE` / `FORCE ROW LEVEL SECURITY`, after
//! the data (a table whose security is forced refuses `COPY` from its
//! owner, and the load comes first).

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use super::roots::Roots;
use crate::artifact::{ObjectKind, SchemaObject};

/// Policies on relations $1, as DDL, with the roles they name.
const POLICIES: &str = "
SELECT p.polrelid, pg_catalog.format('%s %I', p.polrelid::regclass::text, p.polname) AS name,
       pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s;', p.polname,
         p.polrelid::regclass::text,
         CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
         CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
         (SELECT pg_catalog.string_agg(CASE WHEN u.r = 0 THEN 'PUBLIC'
                                            ELSE pg_catalog.quote_ident(a.rolname) END,
                                       ', ' ORDER BY a.rolname NULLS FIRST)
          FROM unnest(p.polroles) AS u(r) LEFT JOIN pg_catalog.pg_roles a ON a.oid = u.r),
         CASE WHEN p.polqual IS NOT NULL
              THEN ' USING (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')' ELSE '' END,
         CASE WHEN p.polwithcheck IS NOT NULL
              THEN ' WITH CHECK (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')'
              ELSE '' END) AS sql,
       ARRAY(SELECT a.rolname::text FROM pg_catalog.pg_roles a WHERE a.oid = ANY(p.polroles)
             ORDER BY 1) AS roles,
       CASE WHEN pg_catalog.obj_description(p.oid, 'pg_policy') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON POLICY %I ON %s IS %L', p.polname, p.polrelid::regclass::text,
                           pg_catalog.obj_description(p.oid, 'pg_policy')) END AS comment
FROM pg_catalog.pg_policy p
WHERE p.polrelid = ANY($1)
ORDER BY p.polrelid, p.polname";

/// Relations $1 with row security switched on or forced.
const SECURED: &str = "
SELECT c.oid, c.oid::regclass::text AS name, c.relrowsecurity, c.relforcerowsecurity
FROM pg_catalog.pg_class c
WHERE c.oid = ANY($1) AND (c.relrowsecurity OR c.relforcerowsecurity)
ORDER BY 2";

/// The row-level security of relations `oids`: their policies, then each
/// table's switch.
pub(super) async fn read(
    client: &Client,
    oids: &[u32],
    roots: &Roots<'_>,
) -> Result<Vec<SchemaObject>> {
    let mut objects = Vec::new();
    for row in client
        .query(POLICIES, &[&oids])
        .await
        .context("cannot read row-level security policies")?
    {
        let mut sql: String = row.get("sql");
        push_comment(&mut sql, row.get("comment"));
        let table = roots.of(row.get("polrelid")).name.clone();
        objects.push(
            SchemaObject::new(ObjectKind::Policy, row.get("name"), Some(table), sql)
                .naming_roles(row.get("roles")),
        );
    }
    for row in client
        .query(SECURED, &[&oids])
        .await
        .context("cannot read row-level security settings")?
    {
        let name: String = row.get("name");
        let mut sql = String::new();
        if row.get("relrowsecurity") {
            sql.push_str(&format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"));
        }
        if row.get("relforcerowsecurity") {
            sql.push_str(&format!("\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;"));
        }
        let table = roots.of(row.get("oid")).name.clone();
        objects.push(SchemaObject::new(
            ObjectKind::Policy,
            format!("{name} row security"),
            Some(table),
            sql.trim_start().to_owned(),
        ));
    }
    Ok(objects)
}
