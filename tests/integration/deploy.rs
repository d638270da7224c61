//! The deploy loop as applications run it: migrations make the schema, a
//! seed built in CI is applied on every deploy, skipped when it is what the
//! tables hold, applied again after a rollback.

use crate::support::{dump, restore_with, scratch, TestDb};

const SCHEMA: &str = "CREATE TABLE public.country (code text PRIMARY KEY, name text NOT NULL);";

fn names(db: &TestDb) -> String {
    db.sql("SELECT string_agg(code || '=' || name, ',' ORDER BY code) FROM public.country")
}

/// Apply `artifact` to `db` with `args`; true when it was skipped.
fn deploy(db: &TestDb, artifact: &std::path::Path, args: &[&str]) -> bool {
    let run = restore_with(db, artifact, args).ok();
    run.stdout.starts_with("already applied")
}

#[test]
fn a_rollback_then_a_roll_forward_applies_again() {
    let dir = scratch();
    let v1 = TestDb::new("roll_v1")
        .with_sql(SCHEMA)
        .with_sql("INSERT INTO public.country VALUES ('de', 'Germany'), ('fr', 'France');");
    let v2 = TestDb::new("roll_v2").with_sql(SCHEMA).with_sql(
        "INSERT INTO public.country VALUES ('de', 'Deutschland'), ('fr', 'France'), ('it', 'Italy');",
    );
    let (a1, a2) = (dump(&v1, dir.path(), "v1"), dump(&v2, dir.path(), "v2"));
    let (v1_names, v2_names) = ("de=Germany,fr=France", "de=Deutschland,fr=France,it=Italy");

    for mode in ["replace", "upsert"] {
        let production = TestDb::new("roll_prod").with_sql(SCHEMA);
        let args = ["--mode", mode];
        assert!(!deploy(&production, &a1, &args), "{mode}: v1");
        assert_eq!(names(&production), v1_names);
        assert!(
            deploy(&production, &a1, &args),
            "{mode}: v1 again is a no-op"
        );
        assert!(!deploy(&production, &a2, &args), "{mode}: v2");
        assert_eq!(names(&production), v2_names);
        assert!(!deploy(&production, &a1, &args), "{mode}: rollback to v1");
        if mode == "replace" {
            assert_eq!(names(&production), v1_names);
        } else {
            // Upsert keeps rows the seed no longer has; v1's values are back.
            assert_eq!(names(&production), "de=Germany,fr=France,it=Italy");
        }
        assert!(
            !deploy(&production, &a2, &args),
            "{mode}: v2 again after the rollback"
        );
        assert_eq!(names(&production), v2_names);
        assert!(
            deploy(&production, &a2, &args),
            "{mode}: v2 a second time is a no-op"
        );
        let modes =
            production.sql("SELECT string_agg(mode, ',' ORDER BY id) FROM seedpack.history");
        assert_eq!(modes, [mode; 4].join(","));
    }

    // --clean is a mode of its own: the same content replaced before does
    // not make a clean restore a no-op.
    let production = TestDb::new("roll_clean").with_sql(SCHEMA);
    assert!(!deploy(&production, &a2, &[]));
    assert!(!deploy(&production, &a2, &["--clean"]));
    assert!(deploy(&production, &a2, &["--clean"]));
    assert_eq!(
        production.sql("SELECT string_agg(mode, ',' ORDER BY id) FROM seedpack.history"),
        "replace,clean"
    );
}

#[test]
fn a_restore_does_not_create_tables_migrations_own_unless_asked() {
    let dir = scratch();
    let migrations = "CREATE TABLE public.schema_migrations (version text PRIMARY KEY);
                      INSERT INTO public.schema_migrations VALUES ('1');";
    // The seed comes from newer code, whose migration adds public.region.
    let seed = TestDb::new("own_seed").with_sql(SCHEMA).with_sql(
        "CREATE TABLE public.region (code text PRIMARY KEY);
         INSERT INTO public.country VALUES ('fr', 'France');
         INSERT INTO public.region VALUES ('eu');",
    );
    let artifact = dump(&seed, dir.path(), "newer");
    let production = TestDb::new("own_prod")
        .with_sql(SCHEMA)
        .with_sql(migrations);
    let before = production.snapshot();
    for extra in [&[][..], &["--dry-run"][..]] {
        let run = restore_with(&production, &artifact, extra).expect_code(3);
        assert!(
            run.stderr.contains(
                "migrations manage the target's schema (\"public\".\"schema_migrations\"), and this \
                 restore would create 1 table(s) it lacks: \"public\".\"region\""
            ) && run.stderr.contains("--create-missing"),
            "{}",
            run.stderr
        );
        assert_eq!(production.snapshot(), before);
    }
    // Once the migration has run, the recipes' --data-only restore loads it.
    production.sql("CREATE TABLE public.region (code text PRIMARY KEY); INSERT INTO public.schema_migrations VALUES ('2');");
    restore_with(&production, &artifact, &["--data-only", "--quiet"]).ok();
    assert_eq!(production.sql("SELECT code FROM public.region"), "eu");

    // Asked for, it creates the table.
    let asked = TestDb::new("own_asked")
        .with_sql(SCHEMA)
        .with_sql(migrations);
    restore_with(&asked, &artifact, &["--create-missing", "--quiet"]).ok();
    assert_eq!(asked.sql("SELECT code FROM public.region"), "eu");
}

#[test]
fn check_contains_passes_after_a_merge_and_names_the_keys_that_differ() {
    let dir = scratch();
    let seed = TestDb::new("contains_seed").with_sql(SCHEMA).with_sql(
        "INSERT INTO public.country VALUES ('de', 'Germany'), ('fr', 'France'), ('it', 'Italy');",
    );
    let artifact = dump(&seed, dir.path(), "seed");
    let production = TestDb::new("contains_prod")
        .with_sql(SCHEMA)
        .with_sql("INSERT INTO public.country VALUES ('es', 'Spain'), ('fr', 'Frankreich');");
    restore_with(&production, &artifact, &["--mode", "upsert", "--quiet"]).ok();
    let url = production.url();
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--file", artifact.to_str().unwrap(), "--dsn", &url];
        args.extend(extra);
        crate::support::seedpack(&args)
            .secret(&production.cluster.owner_password)
            .run()
    };
    // Production's own row (es) makes it differ exactly, not by containment.
    let exact = check(&[]).expect_code(1);
    assert!(exact.stdout.contains("  extra    (es)"), "{}", exact.stdout);
    check(&["--mode", "contains"]).ok();

    production.sql("UPDATE public.country SET name = 'Italia' WHERE code = 'it'; DELETE FROM public.country WHERE code = 'de';");
    let run = check(&["--mode", "contains"]).expect_code(1);
    assert!(
        run.stdout
            .contains("2 of the artifact's 3 rows missing or changed")
            && run.stdout.contains("  missing  (de)\n  changed  (it)"),
        "{}",
        run.stdout
    );
    let json = check(&["--mode", "contains", "--json"]).expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["mode"], "contains");
    assert_eq!(
        report["tables"][0]["differences"][0]["difference"],
        "missing"
    );
    // A --key that names no table of the artifact is a usage error, not a
    // quiet fallback to the primary key.
    check(&["--mode", "contains", "--key", "contry=code"]).expect_code(2);
}
