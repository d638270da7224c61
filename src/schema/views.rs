//! Views and materialized views over dumped tables: carried when everything
//! they read is carried, in an order that creates each after what it reads.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::relation_comments;
use crate::artifact::{ObjectKind, SchemaObject};

/// Views and materialized views reading any of relations $1 (not in $1).
const READERS: &str = "
SELECT DISTINCT r.ev_class
FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ANY($1)
  AND r.ev_class <> ALL($1) AND v.relkind IN ('v', 'm')";

/// Views and materialized views of schemas $1 that read no relation at
/// all (`SELECT 1 AS version`): carried with their schema.
const READING_NOTHING: &str = "
SELECT c.oid AS ev_class
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r
                  JOIN pg_catalog.pg_depend d
                    ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
                  WHERE r.ev_class = c.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
                    AND d.refobjid <> c.oid)";

/// Views $1, each with what it is and the relations it reads (oids and
/// names in the same order).
const VIEWS: &str = "
WITH reads AS (
    SELECT r.ev_class AS view, pg_catalog.array_agg(DISTINCT d.refobjid) AS oids
    FROM pg_catalog.pg_rewrite r
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
    WHERE r.ev_class = ANY($1) AND d.refclassid = 'pg_catalog.pg_class'::regclass
      AND d.refobjid <> r.ev_class
    GROUP BY r.ev_class
)
SELECT c.oid, c.oid::regclass::text AS name, c.relkind = 'm' AS materialized,
       c.relispopulated AS populated,
       pg_catalog.pg_get_viewdef(c.oid) AS definition, c.reloptions::text[] AS options, n.nspname,
       (SELECT pg_catalog.quote_ident(am.amname) FROM pg_catalog.pg_am am
        WHERE am.oid = c.relam AND am.amname <> 'heap') AS access_method,
       ARRAY(SELECT u.o FROM unnest(x.oids) AS u(o) ORDER BY u.o) AS reads,
       ARRAY(SELECT u.o::regclass::text FROM unnest(x.oids) AS u(o) ORDER BY u.o) AS read_names
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN reads x ON x.view = c.oid
WHERE c.oid = ANY($1)
ORDER BY c.oid";

/// Indexes of materialized views $1, and their columns' storage and
/// compression where set (`attcompression` is new in PostgreSQL 14: read
/// through the row).
const MATVIEW_INDEXES: &str = "
SELECT i.indrelid, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
FROM pg_catalog.pg_index i WHERE i.indrelid = ANY($1)
UNION ALL
SELECT a.attrelid, pg_catalog.format('ALTER TABLE ONLY %s ALTER COLUMN %I SET %s', a.attrelid::regclass::text,
         a.attname, setting)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid,
LATERAL (VALUES (CASE pg_catalog.to_jsonb(a) ->> 'attcompression' WHEN 'l' THEN 'COMPRESSION lz4'
                                                                  WHEN 'p' THEN 'COMPRESSION pglz' END),
                (CASE WHEN a.attstorage <> t.typstorage THEN
                      'STORAGE ' || CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                                      WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END END))
        AS s(setting)
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped AND s.setting IS NOT NULL
ORDER BY 1, 2";

#[derive(Debug, Default)]
pub struct Views {
    /// In creation order.
    pub objects: Vec<SchemaObject>,
    pub oids: Vec<u32>,
    pub schemas: BTreeSet<String>,
    pub warnings: Vec<String>,
}

struct Candidate {
    name: String,
    materialized: bool,
    /// A materialized view's data was computed (`WITH DATA`).
    populated: bool,
    definition: String,
    options: Option<Vec<String>>,
    /// A materialized view's table access method other than heap.
    access_method: Option<String>,
    schema: String,
    reads: Vec<u32>,
    read_names: Vec<String>,
}

/// Views over `relation_oids`, and views over those, as far as they reach;
/// and the views of schemas `whole` that read nothing.
pub async fn read(client: &Client, relation_oids: &[u32], whole: &[String]) -> Result<Views> {
    let mut carried: Vec<u32> = relation_oids.to_vec();
    let mut waiting: HashMap<u32, Candidate> = HashMap::new();
    let mut views = Views::default();
    let mut reading_nothing = client
        .query(READING_NOTHING, &[&whole])
        .await
        .context("cannot read views")?;
    loop {
        let mut rows = client
            .query(READERS, &[&carried])
            .await
            .context("cannot read views")?;
        rows.append(&mut reading_nothing);
        let mut new: Vec<u32> = rows.iter().map(|r| r.get("ev_class")).collect();
        new.retain(|oid| !waiting.contains_key(oid));
        new.sort_unstable();
        new.dedup();
        for view in client
            .query(VIEWS, &[&new])
            .await
            .context("cannot read views")?
        {
            waiting.insert(
                view.get("oid"),
                Candidate {
                    name: view.get("name"),
                    materialized: view.get("materialized"),
                    populated: view.get("populated"),
                    definition: view.get("definition"),
                    options: view.get("options"),
                    access_method: view.get("access_method"),
                    schema: view.get("nspname"),
                    reads: view.get("reads"),
                    read_names: view.get("read_names"),
                },
            );
        }
        let ready: Vec<u32> = waiting
            .iter()
            .filter(|(_, c)| c.reads.iter().all(|r| carried.contains(r)))
            .map(|(oid, _)| *oid)
            .collect();
        if ready.is_empty() {
            break;
        }
        let mut ready: Vec<(u32, Candidate)> = ready
            .into_iter()
            .filter_map(|oid| waiting.remove(&oid).map(|c| (oid, c)))
            .collect();
        ready.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        for (oid, candidate) in ready {
            carried.push(oid);
            views.oids.push(oid);
            views.schemas.insert(candidate.schema.clone());
            views.objects.push(view_object(candidate));
        }
    }
    for candidate in waiting.values() {
        let missing: Vec<&str> = candidate
            .reads
            .iter()
            .zip(&candidate.read_names)
            .filter(|(oid, _)| !carried.contains(oid))
            .map(|(_, name)| name.as_str())
            .collect();
        views.warnings.push(format!(
            "view {} reads {}, which the artifact does not hold; the view is not carried",
            candidate.name,
            missing.join(", ")
        ));
    }
    views.warnings.sort();
    add_comments_and_indexes(client, &mut views).await?;
    Ok(views)
}

fn view_object(candidate: Candidate) -> SchemaObject {
    let definition = candidate.definition.trim().trim_end_matches(';');
    let options = candidate
        .options
        .filter(|o| !o.is_empty())
        .map(|o| format!(" WITH ({})", o.join(", ")))
        .unwrap_or_default();
    let (kind, sql) = if candidate.materialized {
        (
            ObjectKind::MaterializedView,
            format!(
                "CREATE MATERIALIZED VIEW {}{}{options} AS\n{definition}\nWITH {}DATA;",
                candidate.name,
                candidate
                    .access_method
                    .map(|method| format!(" USING {method}"))
                    .unwrap_or_default(),
                if candidate.populated { "" } else { "NO " }
            ),
        )
    } else {
        (
            ObjectKind::View,
            format!("CREATE VIEW {}{options} AS\n{definition};", candidate.name),
        )
    };
    SchemaObject::new(kind, candidate.name, None, sql)
}

/// Each view's indexes (a materialized view's), rules and comments, after
/// its `CREATE`.
async fn add_comments_and_indexes(client: &Client, views: &mut Views) -> Result<()> {
    let comments = relation_comments(client, &views.oids).await?;
    let mut indexes: HashMap<u32, Vec<String>> = HashMap::new();
    for row in client
        .query(MATVIEW_INDEXES, &[&views.oids])
        .await
        .context("cannot read materialized view indexes")?
    {
        indexes
            .entry(row.get("indrelid"))
            .or_default()
            .push(row.get("definition"));
    }
    let rules = super::rules::read(client, &views.oids).await?;
    for (object, oid) in views.objects.iter_mut().zip(&views.oids) {
        for rule in rules.get(oid).into_iter().flatten() {
            object.sql.push('\n');
            object.sql.push_str(&rule.sql);
        }
        for statement in indexes
            .get(oid)
            .into_iter()
            .flatten()
            .chain(comments.get(oid).into_iter().flatten())
        {
            object.sql.push('\n');
            object.sql.push_str(statement);
            object.sql.push(';');
        }
    }
    Ok(())
}
