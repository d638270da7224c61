//! The restore's lock budget. One transaction holds a lock on every
//! relation it touches until it commits, and the server's shared lock table
//! has room for `max_locks_per_transaction` of them per server process:
//! past that, a statement fails with "out of shared memory", halfway. So
//! before any write the restore counts what it will lock (each table and
//! each of its indexes, which `COPY` opens; a `TRUNCATE` also replaces the
//! table's TOAST table and its index; a table it creates has all of these;
//! dropping a foreign key locks it and its triggers), loads without
//! `TRUNCATE` and with the foreign keys between tables loaded in order in
//! force when only that fits, and refuses when nothing does, naming the
//! setting and the value that would.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use super::target::Target;
use super::visibility::Loading;
use crate::artifact::{Manifest, TableEntry};
use crate::error::Error;

/// Of the existing tables $1 and every partition under them: the relations
/// any load locks (each table and index) and those a `TRUNCATE` adds (TOAST
/// tables and their indexes).
const EXISTING: &str = "
SELECT COALESCE(sum(1 + (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)), 0)::int8
         AS loaded,
       COALESCE(sum(CASE WHEN c.reltoastrelid <> 0 THEN 2 ELSE 0 END), 0)::int8 AS truncated
FROM (SELECT u.oid AS relid FROM unnest($1::oid[]) AS u(oid)
      UNION
      SELECT t.relid FROM unnest($1::oid[]) AS u(oid), pg_catalog.pg_partition_tree(u.oid) AS t) AS r
JOIN pg_catalog.pg_class c ON c.oid = r.relid";

/// The shared lock table's size in relations, as the server allocates it
/// (`max_locks_per_transaction` for each process it may run and each
/// prepared transaction), the setting itself, what it is multiplied by,
/// and the entries other sessions hold now.
const BUDGET: &str = "
SELECT current_setting('max_locks_per_transaction')::int8 AS per_process,
       (current_setting('max_connections')::int8 + current_setting('autovacuum_max_workers')::int8 + 1
        + current_setting('max_worker_processes')::int8 + current_setting('max_wal_senders')::int8
        + current_setting('max_prepared_transactions')::int8) AS processes,
       (SELECT count(*) FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'relation' AND NOT l.fastpath AND l.pid <> pg_catalog.pg_backend_pid())
         AS held";

/// Relations besides the tables' that the transaction locks: sequences,
/// seedpack's history, the catalogs' own entries.
const MARGIN: i64 = 64;

/// Lock-table entries a foreign key dropped and re-added takes: dropping
/// locks the constraint and its four triggers, re-adding the new constraint.
const PER_DROPPED_KEY: i64 = 6;

/// How the restore loads within the lock budget.
#[derive(Debug)]
pub(super) struct Fit {
    pub loading: Loading,
    /// Foreign keys between tables loaded in order stay in force, each row
    /// checked as it is loaded, rather than being dropped and re-added.
    pub keep_ordered_keys: bool,
    /// Why the restore loads otherwise than it would with room enough.
    pub note: Option<String>,
    /// Lock-table entries left over with this plan (what `--jobs` may use
    /// to swap tables in).
    pub spare: i64,
}

/// The loading that fits the lock budget: `loading`, dropping and re-adding
/// every foreign key, when it does; when it does not, but would without
/// `TRUNCATE` and with the foreign keys between tables loaded in order kept
/// in force, that, with a sentence saying so; a refusal naming the setting
/// and the value needed when nothing does.
pub(super) async fn fit(
    client: &Client,
    manifest: &Manifest,
    target: &Target,
    loading: Loading,
) -> Result<Fit> {
    let oids: Vec<u32> = target.tables.iter().map(|t| t.oid).collect();
    let existing = client
        .query_one(EXISTING, &[&oids])
        .await
        .context("cannot count the relations the restore locks")?;
    let created: i64 = manifest
        .tables
        .iter()
        .filter(|t| target.missing.contains(&t.name))
        .map(created_relations)
        .sum();
    let keys = target.all_foreign_keys().count() as i64;
    let kept = target.foreign_keys_kept_in_order().len() as i64;
    let base = existing.get::<_, i64>("loaded") + created + MARGIN;
    let truncated = existing.get::<_, i64>("truncated");
    let budget = client
        .query_one(BUDGET, &[])
        .await
        .context("cannot read the server's lock settings")?;
    let per_process: i64 = budget.get("per_process");
    let processes: i64 = budget.get("processes");
    let room = per_process * processes - budget.get::<_, i64>("held");

    let dropping_all = base + PER_DROPPED_KEY * keys;
    let needed = match loading {
        Loading::Frozen => dropping_all + truncated,
        Loading::MvccSafe => dropping_all,
    };
    if needed <= room {
        return Ok(Fit {
            loading,
            keep_ordered_keys: false,
            note: None,
            spare: room - needed,
        });
    }
    let keeping = base + PER_DROPPED_KEY * (keys - kept);
    // The table grows past its nominal size into the server's spare shared
    // memory (pg_restore -1 created 10,000 tables, 40,000 relations, where
    // the nominal size was 31,232): a restore that needs more than the
    // nominal room takes the plan that needs less, but is refused only
    // past half as much again.
    if keeping <= room * 3 / 2 {
        return Ok(Fit {
            loading: Loading::MvccSafe,
            keep_ordered_keys: true,
            note: Some(format!(
                "emptying the tables and dropping their foreign keys for the load would lock \
                 about {} relations and constraints at once, more than the server's lock table \
                 holds now ({room}; max_locks_per_transaction is {per_process}): the {kept} \
                 foreign keys between tables loaded in order stay in force (each row checked as \
                 it is loaded), and every table is emptied with DELETE and loaded unfrozen (as \
                 with --mvcc-safe)",
                dropping_all + truncated
            )),
            spare: 0,
        });
    }
    // What fits the nominal size, which is what the server promises.
    let held = per_process * processes - room;
    let needed = (keeping + held + processes - 1) / processes;
    Err(Error::Refused(format!(
        "the restore would lock about {keeping} relations and constraints in one transaction, \
         more than the server's lock table holds now ({room}): set max_locks_per_transaction to \
         at least {needed} (it is {per_process}; a restart applies it); nothing was changed"
    ))
    .into())
}

/// The relations a table the restore creates adds: itself, its primary
/// key's index, and a TOAST table and index unless every column is of a
/// fixed-width type; each of its partitions alike.
fn created_relations(entry: &TableEntry) -> i64 {
    const FIXED: [&str; 12] = [
        "integer",
        "bigint",
        "smallint",
        "boolean",
        "real",
        "double precision",
        "date",
        "timestamp without time zone",
        "timestamp with time zone",
        "uuid",
        "oid",
        "\"char\"",
    ];
    let toast = if entry
        .columns
        .iter()
        .all(|c| FIXED.contains(&c.type_name.as_str()))
    {
        0
    } else {
        2
    };
    let key = i64::from(!entry.primary_key.is_empty());
    let per_relation = 1 + key + toast;
    per_relation * (1 + entry.partitions.len() as i64)
}
