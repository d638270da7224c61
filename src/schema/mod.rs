//! Reading the schema of what a dump holds: the DDL of the tables and of
//! everything they need, in creation order, through the server's own
//! deparsers. Ownership and grants are left out (objects belong to whoever
//! restores, as `pg_restore --no-owner`); anything else that cannot be
//! carried becomes a warning.
//!
//! Order, as pg_restore runs it for speed: schemas, extensions, types and
//! functions, sequences, tables and partitions (pre-data); then, after the
//! data: keys and other constraints, indexes, foreign keys, triggers, views.

mod access_methods;
mod base_types;
mod casts;
mod catalogs;
mod collations;
mod comments;
mod constraints;
mod defined;
mod event_triggers;
mod extensions;
mod functions;
mod indexes;
mod inheritance;
mod objects;
mod operators;
mod ordering;
mod partitions;
mod policies;
mod prerequisites;
mod privileges;
mod roots;
mod rules;
mod sequences;
mod shapes;
mod statistics;
mod tables;
mod text_search;
mod triggers;
mod types;
mod views;
mod warnings;

use std::collections::BTreeSet;

use anyhow::Result;
use tokio_postgres::Client;

use crate::artifact::{ObjectKind, SchemaObject, SchemaSection};
use crate::catalog::{self, ForeignKey, Table};
use crate::ident::{quote_ident, quote_literal, QualifiedName};
use privileges::Granted;

/// What a dump's schema section covers.
#[derive(Debug)]
pub struct Scope<'a> {
    /// In restore order.
    pub tables: &'a [Table],
    pub sequences: &'a [QualifiedName],
    /// Among the tables.
    pub foreign_keys: &'a [&'a ForeignKey],
    /// To tables outside the dump (created on restore where the target has
    /// the referenced table).
    pub outside_foreign_keys: &'a [&'a ForeignKey],
    /// Schemas dumped whole: every function and type in them is carried.
    pub whole_schemas: &'a [String],
    /// `--privileges`: carry the GRANTs on carried objects and the default
    /// privileges of the carried schemas.
    pub privileges: bool,
}

/// The schema section of a dump's `scope`.
pub async fn read(client: &Client, scope: &Scope<'_>) -> Result<SchemaSection> {
    let Scope {
        tables,
        sequences,
        foreign_keys,
        outside_foreign_keys,
        whole_schemas,
        privileges,
    } = *scope;
    let table_oids: Vec<u32> = tables.iter().map(|t| t.oid).collect();
    let relations = catalog::relations(client, &table_oids).await?;
    let relation_oids: Vec<u32> = relations.iter().map(|r| r.oid).collect();

    let views = views::read(client, &relation_oids, whole_schemas).await?;
    let prerequisites =
        prerequisites::read(client, &relation_oids, &views.oids, whole_schemas).await?;
    let sequence_objects = sequences::sequences(client, sequences, tables).await?;
    let (table_objects, table_post) = tables::tables(client, tables, &relations).await?;
    let triggers = triggers::triggers(client, &relations, tables).await?;
    let rules = rule_objects(
        rules::read(client, &relation_oids).await?,
        &relations,
        tables,
    );
    let roots = roots::Roots::new(tables, &relations);
    let policies = policies::read(client, &relation_oids, &roots).await?;
    let statistics = statistics::read(client, &relation_oids, &roots).await?;

    let schemas = carried_schemas(scope, &prerequisites.schemas, &views.schemas);
    let mut objects: Vec<SchemaObject> = schema_objects(client, &schemas).await?;
    objects.extend(prerequisites.extensions);
    objects.extend(prerequisites.objects);
    let (owners, sequence_objects): (Vec<_>, Vec<_>) = sequence_objects
        .into_iter()
        .partition(|o| o.kind == ObjectKind::SequenceOwner);
    objects.extend(sequence_objects);
    objects.extend(table_objects);
    objects.extend(prerequisites.late);
    objects.extend(owners);
    objects.extend(table_post);
    objects.extend(foreign_keys.iter().map(|fk| foreign_key_object(fk, tables)));
    objects.extend(
        outside_foreign_keys
            .iter()
            .map(|fk| foreign_key_object(fk, tables).needing(fk.referenced.clone())),
    );
    objects.extend(triggers);
    objects.extend(views.objects);
    objects.extend(rules);
    objects.extend(policies);
    objects.extend(statistics);

    if privileges {
        let granted = Granted {
            relations: [relation_oids.as_slice(), views.oids.as_slice()].concat(),
            sequences: sequences.iter().map(QualifiedName::quoted).collect(),
            schemas: schemas.iter().cloned().collect(),
            functions: prerequisites.functions,
            types: prerequisites.types,
        };
        objects.extend(privileges::read(client, &granted).await?);
    }
    // Event triggers last: none fires on the restore's own DDL.
    let (mut objects, event_triggers): (Vec<_>, Vec<_>) = objects
        .into_iter()
        .partition(|o| o.kind != ObjectKind::EventTrigger);
    objects.extend(event_triggers);

    let mut warnings = warnings::not_carried(client, &relation_oids, whole_schemas).await?;
    warnings.extend(prerequisites.warnings);
    warnings.extend(views.warnings);
    Ok(SchemaSection { objects, warnings })
}

/// The schemas `CREATE SCHEMA` is carried for: those of the dumped tables,
/// sequences, views (`views`) and other objects (`objects`), and every
/// schema dumped whole, even an empty one; never `public`, which every new
/// database has (and before PostgreSQL 15 a superuser owns).
fn carried_schemas(
    scope: &Scope<'_>,
    objects: &BTreeSet<String>,
    views: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut schemas: BTreeSet<String> = (scope.tables.iter().map(|t| &t.name.schema))
        .chain(scope.sequences.iter().map(|s| &s.schema))
        .chain(objects)
        .chain(views)
        .chain(scope.whole_schemas)
        .cloned()
        .collect();
    schemas.remove("pg_catalog");
    schemas.remove("public");
    schemas
}

/// `ALTER TABLE ... ADD CONSTRAINT` for a foreign key of one of `tables`,
/// with its comment.
fn foreign_key_object(fk: &ForeignKey, tables: &[Table]) -> SchemaObject {
    let table = tables
        .iter()
        .find(|t| t.oid == fk.table_oid)
        .expect("foreign keys of dumped tables");
    let mut sql = format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {};",
        fk.relation.quoted(),
        quote_ident(&fk.name),
        fk.definition
    );
    if let Some(comment) = &fk.comment {
        sql.push_str(&format!(
            "\nCOMMENT ON CONSTRAINT {} ON {} IS {};",
            quote_ident(&fk.name),
            fk.relation.quoted(),
            quote_literal(comment)
        ));
    }
    SchemaObject::new(
        ObjectKind::ForeignKey,
        format!("{} {}", fk.relation.quoted(), quote_ident(&fk.name)),
        Some(table.name.clone()),
        sql,
    )
}

/// The rules of dumped relations, each tied to its table; after the views,
/// which a rule's actions may name.
fn rule_objects(
    mut rules: std::collections::HashMap<u32, Vec<rules::Rule>>,
    relations: &[catalog::Relation],
    tables: &[Table],
) -> Vec<SchemaObject> {
    let mut objects = Vec::new();
    for relation in relations {
        let Some(table) = tables.iter().find(|t| t.oid == relation.table_oid) else {
            continue;
        };
        for rule in rules.remove(&relation.oid).unwrap_or_default() {
            objects.push(SchemaObject::new(
                ObjectKind::Rule,
                rule.name,
                Some(table.name.clone()),
                rule.sql,
            ));
        }
    }
    objects
}

/// `CREATE SCHEMA` for each schema (with its comment); restore skips those
/// the target has, such as `public`.
async fn schema_objects(client: &Client, schemas: &BTreeSet<String>) -> Result<Vec<SchemaObject>> {
    const COMMENTS: &str = "
        SELECT n.nspname, pg_catalog.format('COMMENT ON SCHEMA %I IS %L', n.nspname, d.description)
               AS statement
        FROM pg_catalog.pg_namespace n
        JOIN pg_catalog.pg_description d
          ON d.classoid = 'pg_catalog.pg_namespace'::regclass AND d.objoid = n.oid
        WHERE n.nspname = ANY($1)";
    let names: Vec<&String> = schemas.iter().collect();
    let comments: std::collections::HashMap<String, String> = client
        .query(COMMENTS, &[&names])
        .await?
        .iter()
        .map(|r| (r.get("nspname"), r.get("statement")))
        .collect();
    Ok(schemas
        .iter()
        .map(|schema| {
            let mut sql = format!("CREATE SCHEMA {};", quote_ident(schema));
            comments::push_comment(&mut sql, comments.get(schema).cloned());
            SchemaObject::new(ObjectKind::Schema, schema.clone(), None, sql)
        })
        .collect())
}
