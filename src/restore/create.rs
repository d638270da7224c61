//! Creating what the target lacks from the artifact's schema section, in
//! the restore transaction: objects tied to a table are created exactly when
//! that table is; others (schemas, types, functions, sequences, views) when
//! the target does not have them.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use futures_util::{stream, StreamExt};
use tokio_postgres::Client;

use crate::artifact::{ObjectKind, Phase, SchemaObject, SchemaSection};
use crate::config::SkipObject;
use crate::error::Error;
use crate::ident::QualifiedName;

/// Schema objects sent ahead of the server's answers.
const IN_FLIGHT: usize = 64;

/// Whether the target has each object ($1 kinds, $2 names as SQL), in order.
/// A function is looked up by the identity the dump printed for it, not
/// with `to_regprocedure`: before PostgreSQL 16 that raises an error, not
/// NULL, when an argument's type does not exist yet (an enum the restore
/// is about to create). Operators, casts, collations and the other kinds
/// named by the server's identity of them (`pg_identify_object`) are
/// looked up by it among the target's objects of the kind. A type is looked
/// up by its name's parts, not with `to_regtype`, which raises an error for
/// a shell type (the regression database has one).
const EXISTS: &str = "
WITH identified(kind, identity) AS MATERIALIZED (
    SELECT i.type, i.identity FROM (
        SELECT 'pg_catalog.pg_operator'::regclass AS classid, oid FROM pg_catalog.pg_operator
        UNION ALL SELECT 'pg_catalog.pg_opclass'::regclass, oid FROM pg_catalog.pg_opclass
        UNION ALL SELECT 'pg_catalog.pg_opfamily'::regclass, oid FROM pg_catalog.pg_opfamily
        UNION ALL SELECT 'pg_catalog.pg_cast'::regclass, oid FROM pg_catalog.pg_cast
        UNION ALL SELECT 'pg_catalog.pg_transform'::regclass, oid FROM pg_catalog.pg_transform
        UNION ALL SELECT 'pg_catalog.pg_collation'::regclass, oid FROM pg_catalog.pg_collation
        UNION ALL SELECT 'pg_catalog.pg_conversion'::regclass, oid FROM pg_catalog.pg_conversion
        UNION ALL SELECT 'pg_catalog.pg_ts_parser'::regclass, oid FROM pg_catalog.pg_ts_parser
        UNION ALL SELECT 'pg_catalog.pg_ts_template'::regclass, oid FROM pg_catalog.pg_ts_template
        UNION ALL SELECT 'pg_catalog.pg_ts_dict'::regclass, oid FROM pg_catalog.pg_ts_dict
        UNION ALL SELECT 'pg_catalog.pg_ts_config'::regclass, oid FROM pg_catalog.pg_ts_config
        UNION ALL SELECT 'pg_catalog.pg_am'::regclass, oid FROM pg_catalog.pg_am
        UNION ALL SELECT 'pg_catalog.pg_event_trigger'::regclass, oid FROM pg_catalog.pg_event_trigger
    ) o, LATERAL pg_catalog.pg_identify_object(o.classid, o.oid, 0) AS i
    WHERE o.oid >= 16384
)
SELECT CASE
         WHEN u.kind IN ('operator', 'operator class', 'operator family', 'cast', 'transform',
                         'collation', 'conversion', 'text search parser', 'text search template',
                         'text search dictionary', 'text search configuration', 'access method',
                         'event trigger')
         THEN EXISTS (SELECT 1 FROM identified x WHERE x.kind = u.kind AND x.identity = u.name)
         ELSE CASE u.kind
         WHEN 'schema' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = u.name)
         WHEN 'extension' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = u.name)
         WHEN 'type' THEN EXISTS (
           SELECT 1 FROM pg_catalog.pg_type t
           JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
           WHERE ARRAY[n.nspname::text, t.typname::text] = pg_catalog.parse_ident(u.name, false))
         WHEN 'grant' THEN false
         WHEN 'function' THEN u.name IN (
           SELECT pg_catalog.format('%I.%I(%s)', n.nspname, p.proname,
                                    pg_catalog.oidvectortypes(p.proargtypes))
           FROM pg_catalog.pg_proc p
           JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
         ELSE pg_catalog.to_regclass(u.name) IS NOT NULL
       END END
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(kind, name, i)
ORDER BY u.i";

/// Function bodies are checked when they run, not when created: a function
/// may name a table created after it (as pg_dump does).
const FUNCTION_BODIES_UNCHECKED: &str = "SET LOCAL check_function_bodies = off";

/// What decides which objects a restore creates besides the target's
/// catalog: the tables it creates, the objects `--clean` drops (by name),
/// and those `--skip-object` leaves out.
#[derive(Debug, Clone, Copy)]
pub struct Choices<'a> {
    pub new_tables: &'a BTreeSet<QualifiedName>,
    pub dropped: &'a BTreeSet<String>,
    pub skipped: &'a [SkipObject],
    /// `--privileges`: apply the artifact's grants.
    pub privileges: bool,
}

/// The objects of a schema section a restore will create (or grants it
/// will apply), by position in
/// the section (at thousands of tables, copies would double the schema's
/// memory).
#[derive(Debug, Default)]
pub struct CreatePlan {
    create: Vec<usize>,
    /// Objects it will not create after all, each a sentence naming it.
    pub warnings: Vec<String>,
}

impl CreatePlan {
    /// Decide, before any write, what to create: everything tied to a table
    /// in `new_tables`, and every untied object the target lacks or that is
    /// about to be dropped (`dropped`, by name).
    pub async fn decide(
        client: &Client,
        schema: &SchemaSection,
        choices: &Choices<'_>,
    ) -> Result<Self> {
        let Choices {
            new_tables,
            dropped,
            skipped,
            privileges,
        } = *choices;
        let untied: Vec<&SchemaObject> = schema
            .objects
            .iter()
            .filter(|o| o.table.is_none())
            .collect();
        let kinds: Vec<String> = untied.iter().map(|o| o.kind.label().to_owned()).collect();
        let names: Vec<&str> = untied.iter().map(|o| o.name.as_str()).collect();
        let exists: Vec<bool> = client
            .query(EXISTS, &[&kinds, &names])
            .await
            .context("cannot check which objects the target has")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut missing = untied
            .iter()
            .zip(exists)
            .filter(|(o, exists)| !exists || dropped.contains(&o.name))
            .map(|(o, _)| *o);
        let mut next_missing = missing.next();
        let mut create = Vec::new();
        for (position, object) in schema.objects.iter().enumerate() {
            let wanted = match &object.table {
                Some(table) => new_tables.contains(table),
                None => next_missing.is_some_and(|m| std::ptr::eq(m, object)),
            };
            if object.table.is_none() && wanted {
                next_missing = missing.next();
            }
            if wanted {
                create.push(position);
            }
        }
        let mut warnings = Vec::new();
        create.retain(|&i| {
            let object = &schema.objects[i];
            let skip = skipped
                .iter()
                .any(|s| s.matches(object.kind.label(), &object.name));
            if skip {
                warnings.push(format!(
                    "{} {} is left out (--skip-object)",
                    object.kind.label(),
                    object.name
                ));
            }
            !skip
        });
        warnings.extend(choose_grants(client, &schema.objects, &mut create, privileges).await?);
        warnings.extend(drop_unmet_needs(client, &schema.objects, &mut create).await?);
        refuse_missing_roles(client, &schema.objects, &create).await?;
        refuse_uncreatable_extensions(client, &schema.objects, &create).await?;
        refuse_superuser_objects(client, &schema.objects, &create).await?;
        Ok(Self { create, warnings })
    }

    /// Refuse, before any write, to create an object whose DDL uses a
    /// feature the target's server is too old for, naming both.
    /// `schema` is the section the plan was decided on.
    pub fn check_features(
        &self,
        schema: Option<&SchemaSection>,
        server_version_num: u32,
    ) -> Result<(), Error> {
        for object in self.objects(schema) {
            if let Some(requirement) = &object.requires {
                if requirement.server_version_num > server_version_num {
                    return Err(Error::Refused(format!(
                        "{} {} uses {}, which this PostgreSQL {} server does not have (it needs {} or later)",
                        object.kind.label(),
                        object.name,
                        requirement.feature,
                        server_version_num / 10000,
                        requirement.server_version_num / 10000
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn count(&self) -> usize {
        self.create.len()
    }

    /// The chosen objects of `schema`, the section the plan was decided on.
    fn objects<'a>(
        &'a self,
        schema: Option<&'a SchemaSection>,
    ) -> impl Iterator<Item = &'a SchemaObject> + 'a {
        let objects = schema.map_or(&[][..], |s| s.objects.as_slice());
        self.create.iter().filter_map(|&i| objects.get(i))
    }

    /// Run the chosen objects of `phase`, in order. A failure names the
    /// object. `schema` is the section the plan was decided on.
    ///
    /// Pipelined: up to [`IN_FLIGHT`] objects are sent before the first
    /// answer, each its own statement, so a schema of thousands of tables
    /// does not wait a round trip per object. The server runs them in
    /// order; after a failure the ones behind it fail as the transaction
    /// is aborted, and the first failure is the one reported.
    pub async fn run(
        &self,
        client: &Client,
        schema: Option<&SchemaSection>,
        phase: Phase,
    ) -> Result<()> {
        client.batch_execute(FUNCTION_BODIES_UNCHECKED).await?;
        let mut results = stream::iter(self.objects(schema).filter(|o| o.kind.phase() == phase))
            .map(|object| async move {
                client.batch_execute(&object.sql).await.with_context(|| {
                    format!("cannot create {} {}", object.kind.label(), object.name)
                })
            })
            .buffered(IN_FLIGHT);
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(())
    }
}

/// Roles of $1 the target does not have.
const MISSING_ROLES: &str = "
SELECT u.name FROM unnest($1::text[]) AS u(name)
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = u.name)
ORDER BY 1";

/// Of roles `named`, those the target does not have, each once, in order.
async fn missing_roles(client: &Client, mut named: Vec<&str>) -> Result<Vec<String>> {
    named.sort_unstable();
    named.dedup();
    Ok(client
        .query(MISSING_ROLES, &[&named])
        .await
        .context("cannot check which roles the target has")?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Refuse, before any write, to create objects naming roles the target
/// lacks (a policy `TO auditor`), naming each object and role.
async fn refuse_missing_roles(
    client: &Client,
    objects: &[SchemaObject],
    create: &[usize],
) -> Result<()> {
    let named: Vec<&str> = create
        .iter()
        .flat_map(|&i| objects[i].roles.iter().map(String::as_str))
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    let missing = missing_roles(client, named).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let users: Vec<String> = create
        .iter()
        .map(|&i| &objects[i])
        .filter(|o| o.roles.iter().any(|r| missing.contains(r)))
        .map(|o| format!("{} {}", o.kind.label(), o.name))
        .collect();
    Err(Error::Refused(format!(
        "the target has no role {}, which {} name{}; create the roles first",
        missing.join(", "),
        users.join(", "),
        if users.len() == 1 { "s" } else { "" }
    ))
    .into())
}

/// Of extensions $1, those this session cannot create: not installed on
/// the server, or not trusted and the role is no superuser; with why.
const UNCREATABLE_EXTENSIONS: &str = "
SELECT u.name,
       CASE WHEN a.name IS NULL THEN 'is not installed on the target server'
            ELSE 'is not trusted, so only a superuser can create it' END AS why
FROM unnest($1::text[]) AS u(name)
LEFT JOIN pg_catalog.pg_available_extensions a ON a.name = u.name
WHERE a.name IS NULL
   OR (NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
       AND NOT COALESCE((SELECT v.trusted FROM pg_catalog.pg_available_extension_versions v
                         WHERE v.name = a.name AND v.version = a.default_version), false))
ORDER BY 1";

/// Refuse, before any write, to restore when an extension the target lacks
/// cannot be created by this role, naming each and why (install it, or
/// have a superuser create it first).
async fn refuse_uncreatable_extensions(
    client: &Client,
    objects: &[SchemaObject],
    create: &[usize],
) -> Result<()> {
    let wanted: Vec<&str> = create
        .iter()
        .map(|&i| &objects[i])
        .filter(|o| o.kind == ObjectKind::Extension)
        .map(|o| o.name.as_str())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let refused: Vec<String> = client
        .query(UNCREATABLE_EXTENSIONS, &[&wanted])
        .await
        .context("cannot check which extensions the target can create")?
        .iter()
        .map(|r| {
            format!(
                "extension {} {}",
                r.get::<_, String>("name"),
                r.get::<_, String>("why")
            )
        })
        .collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "{}; have a superuser create {} in the target first",
        refused.join("; "),
        if refused.len() == 1 { "it" } else { "them" }
    ))
    .into())
}

/// Keep the artifact's grants in `create` only with `--privileges`, and
/// then only those whose roles the target has; returns a sentence naming
/// the roles it lacks, or saying how to apply grants left out.
async fn choose_grants(
    client: &Client,
    objects: &[SchemaObject],
    create: &mut Vec<usize>,
    privileges: bool,
) -> Result<Vec<String>> {
    let is_grant = |i: &usize| objects[*i].kind == ObjectKind::Grant;
    let grants = create.iter().filter(|i| is_grant(i)).count();
    if grants == 0 {
        return Ok(Vec::new());
    }
    if !privileges {
        create.retain(|i| !is_grant(i));
        return Ok(vec![format!(
            "the artifact carries {grants} grant(s), not applied: restore --privileges applies them"
        )]);
    }
    let named: Vec<&str> = create
        .iter()
        .filter(|i| is_grant(i))
        .flat_map(|&i| objects[i].roles.iter().map(String::as_str))
        .collect();
    let missing = missing_roles(client, named).await?;
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let before = create.len();
    create.retain(|&i| !(is_grant(&i) && objects[i].roles.iter().any(|r| missing.contains(r))));
    Ok(vec![format!(
        "the target has no role {}: {} grant(s) to {} left out",
        missing.join(", "),
        before - create.len(),
        if missing.len() == 1 { "it" } else { "them" }
    )])
}

/// Whether this session's role is a superuser.
const IS_SUPERUSER: &str =
    "SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

/// Refuse, before any write, to restore when objects to create need a
/// superuser (a function in C, a base type, an operator class) and this
/// role is none, naming every one: a superuser creates them first, or
/// `--skip-object` leaves them out.
async fn refuse_superuser_objects(
    client: &Client,
    objects: &[SchemaObject],
    create: &[usize],
) -> Result<()> {
    let needing: Vec<String> = create
        .iter()
        .map(|&i| &objects[i])
        .filter(|o| o.superuser)
        .map(|o| format!("{} {}", o.kind.label(), o.name))
        .collect();
    if needing.is_empty() {
        return Ok(());
    }
    let superuser: bool = client
        .query_one(IS_SUPERUSER, &[])
        .await
        .context("cannot check whether this role is a superuser")?
        .get(0);
    if superuser {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "only a superuser can create {}; have a superuser create {} in the target first, or leave {} out with --skip-object KIND:NAME",
        needing.join(", "),
        if needing.len() == 1 { "it" } else { "them" },
        if needing.len() == 1 { "it" } else { "them" }
    ))
    .into())
}

/// Leave out of `create` each object that needs a table outside the
/// artifact which the target lacks (a foreign key to a table the dump did
/// not carry); returns a sentence naming each.
async fn drop_unmet_needs(
    client: &Client,
    objects: &[SchemaObject],
    create: &mut Vec<usize>,
) -> Result<Vec<String>> {
    let needed: Vec<&QualifiedName> = create
        .iter()
        .filter_map(|&i| objects[i].needs.as_ref())
        .collect();
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    let kinds: Vec<&str> = needed.iter().map(|_| "table").collect();
    let names: Vec<String> = needed.iter().map(|t| t.quoted()).collect();
    let exists: Vec<bool> = client
        .query(EXISTS, &[&kinds, &names])
        .await
        .context("cannot check which tables the target has")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let lacking: Vec<QualifiedName> = needed
        .into_iter()
        .zip(exists)
        .filter(|(_, exists)| !exists)
        .map(|(table, _)| table.clone())
        .collect();
    let mut warnings = Vec::new();
    create.retain(|&i| match &objects[i].needs {
        Some(table) if lacking.contains(table) => {
            warnings.push(format!(
                "{} {} references {table}, which the artifact does not hold and the target \
                 lacks; it is not created",
                objects[i].kind.label(),
                objects[i].name
            ));
            false
        }
        _ => true,
    });
    Ok(warnings)
}
