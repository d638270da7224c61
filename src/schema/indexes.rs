//! Indexes of dumped relations that no constraint owns, created after the
//! data (faster than maintaining them row by row), with their `CLUSTER ON`
//! marks and comments; a partitioned table's after its partitions' own,
//! named as they were.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use super::partitions::made_before_their_root;
use super::roots::Roots;
use crate::artifact::{ObjectKind, SchemaObject};

/// Indexes of relations $1 that no constraint owns and no parent index
/// attaches (those come with their constraint or parent). For an invalid
/// partitioned index, the indexes attached to it, parents first: each
/// valid one made whole, each invalid one made ON ONLY with what was
/// attached to it in turn.
const INDEXES: &str = "
SELECT i.indrelid, ic.oid::regclass::text AS name, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       i.indisclustered, t.relkind = 'p' AS on_partitioned, t.oid::regclass::text AS table_name,
       i.indisvalid,
       -- Only for the rare invalid one: a subquery run per row.
       CASE WHEN NOT i.indisvalid THEN ARRAY(
           WITH RECURSIVE tree(parent, child, path) AS (
               SELECT inh.inhparent, inh.inhrelid, ARRAY[inh.inhrelid::regclass::text]
               FROM pg_catalog.pg_inherits inh WHERE inh.inhparent = ic.oid
               UNION ALL
               SELECT inh.inhparent, inh.inhrelid, tree.path || inh.inhrelid::regclass::text
               FROM tree
               JOIN pg_catalog.pg_index x ON x.indexrelid = tree.child AND NOT x.indisvalid
               JOIN pg_catalog.pg_inherits inh ON inh.inhparent = tree.child)
           SELECT CASE WHEN x.indisvalid
                       THEN pg_catalog.replace(pg_catalog.pg_get_indexdef(tree.child), ' ON ONLY ', ' ON ')
                       ELSE pg_catalog.pg_get_indexdef(tree.child) END
                  || pg_catalog.format(E';\nALTER INDEX %s ATTACH PARTITION %s;',
                                       tree.parent::regclass::text, tree.child::regclass::text)
           FROM tree JOIN pg_catalog.pg_index x ON x.indexrelid = tree.child
           ORDER BY tree.path) END AS attached,
       i.indexrelid AS oid,
       CASE WHEN pg_catalog.obj_description(ic.oid, 'pg_class') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON INDEX %s IS %L', ic.oid::regclass::text, pg_catalog.obj_description(ic.oid, 'pg_class')) END AS comment
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
WHERE i.indrelid = ANY($1) AND NOT ic.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                    AND c.contype IN ('p', 'u', 'x'))
ORDER BY 2";

/// The indexes of partitions of relations $1 attached to a valid
/// partitioned index, but for keys' (which come with their key), each with
/// the oid of the topmost one and its depth under it, deepest first: made
/// before the partitioned index, each keeps its name and mark (that one
/// attaches them). Climbed from the partitions up, each step an index
/// lookup.
const PARTITION_INDEXES: &str = "
WITH RECURSIVE up(child, parent, depth) AS (
    SELECT x.indexrelid, inh.inhparent, 1
    FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_inherits inh ON inh.inhrelid = x.indexrelid
    WHERE x.indrelid = ANY($1)
    UNION ALL
    SELECT up.child, inh.inhparent, up.depth + 1
    FROM up JOIN pg_catalog.pg_inherits inh ON inh.inhrelid = up.parent)
SELECT up.parent AS root,
       pg_catalog.replace(pg_catalog.pg_get_indexdef(up.child), ' ON ONLY ', ' ON ') || ';'
       || CASE WHEN x.indisclustered THEN
            pg_catalog.format(E'\nALTER TABLE %s CLUSTER ON %I;', x.indrelid::regclass::text, xc.relname)
          ELSE '' END
       || COALESCE(pg_catalog.format(E'\nCOMMENT ON INDEX %s IS %L;', up.child::regclass::text,
                                     pg_catalog.obj_description(up.child, 'pg_class')), '') AS sql
FROM up
JOIN pg_catalog.pg_class rc ON rc.oid = up.parent AND NOT rc.relispartition
JOIN pg_catalog.pg_index r ON r.indexrelid = up.parent AND r.indisvalid
JOIN pg_catalog.pg_index x ON x.indexrelid = up.child
JOIN pg_catalog.pg_class xc ON xc.oid = up.child
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = up.child
                    AND d.refclassid = 'pg_catalog.pg_constraint'::regclass AND d.deptype = 'i')
ORDER BY up.parent, up.depth DESC, up.child::regclass::text";

/// The post-data objects of the indexes of relations `oids`.
pub(super) async fn read(
    client: &Client,
    oids: &[u32],
    roots: &Roots<'_>,
) -> Result<Vec<SchemaObject>> {
    let mut objects = Vec::new();
    let mut partition_indexes = made_before_their_root(client, PARTITION_INDEXES, oids).await?;
    for row in client
        .query(INDEXES, &[&oids])
        .await
        .context("cannot read indexes")?
    {
        let name: String = row.get("name");
        let mut definition: String = row.get("definition");
        let valid: bool = row.get("indisvalid");
        if row.get::<_, bool>("on_partitioned") && valid {
            // pg_get_indexdef says ON ONLY for a partitioned table's index;
            // without ONLY, creating it creates and attaches the partitions'.
            definition = definition.replacen(" ON ONLY ", " ON ", 1);
        }
        let mut sql = partition_indexes
            .remove(&row.get::<_, u32>("oid"))
            .unwrap_or_default();
        sql.push_str(&format!("{definition};"));
        if !valid {
            // Left invalid, as it was: ON ONLY, with only the partitions'
            // indexes that were attached to it.
            for attached in row
                .get::<_, Option<Vec<String>>>("attached")
                .unwrap_or_default()
            {
                sql.push('\n');
                sql.push_str(&attached);
            }
        }
        if row.get::<_, bool>("indisclustered") {
            sql.push_str(&format!(
                "\nALTER TABLE {} CLUSTER ON {};",
                row.get::<_, String>("table_name"),
                unqualified(&name)
            ));
        }
        push_comment(&mut sql, row.get("comment"));
        let root = roots.of(row.get("indrelid"));
        objects.push(SchemaObject::new(
            ObjectKind::Index,
            name,
            Some(root.name.clone()),
            sql,
        ));
    }
    Ok(objects)
}

/// The last part of a quoted qualified name, for `CLUSTER ON`.
fn unqualified(name: &str) -> &str {
    match name.rfind("\".\"") {
        Some(i) => &name[i + 2..],
        None => name.rsplit('.').next().unwrap_or(name),
    }
}
