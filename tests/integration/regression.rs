//! PostgreSQL's own regression database, the torture test pg_dump and
//! pg_upgrade are held to, dumped as superuser and restored into an empty
//! database: `pg_dump --schema-only` of both must be the same but for what
//! the dump says it leaves out (each listed below with why), the data must
//! match the artifact exactly, and every sequence must end where it was.
//!
//! Needs the database `scripts/regression-db.sh` builds (the server's
//! Debian source package, `pg_regress`, a few minutes, root for apt), so it
//! is `#[ignore]`d in a plain `cargo test`; `.ci/run` builds it with the
//! machine's major, 13 and 18 (`--major`) and runs this against each with
//! `SEEDPACK_TEST_REGRESSION_URL` and `SEEDPACK_TEST_PG_DUMP` set. The
//! target is made on the same server; pg_dump is the newest here.

use crate::support::cluster::{find_bindir, psql};
use crate::support::pg_dump::{entries, schema_only};
use crate::support::{scratch, seedpack};

/// pg_dump entry types a dump deliberately leaves out, and why; the dump
/// warns about each such object (`warning`).
const LEFT_OUT: [(&str, &str); 6] = [
    (
        "FOREIGN DATA WRAPPER",
        "a wrapper describes the source's network, not its data",
    ),
    ("SERVER", "a foreign server describes the source's network"),
    (
        "PUBLICATION",
        "publications configure the source's replication",
    ),
    ("PUBLICATION TABLE", "part of a publication"),
    ("PUBLICATION TABLES IN SCHEMA", "part of a publication"),
    (
        "RULE",
        "only a rule named _RETURN on a table (the tests rename one so): PostgreSQL creates that \
         name only as a view's SELECT rule, so neither seedpack nor pg_dump's script can restore it",
    ),
];

/// Whether `entry` is one a dump leaves out on purpose.
fn left_out(entry: &str) -> bool {
    let entry_type = entry_type(entry);
    LEFT_OUT.iter().any(|(kind, _)| *kind == entry_type)
        && (entry_type != "RULE" || entry_name(entry).ends_with(" _RETURN"))
}

/// The warning a dump gives for a left-out entry that names an object of
/// its own; the parts of a publication are said with it.
fn warning(entry: &str) -> Option<String> {
    let name = entry_name(entry);
    let word = match entry_type(entry) {
        "FOREIGN DATA WRAPPER" => "foreign-data wrapper",
        "SERVER" => "server",
        "PUBLICATION" => "publication",
        "RULE" => {
            let (table, rule) = name.split_once(' ')?;
            let schema = entry.split("; Schema: ").nth(1)?.split(';').next()?;
            return Some(format!(
                "warning: rule {rule} on table {schema}.{table} is not carried"
            ));
        }
        _ => return None,
    };
    Some(format!("warning: {word} {name} is not carried"))
}

#[test]
#[ignore = "needs PostgreSQL's regression database, which scripts/regression-db.sh builds (minutes, root for apt); .ci/run builds it and runs this"]
fn the_regression_database_restores_into_an_empty_database_as_pg_dump_sees_it() {
    let source = std::env::var("SEEDPACK_TEST_REGRESSION_URL").unwrap_or_else(|_| {
        panic!(
            "SEEDPACK_TEST_REGRESSION_URL is not set: run eval \"$(bash scripts/regression-db.sh)\" \
             and pass its REGRESSION_URL (as .ci/run does)"
        )
    });
    let (base, _) = source.rsplit_once('/').expect("a URL ending in a database");
    let name = format!("regression_restored_{}", std::process::id());
    let target = format!("{base}/{name}");
    let psql_path = find_bindir().join("psql");
    let admin = format!("{base}/postgres");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name} TEMPLATE template0"),
    ] {
        psql(&psql_path, &admin, &statement).expect("a target database");
    }

    let dir = scratch();
    let artifact = dir.path().join("regression.seedpack");
    let artifact_arg = artifact.to_str().unwrap();
    let dumped = seedpack(&["dump", "--dsn", &source, "-o", artifact_arg])
        .run()
        .ok();
    seedpack(&[
        "restore",
        "--yes",
        "-q",
        "-f",
        artifact_arg,
        "--dsn",
        &target,
    ])
    .run()
    .ok();

    let major: u32 = psql(&psql_path, &source, "SHOW server_version_num")
        .expect("the server's version")
        .parse::<u32>()
        .expect("a number")
        / 10000;
    let before = entries(&schema_only(&source, &psql_path, major));
    let after = entries(&schema_only(&target, &psql_path, major));
    let mut unexplained = Vec::new();
    for (entry, count) in &before {
        let restored = after.get(entry).copied().unwrap_or(0);
        if restored == *count {
            continue;
        }
        if restored == 0 && left_out(entry) {
            if let Some(warning) = warning(entry) {
                assert!(
                    dumped.stderr.contains(&warning),
                    "{entry} is left out without a warning ({warning}):\n{}",
                    dumped.stderr
                );
            }
        } else {
            unexplained.push(format!("only in the source:\n{entry}"));
        }
    }
    for entry in after.keys().filter(|e| !before.contains_key(*e)) {
        unexplained.push(format!("only in the target:\n{entry}"));
    }
    assert!(
        unexplained.is_empty(),
        "pg_dump --schema-only differs:\n{}",
        unexplained.join("\n\n")
    );

    // Every table's data as the artifact holds it, and every sequence where it was.
    check_exact(artifact_arg, &target);
    // Again, into the schema the first restore made: a replace of every
    // table, through its rules, shell type and NOT VALID checks.
    seedpack(&[
        "restore",
        "--yes",
        "-q",
        "--force",
        "-f",
        artifact_arg,
        "--dsn",
        &target,
    ])
    .run()
    .ok();
    check_exact(artifact_arg, &target);
    restore_again_with_jobs(
        &target,
        &dir.path().join("tenk.seedpack"),
        &psql_path,
        major,
    );
    const SEQUENCES: &str = "SELECT string_agg(schemaname || '.' || sequencename || ' '
                                               || coalesce(last_value::text, '-'), E'\\n'
                                               ORDER BY schemaname, sequencename)
                             FROM pg_sequences WHERE schemaname <> 'seedpack'";
    assert_eq!(
        psql(&psql_path, &target, SEQUENCES).unwrap(),
        psql(&psql_path, &source, SEQUENCES).unwrap()
    );
    psql(&psql_path, &admin, &format!("DROP DATABASE {name}")).expect("dropped");
}

/// Replace tenk1's data in the restored database with `--jobs 2`: grown to
/// three times its rows first, so that it is worth swapping (1 MiB or
/// more), and dumped from there; then the table (with its many indexes) is
/// a new object, and neither pg_dump nor `check` sees any other difference.
/// (Not the whole database: a data-only restore into its tables trips
/// `NOT VALID` checks that its rows violate.)
fn restore_again_with_jobs(
    target: &str,
    artifact: &std::path::Path,
    psql_path: &std::path::Path,
    major: u32,
) {
    const TENK1: &str = "SELECT oid FROM pg_class WHERE oid = 'public.tenk1'::regclass";
    const GROW: &str = "INSERT INTO public.tenk1
        SELECT unique1 + n * 10000, unique2 + n * 10000, two, four, ten, twenty, hundred,
               thousand, twothousand, fivethous, tenthous, odd, even, stringu1, stringu2, string4
        FROM public.tenk1, generate_series(1, 2) AS n";
    psql(psql_path, target, GROW).expect("tenk1 grown");
    let artifact = artifact.to_str().unwrap();
    seedpack(&[
        "dump",
        "-q",
        "--dsn",
        target,
        "--table",
        "public.tenk1",
        "-o",
        artifact,
    ])
    .run()
    .ok();
    psql(
        psql_path,
        target,
        "DELETE FROM public.tenk1 WHERE unique1 % 3 = 0",
    )
    .expect("changed");
    let (schema, tenk1) = (
        schema_only(target, psql_path, major),
        psql(psql_path, target, TENK1).unwrap(),
    );
    let mut restore = vec![
        "restore",
        "--yes",
        "-q",
        "--force",
        "--data-only",
        "--jobs",
        "2",
    ];
    restore.extend(["-f", artifact, "--dsn", target]);
    seedpack(&restore).run().ok();
    assert_ne!(
        psql(psql_path, target, TENK1).unwrap(),
        tenk1,
        "tenk1 was swapped"
    );
    assert!(
        schema_only(target, psql_path, major) == schema,
        "pg_dump --schema-only differs after restore --jobs"
    );
    check_exact(artifact, target);
    assert_eq!(
        psql(
            psql_path,
            target,
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'seedpack\\_shadow%'"
        )
        .unwrap(),
        "0"
    );
}

/// `seedpack check --mode exact`: the target holds the artifact's data.
fn check_exact(artifact: &str, target: &str) {
    seedpack(&["check", "-f", artifact, "--dsn", target, "--mode", "exact"])
        .run()
        .ok();
}

/// An entry's `Type:`, from its header `NAME; Type: TYPE; Schema: ...`.
fn entry_type(entry: &str) -> &str {
    entry
        .split("; Type: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or("")
}

fn entry_name(entry: &str) -> &str {
    entry.split(';').next().unwrap_or("")
}
