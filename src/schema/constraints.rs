//! Constraints defined on dumped relations: valid check constraints go
//! inside their `CREATE TABLE`; keys, exclusion constraints, checks not yet
//! validated and checks calling a function over a table's row type (created
//! after the tables) are added after the data, as pg_dump does. A
//! partitioned table's key comes after its partitions' own, named as they
//! were.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use super::partitions::made_before_their_root;
use super::roots::Roots;
use crate::artifact::{ObjectKind, SchemaObject};
use crate::ident::quote_ident;

/// Constraints of relations $1 defined on the relation itself (not inherited
/// from a parent): check constraints, keys, exclusion constraints and (18
/// and later) NOT NULL constraints not validated yet; and
/// whether each calls a function over a relation's row type.
const CONSTRAINTS: &str = "
SELECT con.conrelid, con.conname, con.contype::text AS kind, con.convalidated,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       CASE WHEN pg_catalog.obj_description(con.oid, 'pg_constraint') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', con.conname,
                         con.conrelid::regclass::text, pg_catalog.obj_description(con.oid, 'pg_constraint')) END AS comment,
       CASE WHEN con.conindid <> 0 AND pg_catalog.obj_description(con.conindid, 'pg_class') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON INDEX %s IS %L', con.conindid::regclass::text,
                           pg_catalog.obj_description(con.conindid, 'pg_class')) END AS index_comment,
       EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
               JOIN pg_catalog.pg_depend fd
                 ON fd.classid = 'pg_catalog.pg_proc'::regclass AND fd.objid = d.refobjid
                AND fd.refclassid = 'pg_catalog.pg_type'::regclass
               JOIN pg_catalog.pg_type t ON t.oid = fd.refobjid
               LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
               JOIN pg_catalog.pg_class c ON c.oid = COALESCE(NULLIF(t.typrelid, 0), e.typrelid)
               WHERE d.classid = 'pg_catalog.pg_constraint'::regclass AND d.objid = con.oid
                 AND d.refclassid = 'pg_catalog.pg_proc'::regclass AND c.relkind <> 'c')
         AS over_row_type, con.oid
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = ANY($1) AND con.conparentid = 0 AND con.conislocal
  AND (con.contype IN ('c', 'p', 'u', 'x') OR (con.contype = 'n' AND NOT con.convalidated))
ORDER BY con.conrelid, con.conname";

/// The keys of partitions of relations $1 that are attached to a
/// partitioned table's, each with the oid of the topmost one (which its
/// table's constraint, above, reads) and its depth under it, deepest
/// first: made before the partitioned table's, each keeps its name (that
/// one attaches them) where recursion would name them after their table.
/// Climbed from the partitions up (`conparentid` to the parent's oid), so
/// every step is an index lookup.
const PARTITION_KEYS: &str = "
WITH RECURSIVE up(oid, parent, depth) AS (
    SELECT c.oid, c.conparentid, 1 FROM pg_catalog.pg_constraint c
    WHERE c.conrelid = ANY($1) AND c.conparentid <> 0 AND c.contype IN ('p', 'u', 'x')
    UNION ALL
    SELECT up.oid, p.conparentid, up.depth + 1
    FROM up JOIN pg_catalog.pg_constraint p ON p.oid = up.parent
    WHERE p.conparentid <> 0)
SELECT up.parent AS root,
       pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s;', c.conrelid::regclass::text,
                         c.conname, pg_catalog.pg_get_constraintdef(c.oid))
       || COALESCE(pg_catalog.format(E'\nCOMMENT ON CONSTRAINT %I ON %s IS %L;', c.conname,
                                     c.conrelid::regclass::text,
                                     pg_catalog.obj_description(c.oid, 'pg_constraint')), '')
       || COALESCE(pg_catalog.format(E'\nCOMMENT ON INDEX %s IS %L;', c.conindid::regclass::text,
                                     pg_catalog.obj_description(c.conindid, 'pg_class')), '') AS sql
FROM up
JOIN pg_catalog.pg_constraint r ON r.oid = up.parent AND r.conparentid = 0
JOIN pg_catalog.pg_constraint c ON c.oid = up.oid
ORDER BY up.parent, up.depth DESC, c.conrelid::regclass::text";

/// The constraints of dumped relations, by where their DDL goes.
#[derive(Debug, Default)]
pub(super) struct Constraints {
    /// Valid checks, by relation: elements of its `CREATE TABLE`.
    pub inline: HashMap<u32, Vec<String>>,
    /// Comments on those, by relation: run right after its `CREATE TABLE`.
    pub inline_comments: HashMap<u32, Vec<String>>,
    /// The rest, after the data.
    pub post: Vec<SchemaObject>,
}

/// The constraints of relations `oids` (named, with whether each is
/// partitioned, in `relations`).
pub(super) async fn read(
    client: &Client,
    oids: &[u32],
    relations: &HashMap<u32, (&str, bool)>,
    roots: &Roots<'_>,
) -> Result<Constraints> {
    let mut found = Constraints::default();
    let mut partition_keys = made_before_their_root(client, PARTITION_KEYS, oids).await?;
    for row in client
        .query(CONSTRAINTS, &[&oids])
        .await
        .context("cannot read constraints")?
    {
        let relation: u32 = row.get("conrelid");
        let name: String = row.get("conname");
        let kind: String = row.get("kind");
        let definition: String = row.get("definition");
        // A check calling a function over a table's row type waits for
        // that function, which waits for the tables.
        let inline = kind == "c" && row.get::<_, bool>("convalidated");
        if inline && !row.get::<_, bool>("over_row_type") {
            found
                .inline
                .entry(relation)
                .or_default()
                .push(format!("CONSTRAINT {} {definition}", quote_ident(&name)));
            if let Some(comment) = row.get::<_, Option<String>>("comment") {
                found
                    .inline_comments
                    .entry(relation)
                    .or_default()
                    .push(comment);
            }
            continue;
        }
        let (relation_name, partitioned) = relations[&relation];
        // A check not yet validated reaches inheritance children too, as
        // it did in the source (unless NO INHERIT); keys stay on the table.
        let recurse = partitioned
            || (matches!(kind.as_str(), "c" | "n") && !definition.contains(" NO INHERIT"));
        let mut sql = partition_keys
            .remove(&row.get::<_, u32>("oid"))
            .unwrap_or_default();
        sql.push_str(&format!(
            "ALTER TABLE {}{relation_name} ADD CONSTRAINT {} {definition};",
            if recurse { "" } else { "ONLY " },
            quote_ident(&name)
        ));
        push_comment(&mut sql, row.get("comment"));
        push_comment(&mut sql, row.get("index_comment"));
        found.post.push(SchemaObject::new(
            ObjectKind::Constraint,
            format!("{relation_name} {}", quote_ident(&name)),
            Some(roots.of(relation).name.clone()),
            sql,
        ));
    }
    Ok(found)
}
