//! User-defined types: enums, domains, composite, range and base types
//! (`base_types`), and shell types. A base type, and a range type with a
//! canonical function, come with a shell that their functions are
//! created over before the type itself.

use std::collections::HashMap;

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

/// Enums $1, each with its labels quoted by the server, in order.
const ENUMS: &str = "
SELECT u.oid, pg_catalog.format('CREATE TYPE %s AS ENUM (%s);', pg_catalog.format_type(u.oid, NULL),
         COALESCE(pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '
                                        ORDER BY e.enumsortorder), '')) AS sql
FROM unnest($1::oid[]) AS u(oid)
LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = u.oid
GROUP BY u.oid";

/// Domains $1: base type, collation, default, NOT NULL and check constraints.
const DOMAINS: &str = "
SELECT t.oid, pg_catalog.format_type(t.oid, NULL) AS name,
       pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base,
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
WHERE t.oid = ANY($1)";

/// Composite types $1, each with its attributes as a column list (with a
/// collation other than their type's) and their comments.
const COMPOSITES: &str = "
SELECT t.oid, pg_catalog.format('CREATE TYPE %s AS (%s);', pg_catalog.format_type(t.oid, NULL),
         COALESCE(pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname,
                                        pg_catalog.format_type(a.atttypid, a.atttypmod))
                                        || COALESCE(' COLLATE ' || co.name, ''), ', '
                                        ORDER BY a.attnum), ''))
       || COALESCE(pg_catalog.string_agg(pg_catalog.format(E'\\nCOMMENT ON COLUMN %s.%I IS %L;',
                                         pg_catalog.format_type(t.oid, NULL), a.attname, d.description),
                                         '' ORDER BY a.attnum), '') AS sql
FROM pg_catalog.pg_type t
LEFT JOIN pg_catalog.pg_attribute a
  ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
LEFT JOIN LATERAL (
    SELECT pg_catalog.format('%I.%I', n.nspname, c.collname) AS name
    FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
    WHERE c.oid = a.attcollation AND a.attcollation <> at.typcollation) AS co ON true
LEFT JOIN pg_catalog.pg_description d
  ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = t.typrelid AND d.objsubid = a.attnum
WHERE t.oid = ANY($1)
GROUP BY t.oid";

/// Range types $1: subtype, non-default operator class, collation,
/// canonical and difference functions, and its multirange type's name
/// where it has one (PostgreSQL 14 and later), with the name the server
/// would give it by default.
const RANGES: &str = "
SELECT r.rngtypid AS oid, pg_catalog.format_type(r.rngtypid, NULL) AS name,
       pg_catalog.format_type(r.rngsubtype, NULL) AS subtype,
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
WHERE r.rngtypid = ANY($1)";

/// Read the types `oids`: one query for what they are, then one per kind.
pub(super) async fn read(client: &Client, oids: &[u32]) -> Result<Batch> {
    let rows = client
        .query(TYPE_INFO, &[&oids])
        .await
        .context("cannot read types")?;
    let of_kind = |kind: &str, relkind: &str| -> Vec<u32> {
        rows.iter()
            .filter(|r| r.get::<_, String>("kind") == kind)
            .filter(|r| relkind.is_empty() || r.get::<_, String>("relkind") == relkind)
            .map(|r| r.get("oid"))
            .collect()
    };
    let mut ddl: HashMap<u32, String> = HashMap::new();
    for (query, oids) in [(ENUMS, of_kind("e", "")), (COMPOSITES, of_kind("c", "c"))] {
        for row in client
            .query(query, &[&oids])
            .await
            .context("cannot read types")?
        {
            ddl.insert(row.get("oid"), row.get("sql"));
        }
    }
    for row in client
        .query(DOMAINS, &[&of_kind("d", "")])
        .await
        .context("cannot read domains")?
    {
        ddl.insert(row.get("oid"), domain_ddl(&row));
    }
    for row in client
        .query(RANGES, &[&of_kind("r", "")])
        .await
        .context("cannot read range types")?
    {
        ddl.insert(row.get("oid"), range_ddl(&row));
    }
    ddl.extend(base_ddl(client, &of_kind("b", "")).await?);

    let mut batch = Batch::default();
    for row in rows {
        let oid: u32 = row.get("oid");
        let node = Catalog::Type.node(oid);
        let name: String = row.get("name");
        let kind: String = row.get("kind");
        let (mut sql, shell) = match (kind.as_str(), ddl.remove(&oid)) {
            // A base type, or a range with a canonical function, is
            // defined by functions created over its shell.
            ("b", Some(sql)) => (sql, Some(shell(&name))),
            ("r", Some(sql)) if row.get::<_, Option<bool>>("canonical") == Some(true) => {
                (sql, Some(shell(&name)))
            }
            (_, Some(sql)) => (sql, None),
            ("p", None) if !row.get::<_, bool>("defined") => (format!("CREATE TYPE {name};"), None),
            _ => {
                let warning = format!("type {name} (kind {kind}) is not carried");
                batch.not_carried.push((node, warning));
                continue;
            }
        };
        push_comment(&mut sql, row.get("comment"));
        // Only a superuser can create a base type.
        let object =
            SchemaObject::new(ObjectKind::Type, name, None, sql).for_superuser(kind == "b");
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

/// A domain's DDL, from its [`DOMAINS`] row.
fn domain_ddl(row: &Row) -> String {
    let name: String = row.get("name");
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
    sql
}

/// A range type's DDL, from its [`RANGES`] row.
fn range_ddl(row: &Row) -> String {
    let name: String = row.get("name");
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
    format!("CREATE TYPE {name} AS RANGE ({});", options.join(", "))
}
