//! Inheritance children whose columns stand in another order than
//! `INHERITS` would give them (they were made on their own and joined
//! their parent with `ALTER TABLE ... INHERIT`): created so, and joined the
//! same way. pg_dump writes `INHERITS` there and the restored child takes
//! its parents' order.

use std::collections::HashMap;

use super::shapes::{ColumnDef, Shell};

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
