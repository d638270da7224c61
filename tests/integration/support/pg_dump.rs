//! `pg_dump --schema-only` as the yardstick of a restored schema: the
//! newest pg_dump on this machine, its output split into entries so two
//! databases' can be compared entry by entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `pg_dump --schema-only` of `url` without owners, privileges, seedpack's
/// own bookkeeping and the per-run `\restrict` keys, by a pg_dump at least
/// as new as the server (`server_major`), the newest here.
pub fn schema_only(url: &str, psql: &Path, server_major: u32) -> String {
    let (pg_dump, major) = newest_pg_dump(psql);
    assert!(
        major >= server_major,
        "comparing schemas needs a pg_dump of PostgreSQL {server_major} or newer; the newest here \
         is {major} ({}): install the client of that major (Debian/Ubuntu: apt-get install \
         postgresql-client-{server_major})",
        pg_dump.display()
    );
    let output = Command::new(&pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-schema=seedpack",
            url,
        ])
        .output()
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// pg_dump's output as its entries (from one `-- Name:` header to the
/// next comment block), counted.
pub fn entries(dump: &str) -> BTreeMap<String, usize> {
    let mut counted = BTreeMap::new();
    for block in dump.split("\n--\n-- ") {
        if let Some(entry) = block.strip_prefix("Name: ") {
            let entry = entry.trim().trim_end_matches("--").trim();
            *counted.entry(entry.to_owned()).or_insert(0) += 1;
        }
    }
    counted
}

/// Entries of `a` not in `b` (as many times as they are missing), each
/// headed by `label`.
pub fn missing(
    a: &BTreeMap<String, usize>,
    b: &BTreeMap<String, usize>,
    label: &str,
) -> Vec<String> {
    a.iter()
        .filter(|(entry, count)| b.get(*entry).copied().unwrap_or(0) < **count)
        .map(|(entry, _)| format!("{label}:\n{entry}"))
        .collect()
}

/// The newest pg_dump here and its major: `SEEDPACK_TEST_PG_DUMP`'s (a
/// client built from source, as `scripts/regression-db.sh --major 18`
/// does), the one beside `psql`, or one under `/usr/lib/postgresql`.
fn newest_pg_dump(psql: &Path) -> (PathBuf, u32) {
    let mut candidates: Vec<PathBuf> = std::env::var_os("SEEDPACK_TEST_PG_DUMP")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    candidates.push(psql.with_file_name("pg_dump"));
    if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(dirs.flatten().map(|d| d.path().join("bin/pg_dump")));
    }
    candidates
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| major_of(&p).map(|major| (p, major)))
        .max_by_key(|(_, major)| *major)
        .expect("no pg_dump found (Debian/Ubuntu: apt-get install postgresql-client)")
}

/// The major of `pg_dump --version` ("pg_dump (PostgreSQL) 15.20 ...").
fn major_of(pg_dump: &Path) -> Option<u32> {
    let output = Command::new(pg_dump).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.split_whitespace().nth(2)?;
    version.split('.').next()?.parse().ok()
}
