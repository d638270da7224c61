//! Inheritance children: what `INHERITS` alone would not give them.
//! Columns standing in another order (the child was made on its own and
//! joined its parent with `ALTER TABLE ... INHERIT`): created so, and
//! joined the same way, where pg_dump writes `INHERITS` and the restored
//! child takes its parents' order. NOT NULL of their own on inherited
//! columns: stated.

use std::collections::HashMap;

use super::shapes::{ColumnDef, Shell};
use crate::ident::quote_ident;

/// For an inheritance child whose column order is not `INHERITS`'s
/// (each parent's columns first, in order, then its own), the child as a
/// table of its own and the statements joining it to its parents. Only
/// when every column is its own (`attislocal`), as such a child's are.
pub(super) fn joined_child(
    shell: &Shell,
    shells: &HashMap<u32, Shell>,
    columns: &HashMap<u32, Vec<ColumnDef>>,
    oid: u32,
) -> Option<(Shell, String)> {
    if shell.is_partition || shell.parents.is_empty() {
        return None;
    }
    let own = columns.get(&oid)?;
    if !own.iter().all(|c| c.local) {
        return None;
    }
    let mut expected: Vec<&str> = Vec::new();
    for parent in &shell.parents {
        let (parent_oid, _) = shells.iter().find(|(_, s)| &s.name == parent)?;
        for column in columns.get(parent_oid).into_iter().flatten() {
            if !expected.contains(&column.name.as_str()) {
                expected.push(&column.name);
            }
        }
    }
    for column in own {
        if !expected.contains(&column.name.as_str()) {
            expected.push(&column.name);
        }
    }
    let actual: Vec<&str> = own.iter().map(|c| c.name.as_str()).collect();
    if actual == expected {
        return None;
    }
    let join = shell
        .parents
        .iter()
        .map(|parent| format!("ALTER TABLE {} INHERIT {parent};", shell.name))
        .collect::<Vec<_>>()
        .join("\n");
    let standalone = Shell {
        parents: Vec::new(),
        ..shell.clone()
    };
    Some((standalone, join))
}

/// The columns an inheritance child inherits but holds NOT NULL on of its
/// own: set on the child alone, or (PostgreSQL 18) validated on the child
/// while every parent's is NOT VALID. `INHERITS` alone would leave them
/// nullable, or give them the parent's constraint, not yet valid.
pub(super) fn own_not_nulls<'a>(
    shell: &Shell,
    shells: &HashMap<u32, Shell>,
    columns: &'a HashMap<u32, Vec<ColumnDef>>,
    oid: u32,
) -> Vec<&'a ColumnDef> {
    if shell.is_partition || shell.parents.is_empty() {
        return Vec::new();
    }
    let parents: Vec<&Vec<ColumnDef>> = shell
        .parents
        .iter()
        .filter_map(|parent| {
            let (parent_oid, _) = shells.iter().find(|(_, s)| &s.name == parent)?;
            columns.get(parent_oid)
        })
        .collect();
    let valid_in_a_parent = |name: &str| {
        parents
            .iter()
            .flat_map(|p| p.iter())
            .any(|p| p.name == name && p.not_null)
    };
    columns
        .get(&oid)
        .into_iter()
        .flatten()
        .filter(|c| !c.local && c.not_null)
        .filter(|c| c.not_null_local || !valid_in_a_parent(&c.name))
        .collect()
}

/// Such a NOT NULL as an element of the child's `CREATE TABLE`: from
/// PostgreSQL 18, named and possibly NO INHERIT. Before 18 there is no
/// such element; `set_not_null` sets it after.
pub(super) fn not_null_element(column: &ColumnDef) -> Option<String> {
    column.not_null_constraint.as_ref()?;
    let mut element = String::new();
    if let Some(name) = &column.not_null_name {
        element.push_str(&format!("CONSTRAINT {} ", quote_ident(name)));
    }
    element.push_str(&format!("NOT NULL {}", quote_ident(&column.name)));
    if column.not_null_no_inherit {
        element.push_str(" NO INHERIT");
    }
    Some(element)
}

/// Such a NOT NULL set after the child is created, before PostgreSQL 18.
pub(super) fn set_not_null(shell: &Shell, column: &ColumnDef) -> String {
    format!(
        "ALTER TABLE ONLY {} ALTER COLUMN {} SET NOT NULL;",
        shell.name,
        quote_ident(&column.name)
    )
}
