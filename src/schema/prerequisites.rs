//! Everything dumped tables and views need before they can be created:
//! the types (`types`) and functions (`functions`) they use, found by
//! following the catalog's dependencies to a fixpoint, and the extensions
//! (`extensions`) that own some of them; put in an order that creates every
//! object after what it uses. Every query orders its rows, so the same
//! database always gives the same DDL, byte for byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::types::Defined;
use super::{extensions, functions, types};
use crate::artifact::SchemaObject;
use crate::graph::{self, Edge};

/// Column types of relations $1.
const COLUMN_TYPES: &str = "
SELECT DISTINCT a.atttypid FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
UNION
SELECT c.reloftype FROM pg_catalog.pg_class c WHERE c.oid = ANY($1) AND c.reloftype <> 0";

/// What types and functions $1 depend on (domain constraints included).
const DEPENDENCIES: &str = "
SELECT d.objid, d.refobjid FROM pg_catalog.pg_depend d
WHERE d.classid IN ('pg_catalog.pg_type'::regclass, 'pg_catalog.pg_proc'::regclass)
  AND d.objid = ANY($1) AND d.deptype = 'n'
UNION ALL
SELECT c.contypid AS objid, d.refobjid FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::regclass AND d.objid = c.oid
WHERE c.contypid = ANY($1)";

/// What the types and functions of a dump come to.
#[derive(Debug, Default)]
pub struct Prerequisites {
    pub extensions: Vec<SchemaObject>,
    /// Types and functions, each after what it uses.
    pub objects: Vec<SchemaObject>,
    /// Functions that name a table's row type, to create after the tables.
    pub late: Vec<SchemaObject>,
    /// Schemas their objects and the extensions live in.
    pub schemas: BTreeSet<String>,
    pub warnings: Vec<String>,
}

/// What the fixpoint has found so far.
#[derive(Debug, Default)]
struct Found {
    types: BTreeSet<u32>,
    functions: BTreeSet<u32>,
    domains: Vec<u32>,
    /// Array type -> element type: an array stands for its element.
    array_element: HashMap<u32, u32>,
    extensions: BTreeSet<String>,
    defined: Vec<Defined>,
    warnings: Vec<String>,
}

/// Functions (procedures, aggregates) and types (enums, domains, composite
/// and range types) of schemas $1, but those an extension owns, those
/// standing for a table or view, and arrays.
const SCHEMA_CONTENTS: &str = "
SELECT p.oid, true AS function
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT t.oid, false
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY($1) AND t.typtype IN ('e', 'd', 'c', 'r')
  AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')";

/// Everything relations `relation_oids` and views `view_oids` need, and
/// every function and type of schemas `whole` (a dump of whole schemas
/// carries an application's SQL API too: functions no table uses).
pub async fn read(
    client: &Client,
    relation_oids: &[u32],
    view_oids: &[u32],
    whole: &[String],
) -> Result<Prerequisites> {
    let mut with_views = relation_oids.to_vec();
    with_views.extend(view_oids);
    let mut type_queue: Vec<u32> = client
        .query(COLUMN_TYPES, &[&with_views])
        .await
        .context("cannot read column types")?
        .iter()
        .map(|r| r.get("atttypid"))
        .collect();
    let mut found = Found::default();
    found
        .extensions
        .extend(extensions::used_through_operators(client, relation_oids, view_oids).await?);
    let mut seeded_functions = Vec::new();
    if !whole.is_empty() {
        for row in client
            .query(SCHEMA_CONTENTS, &[&whole])
            .await
            .context("cannot read the functions and types of the dumped schemas")?
        {
            match row.get::<_, bool>("function") {
                true => seeded_functions.push(row.get::<_, u32>("oid")),
                false => type_queue.push(row.get("oid")),
            }
        }
    }
    loop {
        let mut batch = std::mem::take(&mut type_queue);
        batch.retain(|t| found.types.insert(*t));
        let types = types::read(client, &batch).await?;
        type_queue.extend(&types.more);
        found.domains.extend(&types.domains);
        found.array_element.extend(types.arrays);
        found.absorb(types.defined, types.extensions, types.warnings);

        let known: Vec<u32> = found.functions.iter().copied().collect();
        let mut function_queue =
            functions::used_by(client, relation_oids, &found.domains, view_oids, &known).await?;
        function_queue.append(&mut seeded_functions);
        function_queue.retain(|f| found.functions.insert(*f));
        if batch.is_empty() && function_queue.is_empty() && type_queue.is_empty() {
            break;
        }
        let functions = functions::read(client, &function_queue).await?;
        type_queue.extend(&functions.types);
        found.absorb(functions.defined, functions.extensions, functions.warnings);
    }
    found.into_prerequisites(client).await
}

impl Found {
    fn absorb(&mut self, defined: Vec<Defined>, extensions: Vec<String>, warnings: Vec<String>) {
        self.defined.extend(defined);
        self.extensions.extend(extensions);
        self.warnings.extend(warnings);
    }

    async fn into_prerequisites(self, client: &Client) -> Result<Prerequisites> {
        let mut schemas: BTreeSet<String> = self.defined.iter().map(|d| d.schema.clone()).collect();
        let (late, objects): (Vec<Defined>, Vec<Defined>) =
            order(client, self.defined, &self.array_element)
                .await?
                .into_iter()
                .partition(|d| d.late);
        let objects = objects.into_iter().map(|d| d.object).collect();
        let late = late.into_iter().map(|d| d.object).collect();
        let names: Vec<String> = self.extensions.into_iter().collect();
        let mut extensions = Vec::new();
        for (object, schema) in extensions::read(client, &names).await? {
            schemas.insert(schema);
            extensions.push(object);
        }
        Ok(Prerequisites {
            extensions,
            objects,
            late,
            schemas,
            warnings: self.warnings,
        })
    }
}

/// Order types and functions so each comes after what it uses.
async fn order(
    client: &Client,
    nodes: Vec<Defined>,
    array_element: &HashMap<u32, u32>,
) -> Result<Vec<Defined>> {
    let index: BTreeMap<u32, usize> = nodes.iter().enumerate().map(|(i, n)| (n.oid, i)).collect();
    let oids: Vec<u32> = nodes.iter().map(|n| n.oid).collect();
    let resolve = |oid: u32| array_element.get(&oid).copied().unwrap_or(oid);
    let mut edges: Vec<Edge> = Vec::new();
    for row in client
        .query(DEPENDENCIES, &[&oids])
        .await
        .context("cannot read type and function dependencies")?
    {
        let (from, to): (u32, u32) = (row.get("objid"), row.get("refobjid"));
        if let (Some(&from), Some(&to)) = (index.get(&from), index.get(&resolve(to))) {
            edges.push(Edge { from, to });
        }
    }
    for (from, node) in nodes.iter().enumerate() {
        for used in &node.uses {
            if let Some(&to) = index.get(&resolve(*used)) {
                edges.push(Edge { from, to });
            }
        }
    }
    let order = graph::sort(nodes.len(), &edges).order;
    let mut slots: Vec<Option<Defined>> = nodes.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
