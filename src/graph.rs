//! A dependency graph (foreign keys between tables, or types and functions
//! that use each other) to an order, its cycles and the edges that need deferral.
//!
//! Pure: tables are indices, edges are (referencing, referenced) pairs. The
//! order puts every referenced table before the tables that reference it,
//! except inside a cycle, where no such order exists; those edges (and
//! self-references) are the ones a restore must defer or drop and re-add.
//! Ties are broken by the caller's order, so the same graph always gives the
//! same order.

use std::collections::BTreeSet;

/// A foreign-key edge: `from` references `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
}

/// The dependency order of a set of tables (or of any objects that use each other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sorted {
    /// Table indices, referenced tables first.
    pub order: Vec<usize>,
    /// Groups of two or more tables that reference each other in a loop,
    /// each listed in restore order.
    pub cycles: Vec<Vec<usize>>,
    /// Tables with a foreign key to themselves.
    pub self_references: Vec<usize>,
    /// For each input edge: true when it lies inside a cycle or is a
    /// self-reference, so no load order satisfies it row by row.
    pub needs_deferral: Vec<bool>,
}

/// Order `table_count` tables so that referenced tables come first.
///
/// Edges pointing outside `0..table_count` are a caller bug and panic.
pub fn sort(table_count: usize, edges: &[Edge]) -> Sorted {
    let mut references = vec![Vec::new(); table_count];
    for edge in edges {
        references[edge.from].push(edge.to);
    }
    let component = strongly_connected_components(&references);
    let component_count = component.iter().map(|c| c + 1).max().unwrap_or(0);

    // Members of each component in caller order, and the components each one
    // must wait for.
    let mut members = vec![Vec::new(); component_count];
    for (table, &c) in component.iter().enumerate() {
        members[c].push(table);
    }
    let mut waits_for = vec![BTreeSet::new(); component_count];
    let mut unblocks = vec![BTreeSet::new(); component_count];
    for edge in edges {
        let (from, to) = (component[edge.from], component[edge.to]);
        if from != to {
            waits_for[from].insert(to);
            unblocks[to].insert(from);
        }
    }

    // Kahn's algorithm over components, always taking the ready component
    // whose first table comes first in caller order: deterministic output.
    let mut ready: BTreeSet<(usize, usize)> = (0..component_count)
        .filter(|&c| waits_for[c].is_empty())
        .map(|c| (members[c][0], c))
        .collect();
    let mut order = Vec::with_capacity(table_count);
    let mut cycles = Vec::new();
    while let Some((_, c)) = ready.pop_first() {
        order.extend(&members[c]);
        if members[c].len() > 1 {
            cycles.push(members[c].clone());
        }
        for &next in &unblocks[c] {
            waits_for[next].remove(&c);
            if waits_for[next].is_empty() {
                ready.insert((members[next][0], next));
            }
        }
    }

    let self_references: BTreeSet<usize> = edges
        .iter()
        .filter(|e| e.from == e.to)
        .map(|e| e.from)
        .collect();
    let needs_deferral = edges
        .iter()
        .map(|e| component[e.from] == component[e.to])
        .collect();
    Sorted {
        order,
        cycles,
        self_references: self_references.into_iter().collect(),
        needs_deferral,
    }
}

/// Tarjan's algorithm, iterative so deep chains cannot overflow the stack.
/// Returns each node's component number.
fn strongly_connected_components(references: &[Vec<usize>]) -> Vec<usize> {
    const UNVISITED: usize = usize::MAX;
    let n = references.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNVISITED; n];
    let mut next_index = 0;
    let mut next_component = 0;

    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        // (node, position in its reference list)
        let mut work = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut pos)) = work.last_mut() {
            if let Some(&next) = references[node].get(*pos) {
                *pos += 1;
                if index[next] == UNVISITED {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &[(usize, usize)]) -> Vec<Edge> {
        pairs.iter().map(|&(from, to)| Edge { from, to }).collect()
    }

    #[test]
    fn referenced_tables_come_first() {
        // 0 -> 1 -> 2
        let p = sort(3, &edges(&[(0, 1), (1, 2)]));
        assert_eq!(p.order, vec![2, 1, 0]);
        assert!(p.cycles.is_empty());
        assert_eq!(p.needs_deferral, vec![false, false]);
    }

    #[test]
    fn independent_tables_keep_caller_order() {
        let p = sort(4, &[]);
        assert_eq!(p.order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn finds_self_references_and_cycles() {
        // 0 self-references; 1 <-> 2; 3 -> 4 -> 5 -> 3; 6 references 1.
        let e = edges(&[(0, 0), (1, 2), (2, 1), (3, 4), (4, 5), (5, 3), (6, 1)]);
        let p = sort(7, &e);
        assert_eq!(p.self_references, vec![0]);
        assert_eq!(p.cycles, vec![vec![1, 2], vec![3, 4, 5]]);
        assert_eq!(
            p.needs_deferral,
            vec![true, true, true, true, true, true, false]
        );
        let pos = |t| p.order.iter().position(|&x| x == t).unwrap();
        assert!(pos(1) < pos(6) && pos(2) < pos(6));
        assert_eq!(p.order.len(), 7);
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 100_000;
        let e: Vec<Edge> = (0..n - 1).map(|i| Edge { from: i, to: i + 1 }).collect();
        let p = sort(n, &e);
        assert_eq!(p.order[0], n - 1);
        assert_eq!(p.order[n - 1], 0);
    }
}
