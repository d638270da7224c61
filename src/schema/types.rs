//! User-defined types: enums, domains, composite, range and base types
//! (`base_types`), and shell types. A base type, and a range type with a
//! canonical function, come with a shell that their functions are
//! created over before the type itself.

use anyhow::{Context, Result};
use tokio_postgres::{Client, Row};

use super::base_types::base_ddl;
use super::catalogs::Catalog;
use super::comments::push_comment;
use super::defined::{Batch, Defined};
use crate::artifact::{ObjectKind, SchemaObject};

/// What kind of type each of $1 is, what it is built on, and whose it is
/// (the system's own types are left out: every database has them).
const TYPE_INFO: &str = "
SELECT t.oid, t.typtype::text AS kind, n.nspname, pg_catalog.format_type(t.oid, NULL) AS name,
       t.typisdefined AS defined,
       COALESCE((SELECT c.relkind::text FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid), '')
         AS relkind,
       (SELECT r.rngcanonical <> 0 FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid) AS canonical,
       CASE WHEN pg_catalog.obj_description(t.oid, 'pg_type') IS NOT NULL THEN
            pg_catalog.format('COMMENT ON %s %s IS %L',
                              CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                              pg_catalog.format_type(t.oid, NULL),
                              pg_catalog.obj_description(t.oid, 'pg_type')) END AS comment,
       t.typrelid
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 4";

/// An enum's labels, quoted by the server, in order.
const ENUM_LABELS: &str = "
SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_catalog.pg_enum e WHERE e.enumtypid = $1";

/// A domain's base type, collation, default, NOT NULL and check constraints.
const DOMAIN: &str = "
SELECT pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = t.typcollation) END AS collation,
       t.typdefault, t.typnotnull,
       ARRAY(SELECT pg_catalog.format('CONSTRAINT %I %s', c.conname, pg_catalog.pg_get_constraintdef(c.oid))
             FROM pg_catalog.pg_constraint c
             WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS checks,
       ARRAY(SELECT pg_catalog.format('COMMENT ON CONSTRAINT %I ON DOMAIN %s IS %L', c.conname,
                                      t.oid::regtype::text, pg_catalog.obj_description(c.oid, 'pg_constraint'))
             FROM pg_catalog.pg_constraint c
             WHERE c.contypid = t.oid AND pg_catalog.obj_description(c.oid, 'pg_constraint') IS NOT NULL
             ORDER BY c.conname) AS comments
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
WHERE t.oid = $1";

/// A composite type's attributes, as a column list.
const COMPOSITE: &str = "
SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname,
                             pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped";

/// A range type's subtype, non-default operator class, collation,
/// canonical and difference functions, and its multirange type's name
/// where it has one (PostgreSQL 14 and later), with the name the server
/// would give it by default.
const RANGE: &str = "
SELECT pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
       CASE WHEN NOT opc.opcdefault THEN pg_catalog.format('%I.%I', opn.nspname, opc.opcname) END
         AS opclass,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN
            (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
             WHERE co.oid = r.rngcollation) END AS collation,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
       CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
       (SELECT pg_catalog.format_type(m.oid, NULL) FROM pg_catalog.pg_type m
        WHERE m.oid::text = pg_catalog.to_jsonb(r) ->> 'rngmultitypid') AS multirange,
       (SELECT pg_catalog.format_type(m.oid, NULL) FROM pg_catalog.pg_type m
        WHERE m.oid::text = pg_catalog.to_jsonb(r) ->> 'rngmultitypid'
          AND m.typnamespace = t.typnamespace
          AND m.typname = CASE WHEN pg_catalog.strpos(t.typname, 'range') > 0
                               THEN pg_catalog.overlay(t.typname::text, 'multirange',
                                                       pg_catalog.strpos(t.typname, 'range'), 5)
                               ELSE t.typname || '_multirange' END) AS default_multirange
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
WHERE r.rngtypid = $1";

/// How one type is carried.
enum Carried {
    /// As this DDL.
    Ddl(String),
    /// As this DDL, after a shell its functions are created over.
    WithShell(String),
    /// Not at all, for the reason given.
    Not(String),
}

/// Read the types `oids`.
pub(super) async fn read(client: &Client, oids: &[u32]) -> Result<Batch> {
    let mut batch = Batch::default();
    for row in client
        .query(TYPE_INFO, &[&oids])
        .await
        .context("cannot read types")?
    {
        let node = Catalog::Type.node(row.get("oid"));
        let name: String = row.get("name");
        let (mut sql, shell) = match carried(client, &row, &name).await? {
            Carried::Ddl(sql) => (sql, None),
            Carried::WithShell(sql) => (sql, Some(shell(&name))),
            Carried::Not(warning) => {
                batch.not_carried.push((node, warning));
                continue;
            }
        };
        push_comment(&mut sql, row.get("comment"));
        // Only a superuser can create a base type.
        let object = SchemaObject::new(ObjectKind::Type, name, None, sql)
            .for_superuser(row.get::<_, String>("kind") == "b");
        let mut defined = Defined::new(node, Some(row.get("nspname")), object);
        defined.shell = shell;
        batch.defined.push(defined);
    }
    Ok(batch)
}

/// `CREATE TYPE name;`: a placeholder that functions over the type can be
/// created with, before the type is defined by them.
fn shell(name: &str) -> SchemaObject {
    SchemaObject::new(
        ObjectKind::Type,
        name.to_owned(),
        None,
        format!("CREATE TYPE {name};"),
    )
}

/// How the type in `row` (a [`TYPE_INFO`] row) is carried.
async fn carried(client: &Client, row: &Row, name: &str) -> Result<Carried> {
    let oid: u32 = row.get("oid");
    let kind: String = row.get("kind");
    let relkind: String = row.get("relkind");
    Ok(match (kind.as_str(), relkind.as_str()) {
        ("e", _) => {
            let labels: Option<String> = client.query_one(ENUM_LABELS, &[&oid]).await?.get(0);
            let sql = format!(
                "CREATE TYPE {name} AS ENUM ({});",
                labels.unwrap_or_default()
            );
            Carried::Ddl(sql)
        }
        ("d", _) => Carried::Ddl(domain_ddl(client, oid, name).await?),
        ("c", "c") => {
            let typrelid: u32 = row.get("typrelid");
            let attributes: Option<String> =
                client.query_one(COMPOSITE, &[&typrelid]).await?.get(0);
            let sql = format!(
                "CREATE TYPE {name} AS ({});",
                attributes.unwrap_or_default()
            );
            Carried::Ddl(sql)
        }
        ("r", _) => {
            let sql = range_ddl(client, oid, name).await?;
            match row.get::<_, Option<bool>>("canonical") {
                Some(true) => Carried::WithShell(sql),
                _ => Carried::Ddl(sql),
            }
        }
        ("b", _) => Carried::WithShell(base_ddl(client, oid, name).await?),
        ("p", _) if !row.get::<_, bool>("defined") => Carried::Ddl(format!("CREATE TYPE {name};")),
        _ => Carried::Not(format!("type {name} (kind {kind}) is not carried")),
    })
}

async fn domain_ddl(client: &Client, oid: u32, name: &str) -> Result<String> {
    let row = client
        .query_one(DOMAIN, &[&oid])
        .await
        .context("cannot read a domain")?;
    let mut sql = format!("CREATE DOMAIN {name} AS {}", row.get::<_, String>("base"));
    if let Some(collation) = row.get::<_, Option<String>>("collation") {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = row.get::<_, Option<String>>("typdefault") {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if row.get::<_, bool>("typnotnull") {
        sql.push_str(" NOT NULL");
    }
    // A check not validated yet can only be added to an existing domain.
    let (unvalidated, checks): (Vec<String>, Vec<String>) = row
        .get::<_, Vec<String>>("checks")
        .into_iter()
        .partition(|c| c.ends_with(" NOT VALID"));
    for constraint in checks {
        sql.push(' ');
        sql.push_str(&constraint);
    }
    sql.push(';');
    for constraint in unvalidated {
        sql.push_str(&format!("\nALTER DOMAIN {name} ADD {constraint};"));
    }
    for comment in row.get::<_, Vec<String>>("comments") {
        sql.push_str(&format!("\n{comment};"));
    }
    Ok(sql)
}

/// A range type's DDL.
async fn range_ddl(client: &Client, oid: u32, name: &str) -> Result<String> {
    let row = client
        .query_one(RANGE, &[&oid])
        .await
        .context("cannot read a range type")?;
    let mut options = vec![format!("SUBTYPE = {}", row.get::<_, String>("subtype"))];
    let optional = [
        ("SUBTYPE_OPCLASS", "opclass"),
        ("COLLATION", "collation"),
        ("CANONICAL", "canonical"),
        ("SUBTYPE_DIFF", "subtype_diff"),
    ];
    for (option, column) in optional {
        if let Some(value) = row.get::<_, Option<String>>(column) {
            options.push(format!("{option} = {value}"));
        }
    }
    let multirange: Option<String> = row.get("multirange");
    if multirange.is_some() && row.get::<_, Option<String>>("default_multirange").is_none() {
        options.push(format!(
            "MULTIRANGE_TYPE_NAME = {}",
            multirange.unwrap_or_default()
        ));
    }
    Ok(format!(
        "CREATE TYPE {name} AS RANGE ({});",
        options.join(", ")
    ))
}
