//! What a reader of one catalog makes of an object: its DDL (`Ddl`), the
//! object as the dump carries it (`Defined`), and a batch of them.

use anyhow::{Context, Result};
use tokio_postgres::{Client, Row};

use super::catalogs::Node;
use crate::artifact::SchemaObject;

/// An object's DDL, and what it uses that `pg_depend` does not record.
#[derive(Debug)]
pub(super) struct Defined {
    pub node: Node,
    /// The schema it lives in (casts and transforms have none).
    pub schema: Option<String>,
    pub object: SchemaObject,
    pub uses: Vec<Node>,
    /// A base type's (or a range's with a canonical function) shell,
    /// `CREATE TYPE name;`, which its functions are created over.
    pub shell: Option<SchemaObject>,
}

impl Defined {
    pub fn new(node: Node, schema: Option<String>, object: SchemaObject) -> Self {
        Self {
            node,
            schema,
            object,
            uses: Vec::new(),
            shell: None,
        }
    }
}

/// One object's DDL, as a reader of its catalog writes it, and what it is
/// created into (an operator class's family).
#[derive(Debug)]
pub(super) struct Ddl {
    pub oid: u32,
    pub sql: String,
    pub uses: Vec<Node>,
    /// Only a superuser can create it.
    pub superuser: bool,
}

impl Ddl {
    /// The objects `oids` as `query` (taking them as $1) writes them, one
    /// row each with `oid`, `sql` and `superuser`; `what` names them in an
    /// error.
    pub async fn read(client: &Client, query: &str, oids: &[u32], what: &str) -> Result<Vec<Ddl>> {
        Ok(client
            .query(query, &[&oids])
            .await
            .with_context(|| format!("cannot read {what}"))?
            .iter()
            .map(Ddl::from_row)
            .collect())
    }

    /// From a row with `oid`, `sql` and `superuser`.
    pub fn from_row(row: &Row) -> Self {
        Self {
            oid: row.get("oid"),
            sql: row.get("sql"),
            uses: Vec::new(),
            superuser: row.get("superuser"),
        }
    }
}

/// What a batch of one catalog's objects comes to.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub defined: Vec<Defined>,
    /// Objects it cannot carry, each with a sentence naming it and why.
    pub not_carried: Vec<(Node, String)>,
}
