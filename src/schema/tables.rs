//! The DDL of tables and what belongs to them: columns (identity options
//! included), check constraints and partitions (`partitions`), from their
//! shape in the catalog (`shapes`). Other constraints, indexes, sequences
//! and triggers have files of their own.
//!
//! The table shell is assembled from the catalog (there is no deparser for
//! it); every expression, constraint, index and trigger comes from the
//! server's own deparsers, and every comment is quoted by the server.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::comments::relation_comments;
use super::inheritance::{joined_child, not_null_element, own_not_nulls, set_not_null};
use super::partitions::{
    ancestor_checks, attached_partition, partition_options, standalone_column,
};
use super::roots::Roots;
use super::sequences::{SequenceOptions, SEQUENCES};
use super::shapes::{read_columns, read_shells, ColumnDef, Shell};
use super::{constraints, indexes};
use crate::artifact::{ObjectKind, SchemaObject};
use crate::catalog::{Relation, Table};
use crate::ident::quote_ident;

/// `CREATE TABLE` for each table and its partitions (parents first), and
/// the post-data objects of all of them: constraints other than valid
/// checks, and indexes. Returns (pre-data, post-data).
pub async fn tables(
    client: &Client,
    tables: &[Table],
    relations: &[Relation],
) -> Result<(Vec<SchemaObject>, Vec<SchemaObject>)> {
    let oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();
    let roots = Roots::new(tables, relations);
    let shells = read_shells(client, &oids).await?;
    let columns = read_columns(client, &oids).await?;
    let identity_options = identity_sequence_options(client, &columns).await?;
    let names: HashMap<u32, (&str, bool)> = shells
        .iter()
        .map(|(oid, s)| (*oid, (s.name.as_str(), s.partitioned)))
        .collect();
    let constraints = constraints::read(client, &oids, &names, &roots).await?;
    let (mut checks, mut post) = (constraints.inline, constraints.post);
    let all_checks = checks.clone();
    let mut comments = relation_comments(client, &oids).await?;
    for (oid, statements) in constraints.inline_comments {
        comments.entry(oid).or_default().extend(statements);
    }

    // Tables before their inheritance children, partitions after their parent.
    let mut pre = Vec::new();
    for relation in creation_order(relations, &shells) {
        let mut shell = &shells[&relation.oid];
        let attached = attached_partition(shell, &shells, &columns, relation.oid)
            .or_else(|| joined_child(shell, &shells, &columns, relation.oid));
        let shapes = Shapes {
            shells: &shells,
            columns: &columns,
            identity_options: &identity_options,
            checks: &all_checks,
        };
        let mut elements = shapes.elements(relation.oid, attached.is_some());
        elements.extend(checks.remove(&relation.oid).unwrap_or_default());
        if let Some((standalone, _)) = &attached {
            shell = standalone;
        }
        let mut sql = create_table(shell, &elements);
        if let Some((_, attach)) = &attached {
            sql.push('\n');
            sql.push_str(attach);
        }
        for column in own_not_nulls(shell, &shells, &columns, relation.oid) {
            if not_null_element(column).is_none() {
                sql.push('\n');
                sql.push_str(&set_not_null(shell, column));
            }
        }
        let own_columns = columns.get(&relation.oid).map_or(&[][..], Vec::as_slice);
        sql.push_str(&column_settings(shell, own_columns));
        for comment in comments.get(&relation.oid).into_iter().flatten() {
            sql.push('\n');
            sql.push_str(comment);
            sql.push(';');
        }
        let root = roots.of(relation.oid);
        let kind = match relation.oid == root.oid {
            true => ObjectKind::Table,
            false => ObjectKind::Partition,
        };
        pre.push(SchemaObject::new(
            kind,
            shell.name.clone(),
            Some(root.name.clone()),
            sql,
        ));
    }
    post.extend(indexes::read(client, &oids, &roots).await?);
    Ok((pre, post))
}

/// What the relations' `CREATE TABLE`s are made from.
struct Shapes<'a> {
    shells: &'a HashMap<u32, Shell>,
    columns: &'a HashMap<u32, Vec<ColumnDef>>,
    identity_options: &'a HashMap<String, String>,
    /// Every relation's valid checks.
    checks: &'a HashMap<u32, Vec<String>>,
}

impl Shapes<'_> {
    /// The elements of relation `oid`'s `CREATE TABLE` but its own checks:
    /// its local columns and NOT NULL of its own on inherited ones; a
    /// partition's options (or, `attached`, all its columns and its
    /// ancestors' checks); a typed table's options.
    fn elements(&self, oid: u32, attached: bool) -> Vec<String> {
        let shell = &self.shells[&oid];
        let columns = self.columns.get(&oid).into_iter().flatten();
        match (attached, shell.is_partition, &shell.of_type) {
            (true, _, _) => {
                let own = self.checks.get(&oid);
                columns
                    .map(|c| column_definition(&standalone_column(c), self.identity_options))
                    .chain(
                        ancestor_checks(shell, self.shells, self.checks)
                            .into_iter()
                            .filter(|c| !own.is_some_and(|own| own.contains(c))),
                    )
                    .collect()
            }
            (false, true, _) => partition_options(shell, self.shells, self.columns, oid),
            (false, false, Some(_)) => typed_options(self.columns.get(&oid)),
            (false, false, None) => columns
                .filter(|c| c.local)
                .map(|c| column_definition(c, self.identity_options))
                .chain(
                    own_not_nulls(shell, self.shells, self.columns, oid)
                        .into_iter()
                        .filter_map(not_null_element),
                )
                .collect(),
        }
    }
}

/// `CREATE TABLE` for one relation, from its shell and its elements
/// (column definitions and check constraints).
fn create_table(shell: &Shell, elements: &[String]) -> String {
    let mut sql = format!(
        "CREATE {}TABLE {}",
        if shell.unlogged { "UNLOGGED " } else { "" },
        shell.name
    );
    if shell.is_partition {
        sql.push_str(&format!(" PARTITION OF {}", shell.parents.join(", ")));
        if !elements.is_empty() {
            sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
        }
        sql.push_str(&format!(
            " {}",
            shell.partition_bound.as_deref().unwrap_or("DEFAULT")
        ));
    } else if let Some(of_type) = &shell.of_type {
        sql.push_str(&format!(" OF {of_type}"));
        if !elements.is_empty() {
            sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
        }
    } else {
        sql.push_str(&format!(" (\n    {}\n)", elements.join(",\n    ")));
        if !shell.parents.is_empty() {
            sql.push_str(&format!(" INHERITS ({})", shell.parents.join(", ")));
        }
    }
    if let Some(key) = &shell.partition_key {
        sql.push_str(&format!(" PARTITION BY {key}"));
    }
    if let Some(method) = &shell.access_method {
        sql.push_str(&format!(" USING {}", quote_ident(method)));
    }
    if let Some(options) = shell.options.as_ref().filter(|o| !o.is_empty()) {
        sql.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    sql.push(';');
    sql
}

async fn identity_sequence_options(
    client: &Client,
    columns: &HashMap<u32, Vec<ColumnDef>>,
) -> Result<HashMap<String, String>> {
    let names: Vec<String> = columns
        .values()
        .flatten()
        .filter_map(|c| c.identity_sequence.clone())
        .collect();
    let mut options = HashMap::new();
    if names.is_empty() {
        return Ok(options);
    }
    for row in client
        .query(SEQUENCES, &[&names])
        .await
        .context("cannot read identity sequences")?
    {
        let name: String = row.get("name");
        let rendered = SequenceOptions::from_row(&row).render();
        options.insert(name, rendered);
    }
    Ok(options)
}

fn column_definition(c: &ColumnDef, identity_options: &HashMap<String, String>) -> String {
    let mut def = format!("{} {}", quote_ident(&c.name), c.type_name);
    if let Some(collation) = &c.collation {
        def.push_str(&format!(" COLLATE {collation}"));
    }
    match (c.generated.as_str(), c.identity.as_str()) {
        ("s" | "v", _) if c.inherited => {}
        // 's' stored; 'v' virtual (PostgreSQL 18): computed when read.
        ("s" | "v", _) => {
            if let Some(expr) = &c.default {
                let kind = if c.generated == "v" {
                    "VIRTUAL"
                } else {
                    "STORED"
                };
                def.push_str(&format!(" GENERATED ALWAYS AS ({expr}) {kind}"));
            }
        }
        (_, "a" | "d") => {
            let when = if c.identity == "a" {
                "ALWAYS"
            } else {
                "BY DEFAULT"
            };
            def.push_str(&format!(" GENERATED {when} AS IDENTITY"));
            if let Some(sequence) = &c.identity_sequence {
                let options = identity_options
                    .get(sequence)
                    .map(String::as_str)
                    .unwrap_or("");
                def.push_str(&format!(" (SEQUENCE NAME {sequence} {options})"));
            }
        }
        _ => {
            if let Some(expr) = &c.default {
                def.push_str(&format!(" DEFAULT {expr}"));
            }
        }
    }
    if c.not_null {
        if let Some(name) = &c.not_null_name {
            def.push_str(&format!(" CONSTRAINT {}", quote_ident(name)));
        }
        def.push_str(" NOT NULL");
        if c.not_null_no_inherit {
            def.push_str(" NO INHERIT");
        }
    }
    def
}

/// `ALTER COLUMN ... SET STORAGE / SET COMPRESSION` for the columns of a
/// relation whose storage is not its type's or whose compression is set,
/// and the persistence of its identity sequences.
fn column_settings(shell: &Shell, columns: &[ColumnDef]) -> String {
    let mut sql = String::new();
    for column in columns {
        let storage = column.storage.as_deref().and_then(|s| match s {
            "p" => Some("PLAIN"),
            "e" => Some("EXTERNAL"),
            "m" => Some("MAIN"),
            "x" => Some("EXTENDED"),
            _ => None,
        });
        let settings = storage
            .map(|s| format!("SET STORAGE {s}"))
            .into_iter()
            .chain(column.compression.as_deref().map(|c| {
                let method = if c == "l" { "lz4" } else { "pglz" };
                format!("SET COMPRESSION {method}")
            }));
        for setting in settings {
            sql.push_str(&format!(
                "\nALTER TABLE ONLY {} ALTER COLUMN {} {setting};",
                shell.name,
                quote_ident(&column.name)
            ));
        }
        // An identity sequence's persistence is stated whenever either it or
        // its table is unlogged: which one it gets by default changed
        // within PostgreSQL 15.
        if let Some(sequence) = &column.identity_sequence {
            if column.identity_unlogged || shell.unlogged {
                let persistence = if column.identity_unlogged {
                    "UNLOGGED"
                } else {
                    "LOGGED"
                };
                sql.push_str(&format!("\nALTER SEQUENCE {sequence} SET {persistence};"));
            }
        }
    }
    sql
}

/// A typed table's columns come from its type; what they add is stated as
/// `col WITH OPTIONS DEFAULT ... NOT NULL`.
fn typed_options(columns: Option<&Vec<ColumnDef>>) -> Vec<String> {
    columns
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let mut constraints = String::new();
            if let Some(default) = c.default.as_ref().filter(|_| c.generated.is_empty()) {
                constraints.push_str(&format!(" DEFAULT {default}"));
            }
            if c.not_null {
                if let Some(name) = &c.not_null_name {
                    constraints.push_str(&format!(" CONSTRAINT {}", quote_ident(name)));
                }
                constraints.push_str(" NOT NULL");
            }
            (!constraints.is_empty())
                .then(|| format!("{} WITH OPTIONS{constraints}", quote_ident(&c.name)))
        })
        .collect()
}

/// Parents before children: roots in the given order, each followed by its
/// partitions level by level (`relations` lists them so); inheritance
/// children after their parents.
fn creation_order<'a>(
    relations: &'a [Relation],
    shells: &HashMap<u32, Shell>,
) -> Vec<&'a Relation> {
    let mut done: Vec<&str> = Vec::new();
    let mut ordered: Vec<&Relation> = Vec::new();
    let mut pending: Vec<&Relation> = relations.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|r| {
            let shell = &shells[&r.oid];
            let internal_parents_done = shell
                .parents
                .iter()
                .all(|p| done.contains(&p.as_str()) || !shells.values().any(|s| &s.name == p));
            if internal_parents_done {
                done.push(shell.name.as_str());
                ordered.push(r);
                false
            } else {
                true
            }
        });
        if pending.len() == before {
            // Inheritance cannot loop; take the rest as they come.
            ordered.append(&mut pending);
        }
    }
    ordered
}
