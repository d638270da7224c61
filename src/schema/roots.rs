//! Which dumped table each relation belongs to: an object on a partition is
//! created exactly when its partitioned table is.

use std::collections::HashMap;

use crate::catalog::{Relation, Table};

/// The table each relation (a table or a partition) belongs to.
#[derive(Debug)]
pub(super) struct Roots<'a> {
    by_relation: HashMap<u32, &'a Table>,
}

impl<'a> Roots<'a> {
    pub(super) fn new(tables: &'a [Table], relations: &[Relation]) -> Self {
        let by_table: HashMap<u32, &Table> = tables.iter().map(|t| (t.oid, t)).collect();
        Self {
            by_relation: relations
                .iter()
                .filter_map(|r| by_table.get(&r.table_oid).map(|t| (r.oid, *t)))
                .collect(),
        }
    }

    pub(super) fn of(&self, relation: u32) -> &'a Table {
        self.by_relation[&relation]
    }
}
