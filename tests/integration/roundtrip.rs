//! Every type, identifier and table shape survives dump and restore exactly.

use crate::support::{
    dump, dump_command, dump_with, fixture, manifest_json, restore, scratch, TestDb,
};

/// Source and target with the core fixture's schema; the source with its data.
pub fn fixture_pair(label: &str) -> (TestDb, TestDb) {
    let schema = fixture("core_schema.sql");
    let src = TestDb::new(&format!("{label}_src"))
        .with_sql(&schema)
        .with_sql(&fixture("core_data.sql"));
    let dst = TestDb::new(&format!("{label}_dst")).with_sql(&schema);
    (src, dst)
}

/// Session defaults that would change how values print, set on a database
/// so that only seedpack's fixed session settings can make values round-trip.
fn unfriendly_settings(db: &TestDb) {
    db.sql(&format!(
        "ALTER DATABASE \"{0}\" SET DateStyle = 'SQL, DMY';
         ALTER DATABASE \"{0}\" SET TimeZone = 'Asia/Kolkata';
         ALTER DATABASE \"{0}\" SET IntervalStyle = 'sql_standard';
         ALTER DATABASE \"{0}\" SET extra_float_digits = -3;
         ALTER DATABASE \"{0}\" SET bytea_output = 'escape';
         ALTER DATABASE \"{0}\" SET search_path = 'nowhere';",
        db.name
    ));
}

#[test]
fn every_fixture_value_round_trips_exactly_as_a_non_superuser() {
    let (src, dst) = fixture_pair("every");
    assert_eq!(
        src.sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"),
        "f",
        "tests must run as a non-superuser owner"
    );
    unfriendly_settings(&src);
    unfriendly_settings(&dst);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "every");
    restore(&dst, &artifact).ok();
    assert_eq!(dst.snapshot(), src.snapshot());
    // No credential reaches the artifact, the sidecar, or the history.
    let password = &dst.cluster.owner_password;
    for file in [artifact.clone(), dir.path().join("every.seedpack.sha256")] {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes
                .windows(password.len())
                .any(|w| w == password.as_bytes()),
            "{}",
            file.display()
        );
    }
    assert!(!dst
        .sql("SELECT h::text FROM seedpack.history h")
        .contains(password.as_str()));
    // Partition rows were routed to the partitions they came from.
    assert_eq!(
        dst.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM ONLY public.measurement_eu"),
        "1,4"
    );
    // Inheritance: the parent's own rows only; the child is its own table.
    assert_eq!(dst.sql("SELECT count(*) FROM ONLY public.vehicle"), "1");
    assert_eq!(dst.sql("SELECT count(*) FROM public.car"), "1");
}

#[test]
fn restore_replaces_existing_rows_and_twice_gives_the_same_state() {
    let (src, dst) = fixture_pair("twice");
    dst.sql(&fixture("core_data.sql"));
    dst.sql(
        "INSERT INTO public.category VALUES (99, NULL, 'extra');
         UPDATE public.book SET title = 'changed';
         INSERT INTO public.log_line VALUES (now(), 'extra');
         SELECT setval('public.legacy_id_seq', 500);",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "twice");
    restore(&dst, &artifact).ok();
    let first = dst.snapshot();
    assert_eq!(first, src.snapshot());
    restore(&dst, &artifact).ok();
    assert_eq!(dst.snapshot(), first);
}

#[test]
fn identity_generated_and_sequences_end_at_their_dumped_state() {
    let (src, dst) = fixture_pair("seq");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "seq");
    restore(&dst, &artifact).ok();
    // GENERATED ALWAYS identity values kept, generated column recomputed.
    assert_eq!(
        dst.sql("SELECT string_agg(id || ':' || code_len, ',' ORDER BY id) FROM public.ticket"),
        "1:1,3:3,100:4"
    );
    for sequence in [
        "public.ticket_id_seq",
        "public.legacy_id_seq",
        "public.by_default_id_seq",
        "public.standalone_seq",
    ] {
        let query = format!("SELECT last_value || ' ' || is_called FROM {sequence}");
        assert_eq!(dst.sql(&query), src.sql(&query), "{sequence}");
    }
    // The next values continue where the source's would.
    assert_eq!(
        dst.sql("INSERT INTO public.ticket (code) VALUES ('e') RETURNING id"),
        src.sql("INSERT INTO public.ticket (code) VALUES ('e') RETURNING id")
    );
    assert_eq!(dst.sql("SELECT nextval('public.standalone_seq')"), "42");
}

#[test]
fn dumps_of_unchanged_data_are_byte_identical_with_source_date_epoch() {
    let (src, _dst) = fixture_pair("repro");
    let dir = scratch();
    let mut files = Vec::new();
    for name in ["one.seedpack", "two.seedpack"] {
        let path = dir.path().join(name);
        dump_command(&src, &path, &[])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .run()
            .ok();
        files.push(std::fs::read(&path).unwrap());
    }
    assert!(files[0] == files[1], "two dumps of the same data differ");
    // Rows inserted in another physical order still dump the same.
    src.sql("CLUSTER public.category USING category_pkey");
    src.sql("VACUUM FULL public.log_line");
    let path = dir.path().join("three.seedpack");
    dump_command(&src, &path, &[])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .run()
        .ok();
    assert!(std::fs::read(&path).unwrap() == files[0]);
}

#[test]
fn only_the_chosen_tables_are_dumped_and_replaced() {
    let (src, dst) = fixture_pair("subset");
    dst.sql(&fixture("core_data.sql"));
    dst.sql("UPDATE public.book SET title = 'target title'; DELETE FROM public.log_line;");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump_with(
        &src,
        dir.path(),
        "subset",
        &[
            "--table",
            "public.log_line",
            "--table",
            "\"Odd Schema\".\"Child\"",
            "--schema",
            "public",
            "--schema",
            "Odd Schema",
            "--exclude-table",
            "book",
        ],
    );
    let manifest = manifest_json(&artifact);
    let names: Vec<&str> = manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"log_line") && names.contains(&"Child"));

    restore(&dst, &artifact).ok();
    assert_eq!(
        dst.sql("SELECT count(*) FROM public.log_line"),
        src.sql("SELECT count(*) FROM public.log_line")
    );
    assert_eq!(
        dst.sql("SELECT DISTINCT title FROM public.book"),
        "target title"
    );
    // Everything but the two tables is as it was.
    let untouched = |s: &str| {
        s.split("== ")
            .filter(|part| {
                !part.starts_with("public.log_line")
                    && !part.starts_with("\"Odd Schema\".\"Child\"")
            })
            .collect::<Vec<_>>()
            .join("== ")
    };
    assert_eq!(untouched(&dst.snapshot()), untouched(&before));
}
