//! `dump --jobs`: tables split by key range over several connections in one
//! snapshot give the same bytes as one connection; `--no-order`.

use crate::roundtrip::fixture_pair;
use crate::support::{dump_command, dump_with, restore, scratch, seedpack, TestDb};

/// Two tables of about 20 MiB each, large enough to be split: one keyed by
/// bigint, one by text in a collation of its own (ranges must cut where
/// ORDER BY does), with a self-reference, so the restore has work to do.
fn large_tables(label: &str) -> TestDb {
    TestDb::new(label).with_sql(
        "CREATE TABLE by_number (
             id bigint PRIMARY KEY,
             parent bigint REFERENCES by_number,
             body text NOT NULL,
             at timestamptz NOT NULL
         );
         INSERT INTO by_number
         SELECT i, CASE WHEN i > 1 THEN i / 2 END, repeat(md5(i::text), 4),
                '2026-01-01'::timestamptz + i * interval '1 second'
         FROM generate_series(1, 120000) i;
         CREATE TABLE by_name (
             name text COLLATE \"C\" NOT NULL,
             version int NOT NULL,
             body text NOT NULL,
             PRIMARY KEY (name, version)
         );
         INSERT INTO by_name
         SELECT (ARRAY['Zeta', 'alpha', 'Émile', 'b'])[1 + i % 4] || md5(i::text), i % 3,
                repeat(md5((-i)::text), 4)
         FROM generate_series(1, 120000) i;
         ANALYZE by_number, by_name;",
    )
}

fn parts_read(summary: &str) -> usize {
    let line = summary
        .lines()
        .find(|l| l.starts_with("read over "))
        .unwrap_or_else(|| panic!("no connections line in:\n{summary}"));
    line.split(" in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no part count in {line:?}"))
}

#[test]
fn jobs_split_large_tables_into_key_ranges_and_keep_the_bytes() {
    let src = large_tables("jobs_src");
    let dir = scratch();
    let dump_jobs = |name: &str, jobs: &str| {
        let path = dir.path().join(format!("{name}.seedpack"));
        let url = src.url();
        let run = seedpack(&[
            "dump",
            "--dsn",
            &url,
            "--output",
            path.to_str().unwrap(),
            "--jobs",
            jobs,
        ])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .secret(&src.cluster.owner_password)
        .run()
        .ok();
        (path, run)
    };
    let (one_path, one) = dump_jobs("jobs1", "1");
    let (three_path, three) = dump_jobs("jobs3", "3");
    let (one, three) = (one.stdout, three.stdout);
    assert!(one.contains("read over 1 connection in 2 parts"), "{one}");
    assert!(three.contains("read over 3 connections in "), "{three}");
    assert!(parts_read(&three) >= 4, "both tables split:\n{three}");
    assert!(
        std::fs::read(&one_path).unwrap() == std::fs::read(&three_path).unwrap(),
        "one connection and three wrote different bytes"
    );

    let dst = TestDb::new("jobs_dst");
    restore(&dst, &three_path).ok();
    assert_eq!(dst.snapshot(), src.snapshot());

    // A database at its connection limit still gets its dump, on fewer connections.
    src.sql(&format!(
        "ALTER DATABASE \"{}\" CONNECTION LIMIT 2",
        src.name
    ));
    let (path, run) = dump_jobs("limited", "3");
    assert!(
        run.stdout.contains("read over 2 connections in "),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("dumping over 2 instead of 3"),
        "{}",
        run.stderr
    );
    assert!(std::fs::read(&path).unwrap() == std::fs::read(&one_path).unwrap());
}

#[test]
fn no_order_round_trips_and_check_refuses_it() {
    let (src, dst) = fixture_pair("no_order");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "no_order", &["--no-order"]);
    restore(&dst, &artifact).ok();
    assert_eq!(dst.snapshot(), src.snapshot());

    let url = dst.url();
    let run = seedpack(&["check", "--file", artifact.to_str().unwrap(), "--dsn", &url])
        .secret(&dst.cluster.owner_password)
        .run()
        .expect_code(2);
    assert!(run.stderr.contains("--no-order"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn jobs_zero_is_refused() {
    let src = TestDb::new("jobs_zero");
    let dir = scratch();
    let run = dump_command(&src, &dir.path().join("x.seedpack"), &["--jobs", "0"])
        .run()
        .expect_code(2);
    assert!(run.stderr.contains("--jobs"), "{}", run.stderr);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}
