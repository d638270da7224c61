//! `seedpack export --format sql` restores with psql as `seedpack restore` does.

use std::path::Path;
use std::process::Command;

use crate::support::{dump, fixture, scratch, seedpack, TestDb};

/// Run a script with psql the way the export's header says to.
fn psql_restore(db: &TestDb, script: &Path) {
    let out = Command::new(&db.cluster.psql)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-d",
            &db.url(),
            "-f",
        ])
        .arg(script)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn export_matches_restore(label: &str, schema: &str, data: &str) {
    let src = TestDb::new(&format!("{label}_src"))
        .with_sql(schema)
        .with_sql(data);
    let via_restore = TestDb::new(&format!("{label}_restore"));
    let via_psql = TestDb::new(&format!("{label}_psql"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), label);
    crate::support::restore(&via_restore, &artifact).ok();
    let script = dir.path().join(format!("{label}.sql"));
    seedpack(&[
        "export",
        "-f",
        artifact.to_str().unwrap(),
        "--format",
        "sql",
        "-o",
        script.to_str().unwrap(),
    ])
    .run()
    .ok();
    psql_restore(&via_psql, &script);
    assert_eq!(via_psql.definitions(), src.definitions());
    assert_eq!(via_psql.snapshot(), src.snapshot());
    assert_eq!(via_psql.snapshot(), via_restore.snapshot());
}

#[test]
fn the_core_fixture_exports_to_a_script_psql_restores() {
    export_matches_restore(
        "exportcore",
        &fixture("core_schema.sql"),
        &fixture("core_data.sql"),
    );
}

#[test]
fn the_realistic_schema_exports_to_a_script_psql_restores() {
    export_matches_restore(
        "exportrental",
        &fixture("rental_schema.sql"),
        &fixture("rental_data.sql"),
    );
}

#[test]
fn export_writes_gzip_and_standard_output() {
    let src = TestDb::new("exportgz_src")
        .with_sql(&fixture("core_schema.sql"))
        .with_sql(&fixture("core_data.sql"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "gz");
    let gz = dir.path().join("out.sql.gz");
    seedpack(&[
        "export",
        "-f",
        artifact.to_str().unwrap(),
        "-o",
        gz.to_str().unwrap(),
    ])
    .run()
    .ok();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
        &mut text,
    )
    .unwrap();
    let stdout = seedpack(&[
        "export",
        "-f",
        artifact.to_str().unwrap(),
        "--format",
        "sql",
        "-o",
        "-",
    ])
    .run()
    .ok()
    .stdout;
    assert_eq!(text, stdout);
    assert!(
        stdout
            .contains("COPY \"public\".\"category\" (\"id\", \"parent_id\", \"name\") FROM stdin;"),
        "{stdout}"
    );
    assert!(stdout.contains("psql -v ON_ERROR_STOP=1 --single-transaction"));

    // A damaged artifact writes nothing, to a file or to standard output.
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 3;
    bytes[middle] ^= 0x55;
    let damaged = dir.path().join("damaged.seedpack");
    std::fs::write(&damaged, bytes).unwrap();
    let out = dir.path().join("never.sql");
    seedpack(&[
        "export",
        "-f",
        damaged.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
    .run()
    .expect_code(2);
    assert!(!out.exists());
    let run = seedpack(&["export", "-f", damaged.to_str().unwrap()])
        .run()
        .expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}
