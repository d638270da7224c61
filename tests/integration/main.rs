//! seedpack's integration tests: one binary, real PostgreSQL.
//!
//! Each test makes its own databases on a throwaway cluster (see
//! `support::cluster`), so tests run in parallel; a failed test keeps its
//! databases and cluster for inspection.
//!
//! Modules:
//! - `roundtrip`: every type, identifier and table shape survives dump and restore
//! - `bookkeeping`: seedpack's history and migration tables never travel or get overwritten
//! - `cycles`:    self-references and cycles restore without superuser, constraints exact
//! - `triggers`:  user triggers do not fire and keep their states
//! - `deploy`:    the deploy loop: apply, skip, roll back, roll forward
//! - `damage`:    flipped bytes and truncation are refused before the database is touched
//! - `hostile`:   thousands of mutated artifacts, a decompression bomb, hostile manifests
//! - `faults`:    servers starting or stopping, interrupts, kills, full disks, lock and permission failures
//! - `refusals`:  missing tables, incompatible columns, outside references, no terminal
//! - `atomicity`: killing the client or the server mid-restore changes nothing
//! - `connection`: DSN forms, PG* variables, and connection failures
//! - `commands`:  verify, inspect and plan as users run them
//! - `compression`: zstd, gzip and none restore alike, reproduce, and open with tar and zstd/gzip
//! - `sandbox`:   seedpack sandbox: a throwaway server, the artifact restored and checked
//! - `fidelity`:  minimal repros of what real schemas broke, restored into empty databases
//! - `objects`:   operators, casts, collations, text search, base types; superuser-only objects refused up front
//! - `privileges`: dump --privileges and restore --privileges: grants, default privileges, missing roles
//! - `schema`:    restore into empty databases, schema-only and data-only, warnings
//! - `export`:    SQL scripts that psql restores as seedpack restore does
//! - `parallel`:  dump --jobs splits tables by key range and keeps the bytes; --no-order
//! - `scripts`:   the scripts CI workflows and deploys call, against real databases
//! - `swap`:      restore --jobs: shadow tables swapped in exactly; kills; readers never see a mix
//! - `statistics`: large tables analyzed after a restore; hostile statistics members refused
//! - `seeding`:   upsert and insert-missing, history, concurrent deploys, drift check
//! - `tls`:       sslmodes through rustls against a TLS-only cluster with test certificates
//! - `visibility`: what a transaction older than a replace sees: new data everywhere, or old (--mvcc-safe)
//! - `versions`:  dump from the oldest and newest majors, restore into the others (run by .ci/run)
//! - `regression`: PostgreSQL's regression database restores as pg_dump sees it (run by .ci/run)

mod support;

mod atomicity;
mod bookkeeping;
mod commands;
mod compression;
mod connection;
mod cycles;
mod damage;
mod deploy;
mod export;
mod faults;
mod fidelity;
mod hostile;
mod locks;
mod objects;
mod parallel;
mod privileges;
mod refusals;
mod regression;
mod roundtrip;
mod sandbox;
mod schema;
mod scripts;
mod seeding;
mod statistics;
mod swap;
mod tls;
mod triggers;
mod versions;
mod visibility;
