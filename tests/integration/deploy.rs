//! The deploy loop as applications run it: migrations make the schema, a
//! seed built in CI is applied on every deploy, skipped when it is what the
//! tables hold, applied again after a rollback.

use crate::support::readers::read_while;
use crate::support::{check_with, dump, restore_with, rows_and_constraints, scratch, TestDb};

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
    let check = |extra: &[&str]| check_with(&production, &artifact, extra);
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

/// A Rails-style schema: surrogate ids from sequences, natural keys with
/// unique constraints, a parent/child pair and a self-referencing tree.
const APP: &str = "
CREATE TABLE public.regions (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE public.countries (
    id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL UNIQUE,
    region_id bigint NOT NULL REFERENCES public.regions (id));
CREATE TABLE public.categories (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, slug text NOT NULL UNIQUE,
    parent_id bigint REFERENCES public.categories (id));";

const KEYS: [&str; 6] = [
    "--key",
    "regions=code",
    "--key",
    "countries=code",
    "--key",
    "categories=slug",
];

/// The relationships, by natural key: what must hold whatever the ids are.
fn by_natural_key(db: &TestDb) -> String {
    db.sql(
        "SELECT string_agg(c.code || ':' || c.name || '@' || r.code, ',' ORDER BY c.code)
         FROM public.countries c JOIN public.regions r ON r.id = c.region_id;
         SELECT string_agg(c.slug || '<' || coalesce(p.slug, '-'), ',' ORDER BY c.slug)
         FROM public.categories c LEFT JOIN public.categories p ON p.id = c.parent_id;",
    )
}

fn seed_v1() -> TestDb {
    TestDb::new("natural_seed").with_sql(APP).with_sql(
        "INSERT INTO public.regions (code, name) VALUES ('eu', 'Europe'), ('as', 'Asia');
         INSERT INTO public.countries (code, name, region_id) VALUES
             ('fr', 'France', 1), ('de', 'Germany', 1), ('jp', 'Japan', 2);
         INSERT INTO public.categories (slug, parent_id) VALUES ('root', NULL);
         INSERT INTO public.categories (slug, parent_id) VALUES ('books', 1), ('music', 1);
         INSERT INTO public.categories (slug, parent_id) VALUES ('jazz', 3);",
    )
}

/// Production's own rows, made first, so their ids are the seed's ids.
const PRODUCTION_ROWS: &str = "
INSERT INTO public.regions (code, name) VALUES ('xx', 'Own region'), ('yy', 'Other own');
INSERT INTO public.countries (code, name, region_id) VALUES ('zz', 'Own country', 2);
INSERT INTO public.categories (slug, parent_id) VALUES ('own', NULL), ('own-child', 1);";

#[test]
fn merges_match_natural_keys_and_translate_every_reference_to_the_targets_ids() {
    let dir = scratch();
    let seed = seed_v1();
    let artifact = dump(&seed, dir.path(), "natural");
    for mode in ["upsert", "insert-missing"] {
        let production = TestDb::new("natural_prod")
            .with_sql(APP)
            .with_sql(PRODUCTION_ROWS);
        let own = production.sql(
            "SELECT string_agg(id || code, ',' ORDER BY id) FROM public.regions;
             SELECT string_agg(id || code, ',' ORDER BY id) FROM public.countries;",
        );
        let mut args = vec!["--mode", mode, "--quiet"];
        args.extend(KEYS);
        restore_with(&production, &artifact, &args).ok();
        // The seed's relationships hold, though every id differs.
        let expected = by_natural_key(&seed);
        let got = by_natural_key(&production);
        for line in expected.lines().flat_map(|l| l.split(',')) {
            assert!(got.contains(line), "{mode}: {line} missing from\n{got}");
        }
        // Production's own rows kept their ids and values.
        let own_after = production.sql(
            "SELECT string_agg(id || code, ',' ORDER BY id) FROM public.regions WHERE code IN ('xx', 'yy');
             SELECT string_agg(id || code, ',' ORDER BY id) FROM public.countries WHERE code = 'zz';",
        );
        assert_eq!(own_after, own, "{mode}");
        assert!(got.contains("own-child<own"), "{mode}: {got}");
        // New rows took ids from production's own sequences.
        assert_eq!(
            production.sql("SELECT min(id) FROM public.regions WHERE code IN ('eu', 'as')"),
            "3",
            "{mode}"
        );
        // Applying again changes nothing.
        let settled = production.snapshot();
        let mut again = args.clone();
        again.push("--force");
        restore_with(&production, &artifact, &again).ok();
        assert_eq!(
            production.snapshot(),
            settled,
            "{mode}: a second apply changed something"
        );
    }
}

#[test]
fn natural_keys_are_refused_without_a_unique_index_and_collisions_name_the_row() {
    let dir = scratch();
    let seed = seed_v1();
    let production = TestDb::new("natural_refusals")
        .with_sql(APP)
        .with_sql(PRODUCTION_ROWS);
    let before = production.snapshot();

    // A key the target cannot match on: refused before any write.
    let no_index = TestDb::new("natural_noindex").with_sql(
        "CREATE TABLE public.regions (id bigserial PRIMARY KEY, code text NOT NULL, name text NOT NULL);",
    );
    let regions = crate::support::dump_with(&seed, dir.path(), "regions", &["--table", "regions"]);
    let run = restore_with(
        &no_index,
        &regions,
        &["--mode", "upsert", "--key", "regions=code"],
    )
    .expect_code(3);
    assert!(
        run.stderr
            .contains("table \"public\".\"regions\" has no unique constraint or index on (code)"),
        "{}",
        run.stderr
    );

    // dump --key records the key, so the deploy needs no flag; a seed row
    // whose other unique value (name) production uses for another code
    // fails on one line naming table, constraint and value.
    let keyed = crate::support::dump_with(
        &seed,
        dir.path(),
        "keyed",
        &[
            "--key",
            "regions=code",
            "--key",
            "countries=code",
            "--key",
            "categories=slug",
        ],
    );
    production
        .sql("INSERT INTO public.countries (code, name, region_id) VALUES ('fx', 'France', 1)");
    let before_collision = production.snapshot();
    let run = restore_with(&production, &keyed, &["--mode", "upsert", "--quiet"]).expect_code(1);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "table \"public\".\"countries\": a seed row collides with a row of the target on unique \
             constraint countries_name_key (Key (name)=(France) already exists)"
        ),
        "{}",
        run.stderr
    );
    // (Sequences may have moved: nextval is not transactional.)
    assert_eq!(
        production.rows_and_constraints(),
        rows_and_constraints(&before_collision)
    );
    production.sql("DELETE FROM public.countries WHERE code = 'fx'");
    assert_eq!(
        production.rows_and_constraints(),
        rows_and_constraints(&before)
    );
    restore_with(&production, &keyed, &["--mode", "upsert", "--quiet"]).ok();
    assert!(by_natural_key(&production).contains("fr:France@eu"));

    // dump --key refuses a key the source cannot identify rows by.
    let url = seed.url();
    crate::support::seedpack(&[
        "dump",
        "--dsn",
        &url,
        "-o",
        dir.path().join("x.seedpack").to_str().unwrap(),
        "--key",
        "regions=name",
    ])
    .secret(&seed.cluster.owner_password)
    .run()
    .expect_code(2);
}

#[test]
fn a_merge_never_blocks_the_applications_readers() {
    let schema =
        "CREATE TABLE public.items (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text);";
    let seed = TestDb::new("noblock_seed").with_sql(schema).with_sql(
        "INSERT INTO public.items SELECT i, 'k' || i, 'seeded ' || i FROM generate_series(1, 100000) i;",
    );
    let dir = scratch();
    let artifact = dump(&seed, dir.path(), "items");
    let production = TestDb::new("noblock_prod").with_sql(schema).with_sql(
        "INSERT INTO public.items SELECT i, 'k' || i, 'old ' || i FROM generate_series(1, 100000) i;",
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = read_while(
        production.url(),
        "SELECT name FROM public.items WHERE code = 'k42'",
        "items",
        stop.clone(),
    );
    let started = std::time::Instant::now();
    restore_with(&production, &artifact, &["--mode", "upsert", "--quiet"]).ok();
    let merge_took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (reads, longest, exclusive) = reader.join().unwrap();
    println!(
        "upsert of 100000 rows took {merge_took:?}; {reads} reads meanwhile, the longest {longest:?}"
    );
    assert_eq!(
        production.sql("SELECT count(*) FROM public.items WHERE name LIKE 'seeded%'"),
        "100000"
    );
    assert_eq!(
        exclusive, 0,
        "the merge took an exclusive lock on the table"
    );
    assert!(reads > 10, "{reads} reads during {merge_took:?}");
    // A reader blocked behind the merge would wait for all of it.
    assert!(
        longest < merge_took / 2,
        "a read waited {longest:?} of {merge_took:?}"
    );
}

#[test]
fn the_whole_deploy_loop_keeps_productions_own_rows() {
    let dir = scratch();
    let flags = "CREATE TABLE public.flags (name text PRIMARY KEY, enabled boolean NOT NULL);";
    let keyed = [
        "--key",
        "regions=code",
        "--key",
        "countries=code",
        "--key",
        "categories=slug",
    ];
    // v1 and v2 of the seed, built in CI from the same migrations.
    let v1_db = seed_v1();
    let v2_db = TestDb::new("loop_v2").with_sql(APP).with_sql(
        "INSERT INTO public.regions (code, name) VALUES ('as', 'Asia'), ('eu', 'Europa'), ('af', 'Africa');
         INSERT INTO public.countries (code, name, region_id) VALUES
             ('ke', 'Kenya', 3), ('fr', 'France', 2), ('jp', 'Nippon', 1), ('de', 'Germany', 2);
         INSERT INTO public.categories (slug, parent_id) VALUES ('root', NULL);
         INSERT INTO public.categories (slug, parent_id) VALUES ('music', 1);
         INSERT INTO public.categories (slug, parent_id) VALUES ('jazz', 2), ('books', 2);",
    );
    let v1 = crate::support::dump_with(&v1_db, dir.path(), "v1", &keyed);
    let v2 = crate::support::dump_with(&v2_db, dir.path(), "v2", &keyed);
    let flags_v1 = TestDb::new("loop_flags1")
        .with_sql(flags)
        .with_sql("INSERT INTO public.flags VALUES ('new_ui', false)");
    let flags_v2 = TestDb::new("loop_flags2")
        .with_sql(flags)
        .with_sql("INSERT INTO public.flags VALUES ('new_ui', true), ('beta', true)");
    let (f1, f2) = (
        dump(&flags_v1, dir.path(), "f1"),
        dump(&flags_v2, dir.path(), "f2"),
    );

    let production = TestDb::new("loop_prod")
        .with_sql(APP)
        .with_sql(flags)
        .with_sql(PRODUCTION_ROWS);
    let own = || {
        production.sql(
            "SELECT string_agg(id || code || name, ',' ORDER BY id) FROM public.regions WHERE code IN ('xx', 'yy', 'zz1', 'zz2');
             SELECT string_agg(id || slug, ',' ORDER BY id) FROM public.categories WHERE slug LIKE 'own%'",
        )
    };
    let steps = [(&v1, &f1), (&v2, &f2), (&v1, &f1), (&v2, &f2)];
    for (step, (seed, flag_seed)) in steps.iter().enumerate() {
        // Production writes rows of its own between deploys.
        production.sql(&format!(
            "INSERT INTO public.regions (code, name) VALUES ('zz{step}', 'Own region {step}');
             INSERT INTO public.categories (slug, parent_id) VALUES ('own-{step}', 1);"
        ));
        let before = own();
        restore_with(
            &production,
            seed,
            &["--mode", "upsert", "--data-only", "--quiet"],
        )
        .ok();
        restore_with(&production, flag_seed, &["--data-only", "--quiet"]).ok();
        assert_eq!(own(), before, "step {step}: production's own rows changed");
        check_with(&production, seed, &["--mode", "contains"]).ok();
        check_with(&production, flag_seed, &[]).ok();
        let deployed = if step % 2 == 0 { &v1_db } else { &v2_db };
        for line in by_natural_key(deployed).lines().flat_map(|l| l.split(',')) {
            assert!(
                by_natural_key(&production).contains(line),
                "step {step}: {line}"
            );
        }
    }
    assert_eq!(
        production.sql("SELECT string_agg(mode, ',' ORDER BY id) FROM seedpack.history"),
        "upsert,replace,upsert,replace,upsert,replace,upsert,replace"
    );
    // The flags hold v2's exactly; production's categories kept their tree.
    assert_eq!(
        production
            .sql("SELECT string_agg(name || '=' || enabled, ',' ORDER BY name) FROM public.flags"),
        "beta=true,new_ui=true"
    );
    assert!(by_natural_key(&production).contains("own-child<own"));
}

#[test]
fn a_cycle_no_merge_order_satisfies_falls_back_to_a_lock_and_says_so() {
    let schema = "CREATE TABLE public.a (id int PRIMARY KEY, b_id int NOT NULL);
                  CREATE TABLE public.b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES public.a (id));";
    let cycle =
        "ALTER TABLE public.a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES public.b (id);";
    let seed = TestDb::new("cycle_seed")
        .with_sql(schema)
        .with_sql("INSERT INTO public.a VALUES (1, 1), (2, 2); INSERT INTO public.b VALUES (1, 2), (2, 1);")
        .with_sql(cycle);
    let dir = scratch();
    let artifact = dump(&seed, dir.path(), "cycle");
    let production = TestDb::new("cycle_prod").with_sql(schema).with_sql(cycle);
    let preview = restore_with(&production, &artifact, &["--mode", "upsert", "--dry-run"]).ok();
    assert!(
        preview.stderr.contains("seedpack: warning: foreign key a_b on \"public\".\"a\" has no nullable column and is not deferrable"),
        "{}",
        preview.stderr
    );
    restore_with(&production, &artifact, &["--mode", "upsert", "--quiet"]).ok();
    assert_eq!(
        production.sql("SELECT string_agg(a.id || '>' || b.id || '>' || b.a_id, ',' ORDER BY a.id) FROM public.a JOIN public.b ON b.id = a.b_id"),
        "1>1>2,2>2>1"
    );
    assert_eq!(
        production.sql("SELECT count(*) FROM pg_constraint WHERE conname = 'a_b'"),
        "1",
        "the dropped key is back"
    );
}
