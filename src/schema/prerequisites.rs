//! Everything dumped tables and views need before they can be created, and
//! everything the schemas dumped whole hold: types, functions, operators,
//! operator classes and families, casts, transforms, collations,
//! conversions and text search objects. Found by following `pg_depend` from
//! the tables to a fixpoint, one query per step over the whole frontier
//! (never one per object), and put in an order that creates every object
//! after what it uses.
//!
//! An object an extension owns stands for the extension; one internal to
//! another (an array type, a multirange, a range's constructors) for its
//! owner; one over a table's row type is created after the tables. Every
//! query orders its rows, so the same database gives the same DDL.

use std::collections::{BTreeSet, HashMap, HashSet};

use anyhow::{bail, Context, Result};
use tokio_postgres::Client;

use super::catalogs::{Catalog, Node, RELATION_CLASS};
use super::defined::Defined;
use super::extensions;
use super::objects;
use super::ordering::{self, Target as Resolved};
use crate::artifact::SchemaObject;

/// What relations $1 (tables and views) and their parts (defaults,
/// constraints, indexes, rules, triggers, policies, statistics) use: types,
/// collations, functions, operators, operator classes, anything of a user's.
const RELATION_REFS: &str = "
SELECT DISTINCT d.refclassid, d.refobjid FROM pg_catalog.pg_depend d
WHERE d.refobjid >= 16384 AND d.deptype = 'n'
  AND d.refclassid NOT IN ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_namespace'::regclass)
  AND ((d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = ANY($1))
    OR (d.classid = 'pg_catalog.pg_attrdef'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_attrdef WHERE adrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_constraint'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_constraint WHERE conrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_class'::regclass
        AND d.objid IN (SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_rewrite'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_rewrite WHERE ev_class = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_trigger'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_trigger WHERE tgrelid = ANY($1) AND NOT tgisinternal))
    OR (d.classid = 'pg_catalog.pg_policy'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_policy WHERE polrelid = ANY($1)))
    OR (d.classid = 'pg_catalog.pg_statistic_ext'::regclass
        AND d.objid IN (SELECT oid FROM pg_catalog.pg_statistic_ext WHERE stxrelid = ANY($1))))
ORDER BY 1, 2";

/// What objects ($1 catalogs, $2 oids) use, with what their parts use: a
/// domain's constraints, a composite type's attributes (its relation,
/// internal to it; not a table whose generated column has the type, which
/// depends on it automatically), an operator class's or family's operators
/// and functions. A composite type's relation stands for the type.
const NODE_REFS: &str = "
WITH nodes AS (SELECT * FROM unnest($1::oid[], $2::oid[]) AS u(classid, objid)),
parts AS (
    SELECT n.classid, n.objid, n.classid AS owner_class, n.objid AS owner FROM nodes n
    UNION ALL
    SELECT m.classid, m.objid, n.classid, n.objid FROM nodes n
    JOIN pg_catalog.pg_depend m
      ON m.refclassid = n.classid AND m.refobjid = n.objid AND m.deptype IN ('a', 'i')
    WHERE (n.classid = 'pg_catalog.pg_type'::regclass
           AND ((m.classid = 'pg_catalog.pg_constraint'::regclass AND m.deptype = 'a')
                OR (m.classid = 'pg_catalog.pg_class'::regclass AND m.deptype = 'i')))
       OR (n.classid IN ('pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass)
           AND m.classid IN ('pg_catalog.pg_amop'::regclass, 'pg_catalog.pg_amproc'::regclass))
)
SELECT DISTINCT p.owner_class, p.owner,
       CASE WHEN c.relkind = 'c' THEN 'pg_catalog.pg_type'::regclass::oid ELSE d.refclassid END
         AS refclassid,
       CASE WHEN c.relkind = 'c' THEN c.reltype ELSE d.refobjid END AS refobjid
FROM parts p
JOIN pg_catalog.pg_depend d
  ON d.classid = p.classid AND d.objid = p.objid
 AND (d.deptype = 'n' OR (d.deptype = 'a' AND p.classid <> p.owner_class))
LEFT JOIN pg_catalog.pg_class c ON d.refclassid = 'pg_catalog.pg_class'::regclass AND c.oid = d.refobjid
WHERE d.refobjid >= 16384 AND d.refclassid <> 'pg_catalog.pg_namespace'::regclass
  AND NOT (d.refclassid = p.owner_class AND d.refobjid = p.owner)
ORDER BY 1, 2, 3, 4";

/// For objects $1/$2: the extension that owns each, or the object it is
/// internal to (an array's element type, a multirange's range, a table's
/// row type's table), and how the server describes it.
const RESOLVE: &str = "
SELECT u.classid, u.objid,
       (SELECT e.extname::text FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = u.classid AND d.objid = u.objid AND d.deptype = 'e'
          AND d.refclassid = 'pg_catalog.pg_extension'::regclass LIMIT 1) AS extension,
       o.refclassid AS owner_class, o.refobjid AS owner,
       pg_catalog.pg_describe_object(u.classid, u.objid, 0) AS description
FROM unnest($1::oid[], $2::oid[]) AS u(classid, objid)
LEFT JOIN LATERAL (
    SELECT d.refclassid, d.refobjid FROM pg_catalog.pg_depend d
    WHERE d.classid = u.classid AND d.objid = u.objid AND d.deptype = 'i'
    ORDER BY d.refclassid <> 'pg_catalog.pg_type'::regclass, d.refobjid LIMIT 1) o ON true
ORDER BY 1, 2";

/// Catalogs of a relation's parts: an object that uses one of them uses
/// the relation, and waits for the tables.
const RELATION_PARTS: [u32; 6] = [
    RELATION_CLASS,
    2604, // pg_attrdef
    2606, // pg_constraint
    2618, // pg_rewrite
    2620, // pg_trigger
    3256, // pg_policy
];

/// What the types, functions and the rest of a dump come to.
#[derive(Debug, Default)]
pub struct Prerequisites {
    pub extensions: Vec<SchemaObject>,
    /// Each after what it uses.
    pub objects: Vec<SchemaObject>,
    /// Objects that use a table (its row type), to create after the tables.
    pub late: Vec<SchemaObject>,
    /// Schemas their objects and the extensions live in.
    pub schemas: BTreeSet<String>,
    /// The functions and types among them (whose privileges a dump may carry).
    pub functions: Vec<u32>,
    pub types: Vec<u32>,
    pub warnings: Vec<String>,
}

/// The fixpoint's state.
#[derive(Debug, Default)]
struct Walk {
    seen: HashSet<Node>,
    resolved: HashMap<Node, Resolved>,
    defined: Vec<Defined>,
    /// (user, used), as found.
    refs: Vec<(Node, Node)>,
    /// Objects something carried uses (not merely found in a dumped schema).
    needed: HashSet<Node>,
    extensions: BTreeSet<String>,
    /// Not carried: the description and the reason.
    not_carried: Vec<(Node, String)>,
}

/// Everything relations `relation_oids` and views `view_oids` need, and
/// every object of schemas `whole` (a dump of whole schemas carries an
/// application's SQL API too: functions no table uses).
pub async fn read(
    client: &Client,
    relation_oids: &[u32],
    view_oids: &[u32],
    whole: &[String],
) -> Result<Prerequisites> {
    let mut relations = relation_oids.to_vec();
    relations.extend(view_oids);
    let mut walk = Walk::default();
    let mut frontier: Vec<Node> = Vec::new();
    for row in client
        .query(RELATION_REFS, &[&relations])
        .await
        .context("cannot read what the tables use")?
    {
        let node = Node {
            class: row.get("refclassid"),
            oid: row.get("refobjid"),
        };
        walk.needed.insert(node);
        frontier.push(node);
    }
    if !whole.is_empty() {
        frontier.extend(objects::of_schemas(client, whole).await?);
    }
    while !frontier.is_empty() {
        frontier = walk.step(client, frontier).await?;
    }
    walk.finish(client).await
}

impl Walk {
    /// Resolve and read `frontier`; returns what the objects read use.
    async fn step(&mut self, client: &Client, frontier: Vec<Node>) -> Result<Vec<Node>> {
        let batch: Vec<Node> = frontier
            .into_iter()
            .filter(|n| self.seen.insert(*n))
            .collect();
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (classes, oids) = columns(&batch);
        let mut next = Vec::new();
        let mut to_read: HashMap<Catalog, Vec<u32>> = HashMap::new();
        for row in client
            .query(RESOLVE, &[&classes, &oids])
            .await
            .context("cannot tell which objects extensions own")?
        {
            let node = Node {
                class: row.get("classid"),
                oid: row.get("objid"),
            };
            let owner: Option<u32> = row.get("owner");
            let resolved = if let Some(extension) = row.get::<_, Option<String>>("extension") {
                self.extensions.insert(extension);
                Resolved::Nothing
            } else if let Some(owner) = owner {
                let owner_class: u32 = row.get("owner_class");
                if RELATION_PARTS.contains(&owner_class) {
                    Resolved::Relation
                } else {
                    let owner = Node {
                        class: owner_class,
                        oid: owner,
                    };
                    if self.needed.contains(&node) {
                        self.needed.insert(owner);
                    }
                    next.push(owner);
                    Resolved::Object(owner)
                }
            } else if RELATION_PARTS.contains(&node.class) {
                Resolved::Relation
            } else if let Some(catalog) = Catalog::of(node.class) {
                to_read.entry(catalog).or_default().push(node.oid);
                Resolved::Object(node)
            } else {
                let description: String = row.get("description");
                self.not_carried.push((
                    node,
                    format!("{description} is of a kind a dump does not carry"),
                ));
                Resolved::Nothing
            };
            self.resolved.insert(node, resolved);
        }
        let mut read = Vec::new();
        for catalog in Catalog::ALL {
            if let Some(oids) = to_read.get(&catalog) {
                let batch = objects::read(client, catalog, oids).await?;
                self.not_carried.extend(batch.not_carried);
                read.extend(batch.defined.iter().map(|d| d.node));
                self.defined.extend(batch.defined);
            }
        }
        next.extend(self.refs_of(client, &read).await?);
        Ok(next)
    }

    /// Record what `nodes` use; returns the used objects.
    async fn refs_of(&mut self, client: &Client, nodes: &[Node]) -> Result<Vec<Node>> {
        let mut used: Vec<Node> = self
            .defined
            .iter()
            .filter(|d| nodes.contains(&d.node))
            .flat_map(|d| d.uses.iter().map(move |u| (d.node, *u)))
            .map(|(user, used)| {
                self.refs.push((user, used));
                used
            })
            .collect();
        let (classes, oids) = columns(nodes);
        for row in client
            .query(NODE_REFS, &[&classes, &oids])
            .await
            .context("cannot read what types and functions use")?
        {
            let user = Node {
                class: row.get("owner_class"),
                oid: row.get("owner"),
            };
            let target = Node {
                class: row.get("refclassid"),
                oid: row.get("refobjid"),
            };
            self.refs.push((user, target));
            used.push(target);
        }
        self.needed.extend(&used);
        Ok(used)
    }

    /// What `node` finally stands for.
    fn resolve(&self, mut node: Node) -> Resolved {
        for _ in 0..8 {
            match self.resolved.get(&node) {
                Some(Resolved::Object(owner)) if *owner != node => node = *owner,
                Some(resolved) => return *resolved,
                None => return Resolved::Nothing,
            }
        }
        Resolved::Nothing
    }

    async fn finish(self, client: &Client) -> Result<Prerequisites> {
        let missing: Vec<String> = self
            .not_carried
            .iter()
            .filter(|(node, _)| self.needed.contains(node))
            .map(|(_, why)| why.clone())
            .collect();
        if !missing.is_empty() {
            bail!(
                "cannot dump: the dumped objects need what a dump cannot carry: {}",
                missing.join("; ")
            );
        }
        let edges: Vec<(Node, Resolved)> = self
            .refs
            .iter()
            .map(|(user, used)| (*user, self.resolve(*used)))
            .collect();
        let of_catalog = |catalog: Catalog| -> Vec<u32> {
            self.defined
                .iter()
                .filter(|d| d.node.class == catalog.class())
                .map(|d| d.node.oid)
                .collect()
        };
        let (functions, types) = (of_catalog(Catalog::Function), of_catalog(Catalog::Type));
        let mut schemas: BTreeSet<String> = self
            .defined
            .iter()
            .filter_map(|d| d.schema.clone())
            .collect();
        let ordered = ordering::order(self.defined, &edges);
        let names: Vec<String> = self.extensions.into_iter().collect();
        let mut extensions = Vec::new();
        for (object, schema) in extensions::read(client, &names).await? {
            schemas.insert(schema);
            extensions.push(object);
        }
        Ok(Prerequisites {
            extensions,
            objects: ordered.early,
            late: ordered.late,
            schemas,
            functions,
            types,
            warnings: self.not_carried.into_iter().map(|(_, why)| why).collect(),
        })
    }
}

/// Nodes as the two arrays the queries unnest.
fn columns(nodes: &[Node]) -> (Vec<u32>, Vec<u32>) {
    nodes.iter().map(|n| (n.class, n.oid)).unzip()
}
