//! Which tables `--jobs` swaps, and how each is rebuilt: decided inside
//! the restore's transaction, before any write, from the target's catalog.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::artifact::Manifest;
use crate::catalog::Table;
use crate::config::RestoreConfig;
use crate::ident::{parse_table_name, QualifiedName};
use crate::mode::Mode;
use crate::pg::shadow_sql;
use crate::restore::locks::Fit;
use crate::restore::target::Target;
use crate::restore::visibility::Loading;

/// Tables with less data load in place: creating, building and swapping a
/// table costs a few milliseconds, which a small load does not win back.
const SWAP_MIN_BYTES: u64 = 1 << 20;

/// What `--jobs` swaps, and what it loads in place and why.
#[derive(Debug, Default)]
pub(crate) struct Swaps {
    /// The private schema of each target schema.
    pub schemas: BTreeMap<String, String>,
    pub tables: Vec<SwapPlan>,
    /// Tables loaded in place, each with the reason.
    pub in_place: Vec<(QualifiedName, String)>,
    /// Why `--jobs` builds nothing beside the targets at all.
    pub declined: Option<String>,
}

/// How one table's shadow is built and swapped in.
#[derive(Debug)]
pub(crate) struct SwapPlan {
    /// The table's position in the artifact.
    pub position: usize,
    pub target: QualifiedName,
    pub shadow_schema: String,
    pub create: String,
    pub build: Vec<String>,
    pub release: Vec<String>,
    pub own: Vec<String>,
    pub triggers: Vec<String>,
    /// (column, identity sequence as the server names it).
    pub identity: Vec<(String, String)>,
    /// Each identity sequence's data type, set again after the swap.
    pub identity_types: Vec<String>,
}

impl Swaps {
    pub fn positions(&self) -> HashSet<usize> {
        self.tables.iter().map(|p| p.position).collect()
    }

    /// `--jobs` asked for, and why it cannot build anything here.
    pub fn declined(reason: &str) -> Self {
        Self {
            declined: Some(reason.to_owned()),
            ..Self::default()
        }
    }

    /// A sentence for the confirmation and the summary, when some tables
    /// load in place.
    pub fn note(&self) -> Option<String> {
        if let Some(reason) = &self.declined {
            return Some(format!(
                "--jobs loads every table in place, in the restore's transaction: {reason}"
            ));
        }
        if self.in_place.is_empty() {
            return None;
        }
        // By reason, in the order first met: one table named for each.
        let mut reasons: Vec<(&str, &QualifiedName, usize)> = Vec::new();
        for (table, why) in &self.in_place {
            match reasons.iter_mut().find(|(w, _, _)| w == why) {
                Some((_, _, n)) => *n += 1,
                None => reasons.push((why, table, 1)),
            }
        }
        let parts: Vec<String> = reasons
            .iter()
            .map(|(why, table, n)| match n {
                1 => format!("{table}: {why}"),
                n => format!("{n} tables such as {table}: {why}"),
            })
            .collect();
        Some(format!(
            "--jobs loads in place, in the restore's transaction, {}",
            parts.join("; ")
        ))
    }
}

/// A name for this run's shadow schemas, unlike any other run's.
pub(crate) fn run_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}_{nanos:x}", std::process::id())
}

/// Decide which of the target's tables are swapped. `run` names this
/// restore's shadow schemas.
pub(crate) async fn plan(
    client: &Client,
    manifest: &Manifest,
    target: &Target,
    run: &str,
) -> Result<Swaps> {
    let mut swaps = Swaps::default();
    let candidates = candidates(manifest, target, &mut swaps.in_place);
    for table in &candidates {
        let next = format!(
            "{}{run}_{}",
            shadow_sql::SHADOW_PREFIX,
            swaps.schemas.len() + 1
        );
        swaps
            .schemas
            .entry(table.name.schema.clone())
            .or_insert(next);
    }
    let oids: Vec<u32> = candidates.iter().map(|t| t.oid).collect();
    let shadows: Vec<&str> = candidates
        .iter()
        .map(|t| swaps.schemas[&t.name.schema].as_str())
        .collect();
    let rows = client
        .query(shadow_sql::SWAP_PLANS, &[&oids, &shadows])
        .await
        .context("cannot read how to rebuild the tables for --jobs")?;
    let sequences: HashSet<&QualifiedName> = manifest.sequences.iter().map(|s| &s.name).collect();
    for (table, row) in candidates.iter().zip(&rows) {
        let reason: Option<String> = row.get("reason");
        let identity: Vec<(String, String)> = row
            .get::<_, Vec<String>>("identity_columns")
            .into_iter()
            .zip(row.get::<_, Vec<String>>("identity_sequences"))
            .collect();
        let reason = reason.or_else(|| identity_reason(&table.name, &identity, &sequences));
        if let Some(reason) = reason {
            swaps.in_place.push((table.name.clone(), reason));
            continue;
        }
        swaps.tables.push(SwapPlan {
            position: manifest
                .tables
                .iter()
                .position(|e| e.name == table.name)
                .expect("a target table is the artifact's"),
            target: table.name.clone(),
            shadow_schema: swaps.schemas[&table.name.schema].clone(),
            create: row.get("create"),
            build: row.get("build"),
            release: row.get("release"),
            own: row.get("own"),
            triggers: row.get("triggers"),
            identity,
            identity_types: row.get("identity_types"),
        });
    }
    let used: HashSet<String> = swaps
        .tables
        .iter()
        .map(|p| p.target.schema.clone())
        .collect();
    swaps.schemas.retain(|schema, _| used.contains(schema));
    Ok(swaps)
}

/// The target's tables worth asking the server about; the others go to
/// `in_place` with the reason: small, partitioned, or created by the restore.
fn candidates<'a>(
    manifest: &Manifest,
    target: &'a Target,
    in_place: &mut Vec<(QualifiedName, String)>,
) -> Vec<&'a Table> {
    let bytes: HashMap<&QualifiedName, u64> =
        manifest.tables.iter().map(|t| (&t.name, t.bytes)).collect();
    let small = |name: &QualifiedName| bytes.get(name).copied().unwrap_or(0) < SWAP_MIN_BYTES;
    let mut candidates = Vec::new();
    for table in &target.tables {
        let reason = match () {
            _ if table.partitioned => "partitioned",
            _ if small(&table.name) => {
                "under 1 MiB of data, which loads faster than a table is built and swapped"
            }
            _ => {
                candidates.push(table);
                continue;
            }
        };
        in_place.push((table.name.clone(), reason.into()));
    }
    for table in &target.missing {
        in_place.push((table.clone(), "created by this restore".into()));
    }
    candidates
}

/// The new identity sequence takes the old one's name and state: only when
/// the old one lives beside its table and the artifact sets its state.
fn identity_reason(
    table: &QualifiedName,
    identity: &[(String, String)],
    sequences: &HashSet<&QualifiedName>,
) -> Option<String> {
    identity.iter().find_map(|(_, sequence)| {
        let (schema, name) = parse_table_name(sequence).ok()?;
        let name = QualifiedName::new(schema.unwrap_or_default(), name);
        let apart = name.schema != table.schema;
        (apart || !sequences.contains(&name)).then(|| {
            format!("with an identity sequence ({name}) apart from it or not in the artifact")
        })
    })
}

/// Why `--jobs` cannot build tables beside their targets for this restore.
pub(crate) fn declined(
    config: &RestoreConfig,
    loads_data: bool,
    clean: bool,
) -> Option<&'static str> {
    match () {
        _ if config.jobs <= 1 || !loads_data => None,
        _ if config.mode != Mode::Replace => Some("the merge modes change rows where they are"),
        _ if clean => Some("--clean recreates the tables"),
        _ if config.mvcc_safe => {
            Some("--mvcc-safe keeps the old rows for older snapshots, which a swap cannot")
        }
        _ => None,
    }
}

/// The tables `--jobs` swaps, once the lock budget has been fitted.
pub(crate) async fn decide(
    client: &Client,
    manifest: &Manifest,
    target: &Target,
    fit: &Fit,
) -> Result<Swaps> {
    if fit.keep_ordered_keys {
        return Ok(Swaps::declined(
            "the lock table has no room to drop every foreign key",
        ));
    }
    if fit.loading != Loading::Frozen {
        return Ok(Swaps::declined(
            "a table cannot be loaded frozen (see the note above)",
        ));
    }
    let swaps = plan(client, manifest, target, &run_name()).await?;
    // The swap also locks each shadow table, its indexes and its TOAST.
    let more: i64 = swaps.tables.iter().map(|p| 3 + p.build.len() as i64).sum();
    if more > fit.spare {
        return Ok(Swaps::declined(
            "the lock table has no room for the shadow tables beside the targets",
        ));
    }
    Ok(swaps)
}
