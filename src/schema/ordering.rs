//! The order objects other than tables are created in: each after what it
//! uses, a base type's shell before its input and output functions, and
//! whatever uses a table (its row type) after the tables.

use std::collections::{HashMap, HashSet};

use super::catalogs::{Catalog, Node};
use super::defined::Defined;
use crate::artifact::SchemaObject;
use crate::graph::{self, Edge};

/// What a used object turned out to stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// Itself, or (internal to it) another object.
    Object(Node),
    /// A relation the dump carries as a table or view.
    Relation,
    /// Nothing to create: an extension's or the system's.
    Nothing,
}

/// Objects in creation order, split at the tables.
#[derive(Debug, Default)]
pub(super) struct Ordered {
    pub early: Vec<SchemaObject>,
    /// After the tables: they use a table, or something that does.
    pub late: Vec<SchemaObject>,
}

/// Order `defined` so each object comes after what it uses (`edges`:
/// user, used). A function a type with a shell is defined by (its input
/// and output functions, a range's canonical function) waits only for the
/// shell.
pub(super) fn order(defined: Vec<Defined>, edges: &[(Node, Target)]) -> Ordered {
    let index: HashMap<Node, usize> = defined
        .iter()
        .enumerate()
        .map(|(i, d)| (d.node, i))
        .collect();
    let mut shells: HashMap<Node, usize> = HashMap::new();
    for d in &defined {
        if d.shell.is_some() {
            shells.insert(d.node, defined.len() + shells.len());
        }
    }
    // The functions each shelled type is defined by: only those are
    // created over its shell; any other function over it waits for it.
    let defining: HashSet<(Node, Node)> = edges
        .iter()
        .filter_map(|(user, used)| match used {
            Target::Object(f)
                if shells.contains_key(user) && f.class == Catalog::Function.class() =>
            {
                Some((*f, *user))
            }
            _ => None,
        })
        .collect();
    let mut late: HashSet<usize> = HashSet::new();
    let mut sort_edges: Vec<Edge> = Vec::new();
    for (user, used) in edges {
        let Some(&from) = index.get(user) else {
            continue;
        };
        match used {
            Target::Relation => {
                late.insert(from);
            }
            Target::Object(used) => {
                let to = match shells.get(used) {
                    Some(&shell) if defining.contains(&(*user, *used)) => Some(shell),
                    _ => index.get(used).copied(),
                };
                if let Some(to) = to.filter(|&to| to != from) {
                    sort_edges.push(Edge { from, to });
                }
            }
            Target::Nothing => {}
        }
    }
    // Whatever uses a late object is late too.
    loop {
        let before = late.len();
        for edge in &sort_edges {
            if late.contains(&edge.to) {
                late.insert(edge.from);
            }
        }
        if late.len() == before {
            break;
        }
    }
    let order = graph::sort(defined.len() + shells.len(), &sort_edges).order;
    let mut slots: Vec<Option<SchemaObject>> = Vec::with_capacity(defined.len() + shells.len());
    let mut shell_objects = Vec::new();
    for d in defined {
        if let Some(shell) = d.shell {
            shell_objects.push(shell);
        }
        slots.push(Some(d.object));
    }
    slots.extend(shell_objects.into_iter().map(Some));
    let mut ordered = Ordered::default();
    for i in order {
        if let Some(object) = slots[i].take() {
            match late.contains(&i) {
                true => ordered.late.push(object),
                false => ordered.early.push(object),
            }
        }
    }
    ordered
}
