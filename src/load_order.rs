//! Read the chosen tables and their foreign keys from a live database and
//! put them in restore order: the shared first step of `dump` and `plan`.

use std::collections::HashMap;

use anyhow::Result;
use tokio_postgres::Client;

use crate::catalog::{self, ForeignKey, Table};
use crate::graph::{self, Edge};
use crate::ident::QualifiedName;
use crate::selection::TableSelection;

/// Tables in restore order with the foreign keys among them.
#[derive(Debug)]
pub struct LoadOrder {
    pub tables: Vec<Table>,
    /// Foreign keys between the chosen tables, each with whether it needs deferral.
    pub foreign_keys: Vec<(ForeignKey, bool)>,
    pub cycles: Vec<Vec<QualifiedName>>,
    pub self_references: Vec<QualifiedName>,
    /// Migration bookkeeping tables the selection left out.
    pub left_out: Vec<QualifiedName>,
    /// Foreign keys of the chosen tables to tables that are not chosen.
    pub outside_foreign_keys: Vec<ForeignKey>,
}

/// Read and order the selected tables. Call inside the dump's snapshot.
pub async fn read(client: &Client, selection: &TableSelection) -> Result<LoadOrder> {
    let selected = selection.apply(catalog::list_tables(client).await?)?;
    let tables = selected.tables;
    let oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
    let relations = catalog::relations(client, &oids).await?;
    let relation_oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();
    let index: HashMap<u32, usize> = oids.iter().enumerate().map(|(i, &o)| (o, i)).collect();
    let (foreign_keys, outside_foreign_keys): (Vec<ForeignKey>, Vec<ForeignKey>) =
        catalog::foreign_keys(client, &relation_oids)
            .await?
            .into_iter()
            .filter(|fk| index.contains_key(&fk.table_oid))
            .partition(|fk| index.contains_key(&fk.referenced_oid));
    let edges: Vec<Edge> = foreign_keys
        .iter()
        .map(|fk| Edge {
            from: index[&fk.table_oid],
            to: index[&fk.referenced_oid],
        })
        .collect();
    let sorted = graph::sort(tables.len(), &edges);
    let name = |i: usize| tables[i].name.clone();
    let cycles = sorted
        .cycles
        .iter()
        .map(|c| c.iter().map(|&i| name(i)).collect())
        .collect();
    let self_references = sorted.self_references.iter().map(|&i| name(i)).collect();
    let foreign_keys = foreign_keys
        .into_iter()
        .zip(sorted.needs_deferral)
        .collect();
    let mut slots: Vec<Option<Table>> = tables.into_iter().map(Some).collect();
    let tables = sorted
        .order
        .iter()
        .map(|&i| slots[i].take().expect("each table ordered once"))
        .collect();
    Ok(LoadOrder {
        tables,
        foreign_keys,
        cycles,
        self_references,
        left_out: selected.left_out,
        outside_foreign_keys,
    })
}
