//! Deploy-safe seeding: replace, upsert and insert-missing modes, the
//! history that makes a repeated apply a no-op, concurrent deploys, and the
//! drift check.

use crate::roundtrip::fixture_pair;
use crate::support::blocking::{restore_until_waiting, wait_until_no_seedpack_session, Holder};
use crate::support::{dump_with, fixture, restore, restore_with, scratch, seedpack, TestDb};

/// The fixture's tables that have a key (upsert and insert-missing need one).
const KEYED: [&str; 6] = [
    "--exclude-table",
    "log_line",
    "--exclude-table",
    "no_columns",
    "--exclude-table",
    "car",
];

fn history_rows(db: &TestDb) -> String {
    db.sql("SELECT count(*) FROM seedpack.history")
}

#[test]
fn upsert_updates_and_inserts_by_key_and_keeps_the_targets_own_rows() {
    let (src, dst) = fixture_pair("upsert");
    dst.sql(&fixture("core_data.sql"));
    dst.sql(
        "UPDATE public.book SET title = 'changed' WHERE id = 10;
         DELETE FROM public.category WHERE id = 2;
         INSERT INTO public.category VALUES (50, 3, 'added by a user');
         UPDATE public.cyc_a SET b_id = NULL WHERE id = 2;",
    );
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "upsert", &KEYED);
    let run = restore_with(&dst, &artifact, &["--mode", "upsert"]).ok();
    assert!(run.stdout.contains("mode upsert"), "{}", run.stdout);
    let book = run
        .stdout
        .lines()
        .find(|l| l.starts_with("\"public\".\"book\""))
        .unwrap()
        .to_owned();
    assert_eq!(
        book.split_whitespace().collect::<Vec<_>>()[1..],
        ["3", "0", "1", "0", "3"],
        "{book}"
    );
    let category = run
        .stdout
        .lines()
        .find(|l| l.starts_with("\"public\".\"category\""))
        .unwrap()
        .to_owned();
    assert_eq!(
        category.split_whitespace().collect::<Vec<_>>()[1..],
        ["4", "1", "0", "0", "5"],
        "{category}"
    );

    assert_eq!(
        dst.sql("SELECT title FROM public.book WHERE id = 10"),
        "Notes"
    );
    assert_eq!(
        dst.sql("SELECT name FROM public.category WHERE id = 50"),
        "added by a user"
    );
    assert_eq!(
        dst.sql("SELECT name FROM public.category WHERE id = 2"),
        "grandchild"
    );
    assert_eq!(dst.sql("SELECT b_id FROM public.cyc_a WHERE id = 2"), "6");
    // Nothing duplicated, every key is back in force.
    assert_eq!(dst.sql("SELECT count(*) FROM public.category"), "5");
    assert!(dst
        .try_sql("INSERT INTO public.category VALUES (60, 999, 'x')")
        .is_err());
}

#[test]
fn insert_missing_inserts_only_absent_rows() {
    let (src, dst) = fixture_pair("insmiss");
    dst.sql(&fixture("core_data.sql"));
    dst.sql("UPDATE public.book SET title = 'kept' WHERE id = 10; DELETE FROM public.category WHERE id = 2;");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "insmiss", &KEYED);
    restore_with(&dst, &artifact, &["--mode", "insert-missing"]).ok();
    assert_eq!(
        dst.sql("SELECT title FROM public.book WHERE id = 10"),
        "kept"
    );
    assert_eq!(
        dst.sql("SELECT name FROM public.category WHERE id = 2"),
        "grandchild"
    );
    assert_eq!(dst.sql("SELECT count(*) FROM public.category"), "4");
}

#[test]
fn a_table_without_a_key_is_refused_in_upsert_mode_before_any_write() {
    let (src, dst) = fixture_pair("nokey");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "nokey", &[]);
    let run = restore_with(&dst, &artifact, &["--mode", "upsert"]).expect_code(3);
    assert!(
        run.stderr
            .contains("has no primary key or unique constraint"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\"public\".\""), "{}", run.stderr);
    assert_eq!(dst.snapshot(), before);
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'seedpack'"),
        "0"
    );
}

#[test]
fn applying_twice_is_skipped_force_applies_again_and_status_lists_them() {
    let (src, dst) = fixture_pair("twice_hist");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "hist", &["--label", "v2"]);
    restore(&dst, &artifact).ok();
    assert_eq!(history_rows(&dst), "1");
    let state = dst.snapshot();

    let run = restore_with(&dst, &artifact, &[]).ok();
    assert!(
        run.stdout.starts_with("already applied: content id"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("label v2"), "{}", run.stdout);
    assert_eq!(history_rows(&dst), "1");
    assert_eq!(dst.snapshot(), state);

    // --force applies the same content again.
    restore_with(&dst, &artifact, &["--force"]).ok();
    assert_eq!(history_rows(&dst), "2");

    let status = seedpack(&["status", "--dsn", &dst.url()]).run().ok();
    assert_eq!(status.stdout.lines().count(), 3, "{}", status.stdout);
    assert!(
        status.stdout.contains("v2") && status.stdout.contains("replace"),
        "{}",
        status.stdout
    );
    let json = seedpack(&["status", "--json", "--dsn", &dst.url()])
        .run()
        .ok();
    let applied: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(applied.as_array().unwrap().len(), 2);
    assert_eq!(applied[0]["label"], "v2");
    assert_eq!(applied[0]["artifact"], "hist.seedpack");
    assert_eq!(applied[0]["applied_by"], crate::support::cluster::OWNER);
    let book = applied[0]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "book")
        .unwrap();
    assert_eq!(book["inserted"], 3);
}

#[test]
fn no_history_leaves_the_database_free_of_seedpack_objects() {
    let (src, dst) = fixture_pair("nohist");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "nohist", &[]);
    restore_with(&dst, &artifact, &["--no-history"]).ok();
    restore_with(&dst, &artifact, &["--no-history"]).ok();
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'seedpack'"),
        "0"
    );
    assert_eq!(dst.snapshot(), src.snapshot());
    // A history table of the user's choosing.
    restore_with(&dst, &artifact, &["--history-table", "public.seed_runs"]).ok();
    assert_eq!(dst.sql("SELECT count(*) FROM public.seed_runs"), "1");
}

#[test]
fn eight_concurrent_restores_apply_once_and_the_rest_skip() {
    let (src, dst) = fixture_pair("concurrent");
    dst.sql(&fixture("core_data.sql"));
    dst.sql("UPDATE public.book SET title = 'stale'");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "concurrent", &KEYED);
    let url = dst.url();
    let path = artifact.to_str().unwrap().to_owned();
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let (url, path) = (url.clone(), path.clone());
            std::thread::spawn(move || {
                seedpack(&[
                    "restore", "--yes", "--mode", "upsert", "-f", &path, "--dsn", &url,
                ])
                .run()
            })
        })
        .collect();
    let runs: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    }
    let skipped = runs
        .iter()
        .filter(|r| r.stdout.starts_with("already applied"))
        .count();
    assert_eq!(
        skipped,
        7,
        "{:?}",
        runs.iter().map(|r| &r.stdout).collect::<Vec<_>>()
    );
    assert_eq!(history_rows(&dst), "1");
    assert_eq!(dst.sql("SELECT count(*) FROM public.book"), "3");
    assert_eq!(
        dst.sql("SELECT count(DISTINCT title) FROM public.book WHERE title = 'stale'"),
        "0"
    );
}

#[test]
fn a_killed_apply_leaves_no_history_row_and_no_data() {
    let shared = crate::support::cluster::shared();
    let src = TestDb::on(shared, "killhist_src")
        .with_sql("CREATE TABLE public.big (id serial PRIMARY KEY, v text);
                   INSERT INTO public.big (v) SELECT md5(i::text) FROM generate_series(1, 20000) i;");
    let dst = TestDb::on(shared, "killhist_dst").with_sql(
        "CREATE TABLE public.big (id serial PRIMARY KEY, v text);
         INSERT INTO public.big VALUES (1, 'production''s own');",
    );
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "kill", &[]);
    // A writer holds row 1, which the merge updates: the merge waits there,
    // inside its transaction, with every other row staged and merged.
    let holder = Holder::hold(&dst, "SELECT * FROM public.big WHERE id = 1 FOR UPDATE");
    let before = dst.rows_and_constraints();
    let mut child = restore_until_waiting(&dst, &artifact, &["--mode", "upsert"], "WITH ");
    child.kill().unwrap();
    child.wait().unwrap();
    holder.release();
    wait_until_no_seedpack_session(&dst);
    assert_eq!(dst.rows_and_constraints(), before);
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'seedpack'"),
        "0"
    );

    // And a lock wait past --lock-timeout fails cleanly, writing nothing.
    let holder = Holder::sequence(&dst, "public.big_id_seq");
    let before = dst.snapshot();
    let run = restore_with(&dst, &artifact, &["--lock-timeout", "1s"]).expect_code(1);
    assert!(run.stderr.contains("lock timeout"), "{}", run.stderr);
    holder.release();
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn check_reports_equal_differs_and_missing() {
    let (src, dst) = fixture_pair("check");
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "check", &[]);
    restore(&dst, &artifact).ok();
    let run = seedpack(&[
        "check",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &dst.url(),
    ])
    .run()
    .ok();
    assert!(
        run.stdout
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with('"'))
            .all(|l| l.contains(" equal")),
        "{}",
        run.stdout
    );

    dst.sql("UPDATE public.book SET title = 'drifted' WHERE id = 11; DROP TABLE public.empty_one;");
    let run = seedpack(&[
        "check",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &dst.url(),
    ])
    .run()
    .expect_code(1);
    let line = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("\"public\".\"book\"").contains("differs"),
        "{}",
        run.stdout
    );
    assert!(
        line("\"public\".\"empty_one\"").contains("missing"),
        "{}",
        run.stdout
    );
    assert!(
        line("\"public\".\"author\"").contains("equal"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("2 of"), "{}", run.stderr);
    let json = seedpack(&[
        "check",
        "--json",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &dst.url(),
    ])
    .run()
    .expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let states: Vec<&str> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.iter().filter(|s| **s == "differs").count(), 1);
    assert_eq!(states.iter().filter(|s| **s == "missing").count(), 1);
    // The table that differs names the row that does, by its key.
    let book = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "book")
        .unwrap();
    assert_eq!(
        book["differences"],
        serde_json::json!([{"key": "(11)", "difference": "changed"}]),
        "{book:#}"
    );
    assert!(
        run.stdout
            .contains("first rows of \"public\".\"book\" that differ, by key\n  changed  (11)"),
        "{}",
        run.stdout
    );
}
