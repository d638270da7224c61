//! What a transaction older than a replace sees once it commits: the new
//! data in every table (the default: frozen loads, partitioned tables leaf
//! by leaf), or the old data in every table (`--mvcc-safe`, and whenever a
//! partitioned table cannot be loaded leaf by leaf), never a mix.

use std::path::Path;

use crate::support::readers::OldSnapshot;
use crate::support::{
    check_with, dump, manifest_json, manifest_table, restore_with, scratch, TestDb,
};

/// An ordinary table and a partitioned one with a sub-partitioned leaf.
const SCHEMA: &str = "
CREATE TABLE plain (id int PRIMARY KEY, v text);
CREATE TABLE parted (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us') PARTITION BY RANGE (id);
CREATE TABLE parted_us_low PARTITION OF parted_us FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_us_high PARTITION OF parted_us FOR VALUES FROM (100) TO (MAXVALUE);";

const NEW_ROWS: &str = "
INSERT INTO plain VALUES (1, 'new'), (2, 'new'), (3, 'new');
INSERT INTO parted VALUES (1, 'eu', 'new'), (2, 'eu', 'new'), (3, 'us', 'new'), (4, 'us', 'new'), (150, 'us', 'new');";

const OLD_ROWS: &str = "
INSERT INTO plain VALUES (9, 'old');
INSERT INTO parted VALUES (9, 'eu', 'old');";

/// Per table: rows and their values, as the old transaction reads them.
const READS: &[&str] = &[
    "SELECT count(*) || ' ' || coalesce(string_agg(DISTINCT v, ','), '') FROM plain",
    "SELECT count(*) || ' ' || coalesce(string_agg(DISTINCT v, ','), '') FROM parted",
];

const NEW_STATE: [&str; 2] = ["3 new", "5 new"];
const OLD_STATE: [&str; 2] = ["1 old", "1 old"];

fn source(label: &str) -> TestDb {
    TestDb::new(label).with_sql(SCHEMA).with_sql(NEW_ROWS)
}

/// Replace `target`'s data with the artifact while a transaction older
/// than the restore waits; what it reads afterwards.
fn old_transaction_reads(target: &TestDb, artifact: &Path, extra: &[&str]) -> Vec<String> {
    let old = OldSnapshot::take(target.url(), READS);
    let run = restore_with(target, artifact, extra).ok();
    let reads = old.read();
    assert_eq!(
        [target.sql(READS[0]), target.sql(READS[1])],
        NEW_STATE,
        "the restore committed the new data ({})",
        run.stderr
    );
    reads
}

#[test]
fn an_old_transaction_sees_the_new_data_in_every_table() {
    let src = source("vis_frozen_src");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "vis");
    // The partitioned table's data was written leaf by leaf.
    let manifest = manifest_json(&artifact);
    let leaves: Vec<String> = manifest_table(&manifest, "parted")["partitions"]
        .as_array()
        .expect("the partitioned table's leaf shares")
        .iter()
        .map(|p| format!("{} {}", p["name"].as_str().unwrap(), p["rows"]))
        .collect();
    assert_eq!(
        leaves,
        ["parted_eu 2", "parted_us_high 1", "parted_us_low 2"]
    );

    let dst = TestDb::new("vis_frozen_dst")
        .with_sql(SCHEMA)
        .with_sql(OLD_ROWS);
    assert_eq!(old_transaction_reads(&dst, &artifact, &[]), NEW_STATE);
    // Each leaf holds its own rows, and the data is exactly the artifact's.
    assert_eq!(
        dst.sql("SELECT string_agg(tableoid::regclass || ':' || id, ',' ORDER BY id) FROM parted"),
        "parted_eu:1,parted_eu:2,parted_us_low:3,parted_us_low:4,parted_us_high:150"
    );
    check_with(&dst, &artifact, &[]).ok();

    // Into an empty database: the same, the tables created and loaded frozen.
    let empty = TestDb::new("vis_frozen_empty");
    restore_with(&empty, &artifact, &[]).ok();
    assert_eq!([empty.sql(READS[0]), empty.sql(READS[1])], NEW_STATE);
    check_with(&empty, &artifact, &[]).ok();
}

#[test]
fn mvcc_safe_keeps_an_old_transaction_on_the_old_data_in_every_table() {
    let src = source("vis_safe_src");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "vis");
    let dst = TestDb::new("vis_safe_dst")
        .with_sql(SCHEMA)
        .with_sql(OLD_ROWS);
    assert_eq!(
        old_transaction_reads(&dst, &artifact, &["--mvcc-safe"]),
        OLD_STATE
    );
    check_with(&dst, &artifact, &[]).ok();
}

#[test]
fn into_empty_tables_an_old_transaction_sees_every_table_still_empty() {
    // A schema just migrated: nothing to truncate, rows loaded unfrozen.
    let src = source("vis_empty_src");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "vis");
    let dst = TestDb::new("vis_empty_dst").with_sql(SCHEMA);
    assert_eq!(
        old_transaction_reads(&dst, &artifact, &["--data-only"]),
        ["0 ", "0 "]
    );
    check_with(&dst, &artifact, &[]).ok();
}

#[test]
fn a_target_partitioned_otherwise_is_loaded_mvcc_safe_and_says_so() {
    let src = source("vis_other_src");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "vis");
    // The target splits the US partition differently.
    let other = SCHEMA
        .replace("TO (100)", "TO (50)")
        .replace("FROM (100)", "FROM (50)");
    let dst = TestDb::new("vis_other_dst")
        .with_sql(&other)
        .with_sql(OLD_ROWS);
    let old = OldSnapshot::take(dst.url(), READS);
    let run = restore_with(&dst, &artifact, &[]).ok();
    assert_eq!(old.read(), OLD_STATE);
    assert!(
        run.stderr.contains(
            "table \"public\".\"parted\" has partitions in the target other than the artifact's"
        ) && run.stderr.contains("emptied with DELETE"),
        "{}",
        run.stderr
    );
    assert_eq!([dst.sql(READS[0]), dst.sql(READS[1])], NEW_STATE);
    // Checked by key, as its leaves are not the artifact's.
    check_with(&dst, &artifact, &[]).ok();
}

#[test]
fn partitions_larger_than_a_read_chunk_load_whole_leaf_by_leaf() {
    // Leaf shares end inside the chunks the artifact is read in (256 KiB):
    // the rest of a chunk must start the next leaf, none may be skipped.
    let src = TestDb::new("vis_big_src").with_sql(
        "CREATE TABLE reading (id int, at int, payload text, PRIMARY KEY (id, at))
           PARTITION BY RANGE (at);
         CREATE TABLE reading_a PARTITION OF reading FOR VALUES FROM (0) TO (3);
         CREATE TABLE reading_b PARTITION OF reading FOR VALUES FROM (3) TO (7);
         CREATE TABLE reading_c PARTITION OF reading FOR VALUES FROM (7) TO (10);
         INSERT INTO reading SELECT i, i % 10, md5(i::text) || md5((i * 7)::text)
         FROM generate_series(1, 40000) i;",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "vis_big");
    let manifest = manifest_json(&artifact);
    assert_eq!(
        manifest_table(&manifest, "reading")["partitions"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "dumped leaf by leaf"
    );
    const LEAVES: &str = "SELECT string_agg(leaf || '=' || n, ',' ORDER BY leaf)
                          FROM (SELECT tableoid::regclass::text AS leaf, count(*) AS n
                                FROM reading GROUP BY 1) x";
    // Into an empty database, and replacing the rows of an existing one.
    let empty = TestDb::new("vis_big_empty");
    restore_with(&empty, &artifact, &["-q"]).ok();
    assert_eq!(empty.sql(LEAVES), src.sql(LEAVES));
    assert_eq!(empty.snapshot(), src.snapshot());
    restore_with(&empty, &artifact, &["-q", "--data-only", "--force"]).ok();
    assert_eq!(empty.snapshot(), src.snapshot());
}
