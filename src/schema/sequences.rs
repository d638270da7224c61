//! Sequence DDL: `CREATE SEQUENCE` with every option, and `OWNED BY` for
//! serial columns of dumped tables. Identity sequences come with their
//! column (see `tables.rs`), which reads their options here.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::push_comment;
use crate::artifact::{ObjectKind, SchemaObject};
use crate::catalog::Table;
use crate::ident::QualifiedName;

/// Sequences by quoted name ($1 text[]), with their options, how they are
/// owned ('a' serial, 'i' identity) and, for serial, the owning column.
pub(super) const SEQUENCES: &str = "
SELECT s.seqrelid::regclass::text AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type_name,
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       d.deptype::text AS owned, d.refobjid AS owner,
       (SELECT c.relpersistence = 'u' FROM pg_catalog.pg_class c WHERE c.oid = s.seqrelid) AS unlogged,
       CASE WHEN a.attname IS NOT NULL THEN
            pg_catalog.format('%s.%I', d.refobjid::regclass::text, a.attname) END AS owner_column,
       CASE WHEN pg_catalog.obj_description(s.seqrelid, 'pg_class') IS NOT NULL THEN
         pg_catalog.format('COMMENT ON SEQUENCE %s IS %L', s.seqrelid::regclass::text, pg_catalog.obj_description(s.seqrelid, 'pg_class')) END AS comment
FROM pg_catalog.pg_sequence s
LEFT JOIN pg_catalog.pg_depend d
       ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.seqrelid
      AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE s.seqrelid = ANY($1::text[]::regclass[])
ORDER BY 1";

/// Sequence DDL: `CREATE SEQUENCE` for every sequence but identity ones
/// (their column creates them), and `OWNED BY` for serial ones owned by a
/// column of `tables`.
pub async fn sequences(
    client: &Client,
    names: &[QualifiedName],
    tables: &[Table],
) -> Result<Vec<SchemaObject>> {
    let quoted: Vec<String> = names.iter().map(|n| n.quoted()).collect();
    let by_oid: HashMap<u32, &Table> = tables.iter().map(|t| (t.oid, t)).collect();
    let mut create = Vec::new();
    let mut owners = Vec::new();
    for row in client
        .query(SEQUENCES, &[&quoted])
        .await
        .context("cannot read sequence definitions")?
    {
        let name: String = row.get("name");
        let deptype: Option<String> = row.get("owned");
        if deptype.as_deref() == Some("i") {
            continue;
        }
        let options = SequenceOptions::from_row(&row);
        let unlogged = if row.get("unlogged") { "UNLOGGED " } else { "" };
        let mut sql = format!(
            "CREATE {unlogged}SEQUENCE {name} AS {};",
            options.render_with_type()
        );
        push_comment(&mut sql, row.get("comment"));
        create.push(SchemaObject::new(
            ObjectKind::Sequence,
            name.clone(),
            None,
            sql,
        ));
        let owner: Option<u32> = row.get("owner");
        if let (Some("a"), Some(table)) = (deptype.as_deref(), owner.and_then(|o| by_oid.get(&o))) {
            let column: String = row.get("owner_column");
            owners.push(SchemaObject::new(
                ObjectKind::SequenceOwner,
                name.clone(),
                Some(table.name.clone()),
                format!("ALTER SEQUENCE {name} OWNED BY {column};"),
            ));
        }
    }
    create.extend(owners);
    Ok(create)
}

/// A sequence's options as `CREATE SEQUENCE` and identity columns take them.
pub(super) struct SequenceOptions {
    type_name: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
}

impl SequenceOptions {
    /// From a row of [`SEQUENCES`].
    pub(super) fn from_row(row: &tokio_postgres::Row) -> Self {
        Self {
            type_name: row.get("type_name"),
            start: row.get("seqstart"),
            increment: row.get("seqincrement"),
            min: row.get("seqmin"),
            max: row.get("seqmax"),
            cache: row.get("seqcache"),
            cycle: row.get("seqcycle"),
        }
    }

    pub(super) fn render(&self) -> String {
        format!(
            "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {} {}",
            self.start,
            self.increment,
            self.min,
            self.max,
            self.cache,
            if self.cycle { "CYCLE" } else { "NO CYCLE" }
        )
    }

    fn render_with_type(&self) -> String {
        format!("{} {}", self.type_name, self.render())
    }
}
