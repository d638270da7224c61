//! The lock budget: a restore holds a lock on every relation it touches
//! until it commits, in a shared table sized by `max_locks_per_transaction`.
//! Where `pg_restore -1` fits, seedpack fits; where nothing fits, it refuses
//! before any write, naming the setting.

use crate::support::cluster::{self, Cluster};
use crate::support::{dump, dump_command, restore_with, scratch, TestDb};

/// `pairs` parent tables and as many children with a foreign key to one,
/// three rows each, as statements in chunks of `chunk` pairs, each small
/// enough for one transaction (psql runs one `-c` as one).
fn schema_chunks(pairs: usize, chunk: usize, with_rows: bool) -> Vec<String> {
    (0..pairs)
        .collect::<Vec<_>>()
        .chunks(chunk)
        .map(|chunk| {
            chunk
                .iter()
                .map(|i| {
                    let mut sql = format!(
                        "CREATE TABLE parent_{i} (id int PRIMARY KEY, name text NOT NULL);
                         CREATE TABLE child_{i} (id int PRIMARY KEY,
                                                 parent_id int NOT NULL REFERENCES parent_{i}, note text);"
                    );
                    if with_rows {
                        sql.push_str(&format!(
                            "INSERT INTO parent_{i} VALUES (1, 'a'), (2, 'b'), (3, 'c');
                             INSERT INTO child_{i} VALUES (1, 1, 'x'), (2, 2, NULL), (3, 2, 'z');"
                        ));
                    }
                    sql
                })
                .collect()
        })
        .collect()
}

fn database_with(
    cluster: &'static Cluster,
    label: &str,
    (pairs, chunk): (usize, usize),
    with_rows: bool,
) -> TestDb {
    let db = TestDb::on(cluster, label);
    for chunk in schema_chunks(pairs, chunk, with_rows) {
        db.sql(&chunk);
    }
    db
}

/// Foreign keys, tables, and rows in all of them.
const SUMMARY: &str = "
SELECT (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated)
       || ' ' || count(*)
       || ' ' || sum((xpath('/row/n/text()',
                            query_to_xml(format('SELECT count(*) AS n FROM %I', relname), false, true, '')))[1]
                     ::text::int)
FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace";

#[test]
fn three_thousand_tables_restore_data_only_with_the_default_lock_settings() {
    // The defaults, stated: the test cluster must not inherit larger ones.
    let cluster: &'static Cluster = Box::leak(Box::new(Cluster::start_with(
        "max_locks_per_transaction = 64\nmax_connections = 100",
        &[],
    )));
    let source = database_with(cluster, "locks_src", (1500, 100), true);
    let target = database_with(cluster, "locks_dst", (1500, 100), false);
    let dir = scratch();
    let artifact = dump(&source, dir.path(), "locks");
    let run = restore_with(&target, &artifact, &["--data-only"]).ok();
    assert!(
        run.stderr.contains("stay in force"),
        "no word on keeping the foreign keys:\n{}",
        run.stderr
    );
    assert_eq!(target.sql(SUMMARY), "1500 3000 9000");
    assert_eq!(
        target.sql("SELECT string_agg(c::text, ' ' ORDER BY id) FROM child_1234 c"),
        source.sql("SELECT string_agg(c::text, ' ' ORDER BY id) FROM child_1234 c")
    );
    // The same again, into tables holding the rows: replaced, not added to.
    restore_with(&target, &artifact, &["--data-only", "--force", "--quiet"]).ok();
    assert_eq!(target.sql(SUMMARY), "1500 3000 9000");
}

#[test]
fn a_restore_the_lock_table_cannot_hold_is_refused_naming_the_setting() {
    // Room for about 1,000 relations in all: 1,200 tables and their keys
    // do not fit. (No autovacuum: its locks would come and go meanwhile.)
    let cluster: &'static Cluster = Box::leak(Box::new(Cluster::start_with(
        "max_locks_per_transaction = 32\nmax_connections = 10\nautovacuum = off",
        &[],
    )));
    // Dumped where it fits; restored where it does not.
    let source = database_with(cluster::shared(), "tight_src", (600, 10), true);
    let target = database_with(cluster, "tight_dst", (600, 10), false);
    target.sql("INSERT INTO parent_0 VALUES (7, 'kept')");
    let dir = scratch();
    let artifact = dump(&source, dir.path(), "tight");
    let run = restore_with(&target, &artifact, &["--data-only"]).expect_code(3);
    let message = run.stderr.trim();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("set max_locks_per_transaction to at least")
            && message.contains("it is 32"),
        "{message}"
    );
    assert_eq!(
        target.sql("SELECT string_agg(name, ',') FROM parent_0"),
        "kept"
    );
}

#[test]
fn a_dump_over_several_connections_fits_where_one_connection_does() {
    // Room for about 640 relations: 500 tables (and the catalogs a dump
    // reads) fit once, not three times.
    let cluster: &'static Cluster = Box::leak(Box::new(Cluster::start_with(
        "max_locks_per_transaction = 20\nmax_connections = 10\nautovacuum = off",
        &[],
    )));
    let db = TestDb::on(cluster, "jobs_locks");
    for chunk in (0..500).collect::<Vec<_>>().chunks(25) {
        let sql: String = chunk
            .iter()
            .map(|i| format!("CREATE TABLE t_{i} (v text); INSERT INTO t_{i} VALUES ('{i}');"))
            .collect();
        db.sql(&sql);
    }
    let dir = scratch();
    // One dump time for both, so that equal data is equal bytes.
    let dump_jobs = |name: &str, jobs: &str| {
        let path = dir.path().join(format!("{name}.seedpack"));
        dump_command(&db, &path, &["--jobs", jobs])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .run()
            .ok();
        path
    };
    let one = dump_jobs("one", "1");
    let three = dump_jobs("three", "3");
    assert_eq!(
        std::fs::read(&one).unwrap(),
        std::fs::read(&three).unwrap(),
        "three connections wrote other bytes than one"
    );
    let copy = TestDb::new("jobs_locks_copy");
    restore_with(&copy, &three, &["--quiet"]).ok();
    assert_eq!(copy.sql("SELECT v FROM t_499"), "499");
}
