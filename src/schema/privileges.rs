//! Privileges (`dump --privileges`): the GRANTs on carried objects, and the
//! default privileges of the dumped schemas, one object per grantee so a
//! restore can apply those whose roles it has and name the rest. The
//! owner's own privileges are not carried: restored objects belong to
//! whoever restores. Where an object's ACL takes back what PUBLIC has by
//! default (`EXECUTE` on a function, `USAGE` on a type), `REVOKE ... FROM
//! PUBLIC` comes first. Default privileges apply to the restoring role
//! (`ALTER DEFAULT PRIVILEGES IN SCHEMA`, without `FOR ROLE`), as ownership
//! does.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::artifact::{ObjectKind, SchemaObject};

/// Each grantee's privileges on relations $1 (and their columns), schemas
/// named $2, functions $3, types $4 and sequences named $5, but the owner's: the statement's
/// `ON` clause, the grantee as SQL (or PUBLIC) and its role name, and the
/// privileges without and with grant option.
const GRANTS: &str = "
WITH objects(on_clause, acl, owner) AS (
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || c.oid::regclass::text,
           c.relacl, c.relowner
    FROM pg_catalog.pg_class c
    WHERE (c.oid = ANY($1) OR c.oid = ANY($5::text[]::regclass[])) AND c.relacl IS NOT NULL
    UNION ALL
    SELECT 'SCHEMA ' || pg_catalog.quote_ident(n.nspname), n.nspacl, n.nspowner
    FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($2) AND n.nspacl IS NOT NULL
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END
           || pg_catalog.format('%I.%I(%s)', n.nspname, p.proname,
                                pg_catalog.pg_get_function_identity_arguments(p.oid)),
           p.proacl, p.proowner
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE p.oid = ANY($3) AND p.proacl IS NOT NULL AND p.prokind <> 'a'
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || pg_catalog.format_type(t.oid, NULL),
           t.typacl, t.typowner
    FROM pg_catalog.pg_type t WHERE t.oid = ANY($4) AND t.typacl IS NOT NULL
),
grants(on_clause, grantee, is_grantable, privilege) AS (
    SELECT o.on_clause, x.grantee, x.is_grantable, x.privilege_type
    FROM objects o, LATERAL pg_catalog.aclexplode(o.acl) AS x
    WHERE x.grantee <> o.owner
    UNION ALL
    SELECT 'TABLE ' || c.oid::regclass::text, x.grantee, x.is_grantable,
           x.privilege_type || ' (' || pg_catalog.quote_ident(a.attname) || ')'
    FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid,
    LATERAL pg_catalog.aclexplode(a.attacl) AS x
    WHERE a.attrelid = ANY($1) AND a.attacl IS NOT NULL AND NOT a.attisdropped
      AND x.grantee <> c.relowner
)
SELECT g.on_clause,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END AS grantee,
       r.rolname::text AS role,
       pg_catalog.array_agg(g.privilege ORDER BY g.privilege) FILTER (WHERE NOT g.is_grantable) AS plain,
       pg_catalog.array_agg(g.privilege ORDER BY g.privilege) FILTER (WHERE g.is_grantable) AS grantable
FROM grants g
LEFT JOIN pg_catalog.pg_roles r ON r.oid = g.grantee
GROUP BY 1, 2, 3
ORDER BY 1, 2";

/// Objects among functions $1 and types $2 whose ACL takes back a
/// privilege PUBLIC has by default (it has no PUBLIC entry).
const PUBLIC_REVOKED: &str = "
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END
       || pg_catalog.format('%I.%I(%s)', n.nspname, p.proname,
                            pg_catalog.pg_get_function_identity_arguments(p.oid)) AS on_clause
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.oid = ANY($1) AND p.proacl IS NOT NULL AND p.prokind <> 'a'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) x WHERE x.grantee = 0)
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || pg_catalog.format_type(t.oid, NULL)
FROM pg_catalog.pg_type t
WHERE t.oid = ANY($2) AND t.typacl IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(t.typacl) x WHERE x.grantee = 0)
ORDER BY 1";

/// Default privileges set in schemas $1, per grantee: (schema, object
/// kind as `ON` names it, grantee, role, privileges).
const DEFAULTS: &str = "
SELECT pg_catalog.quote_ident(n.nspname) AS schema,
       CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                            WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END AS kind,
       CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END AS grantee,
       r.rolname::text AS role,
       pg_catalog.array_agg(x.privilege_type ORDER BY x.privilege_type) FILTER (WHERE NOT x.is_grantable)
         AS plain,
       pg_catalog.array_agg(x.privilege_type ORDER BY x.privilege_type) FILTER (WHERE x.is_grantable)
         AS grantable
FROM pg_catalog.pg_default_acl d
JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace,
LATERAL pg_catalog.aclexplode(d.defaclacl) AS x
LEFT JOIN pg_catalog.pg_roles r ON r.oid = x.grantee
WHERE n.nspname = ANY($1) AND x.grantee <> d.defaclrole
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3";

/// What carries privileges: relations (tables, partitions, views) by oid,
/// sequences by quoted name, schemas by name, functions and types by oid.
#[derive(Debug)]
pub(super) struct Granted {
    pub relations: Vec<u32>,
    pub sequences: Vec<String>,
    pub schemas: Vec<String>,
    pub functions: Vec<u32>,
    pub types: Vec<u32>,
}

/// The privileges on `granted`, and the default privileges of `schemas`.
pub(super) async fn read(client: &Client, granted: &Granted) -> Result<Vec<SchemaObject>> {
    let mut objects = Vec::new();
    for row in client
        .query(PUBLIC_REVOKED, &[&granted.functions, &granted.types])
        .await
        .context("cannot read privileges")?
    {
        let on: String = row.get("on_clause");
        objects.push(SchemaObject::new(
            ObjectKind::Grant,
            format!("{on} FROM PUBLIC"),
            None,
            format!("REVOKE ALL ON {on} FROM PUBLIC;"),
        ));
    }
    let rows = client
        .query(
            GRANTS,
            &[
                &granted.relations,
                &granted.schemas,
                &granted.functions,
                &granted.types,
                &granted.sequences,
            ],
        )
        .await
        .context("cannot read privileges")?;
    let defaults = client
        .query(DEFAULTS, &[&granted.schemas])
        .await
        .context("cannot read default privileges")?;
    // (what precedes GRANT, what follows the privileges, the row).
    let statements = rows
        .iter()
        .map(|row| {
            let on = format!("ON {}", row.get::<_, String>("on_clause"));
            (String::new(), on, row)
        })
        .chain(defaults.iter().map(|row| {
            let head = format!(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} ",
                row.get::<_, String>("schema")
            );
            (head, format!("ON {}", row.get::<_, String>("kind")), row)
        }));
    // Grants on objects first, then default privileges, each in order.
    let mut grouped: BTreeMap<(String, String, String), SchemaObject> = BTreeMap::new();
    for (head, on, row) in statements {
        let grantee: String = row.get("grantee");
        let mut sql = Vec::new();
        for (column, option) in [("plain", ""), ("grantable", " WITH GRANT OPTION")] {
            if let Some(privileges) = row.get::<_, Option<Vec<String>>>(column) {
                sql.push(format!(
                    "{head}GRANT {} {on} TO {grantee}{option};",
                    privileges.join(", ")
                ));
            }
        }
        let roles: Vec<String> = row.get::<_, Option<String>>("role").into_iter().collect();
        let object = SchemaObject::new(
            ObjectKind::Grant,
            format!("{head}{on} TO {grantee}"),
            None,
            sql.join("\n"),
        )
        .naming_roles(roles);
        grouped.insert((head, on, grantee), object);
    }
    objects.extend(grouped.into_values());
    Ok(objects)
}
