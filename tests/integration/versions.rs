//! Portability across PostgreSQL majors: dump from the oldest and the newest
//! of several majors and restore into each of the others, data-only into a
//! migrated schema and with the schema into an empty database.
//!
//! Needs server binaries for each major: `.ci/run` fetches them with
//! `scripts/pg-versions.sh` and passes `SEEDPACK_TEST_PG_VERSIONS` as
//! `MAJOR=BINDIR,MAJOR=BINDIR,...` (the machine's own major is added). The
//! test is `#[ignore]`d in a plain `cargo test` because fetching those
//! binaries needs npm and the registry; run them with
//! `cargo test --test integration -- --ignored versions::`.

use std::path::PathBuf;

use crate::support::cluster::find_bindir;
use crate::support::{dump, fixture, restore, restore_with, scratch, Cluster, TestDb};

/// (major, cluster) for every major given, plus the machine's own.
fn clusters() -> Vec<(u32, &'static Cluster)> {
    let given = std::env::var("SEEDPACK_TEST_PG_VERSIONS").unwrap_or_else(|_| {
        panic!(
            "SEEDPACK_TEST_PG_VERSIONS is not set: run scripts/pg-versions.sh 13 18 and pass its \
             output as MAJOR=BINDIR,MAJOR=BINDIR (as .ci/run does)"
        )
    });
    let mut bindirs: Vec<PathBuf> = given
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|pair| PathBuf::from(pair.split_once('=').map_or(pair, |(_, dir)| dir)))
        .collect();
    bindirs.push(find_bindir());
    let mut clusters: Vec<(u32, &'static Cluster)> = bindirs
        .into_iter()
        .map(|bindir| {
            let cluster: &'static Cluster = Box::leak(Box::new(Cluster::start_in(bindir, "", &[])));
            let major: u32 = cluster
                .admin_sql("SHOW server_version_num")
                .expect("server version")
                .parse::<u32>()
                .expect("a number")
                / 10000;
            (major, cluster)
        })
        .collect();
    clusters.sort_by_key(|(major, _)| *major);
    clusters.dedup_by_key(|(major, _)| *major);
    assert!(
        clusters.len() >= 3,
        "need at least three majors, got {:?}",
        clusters.iter().map(|c| c.0).collect::<Vec<_>>()
    );
    clusters
}

/// Equal snapshots, or a failure showing only the lines that differ.
fn same(target: &str, source: &str, what: &str) {
    if target != source {
        let only = |a: &str, b: &str| -> Vec<String> {
            a.lines()
                .filter(|l| !b.lines().any(|m| m == *l))
                .map(str::to_owned)
                .collect()
        };
        panic!(
            "{what}: the target differs\nonly in the target:\n{}\nonly in the source:\n{}",
            only(target, source).join("\n"),
            only(source, target).join("\n")
        );
    }
}

#[test]
#[ignore = "needs server binaries for other majors: .ci/run fetches them and runs it"]
fn across_majors() {
    let clusters = clusters();
    let (oldest, newest) = (clusters[0], clusters[clusters.len() - 1]);
    // The oldest and newest as sources, or (SEEDPACK_TEST_ALL_SOURCES) all.
    let sources = if std::env::var_os("SEEDPACK_TEST_ALL_SOURCES").is_some() {
        clusters.clone()
    } else {
        vec![oldest, newest]
    };
    let dir = scratch();
    for (source_major, source_cluster) in sources {
        for (fixture_name, data) in [
            ("core_schema.sql", "core_data.sql"),
            ("rental_schema.sql", "rental_data.sql"),
        ] {
            let label = format!("v{source_major}_{}", &fixture_name[..4]);
            let src = TestDb::on(source_cluster, &format!("{label}_src"))
                .with_sql(&fixture(fixture_name))
                .with_sql(&fixture(data));
            let artifact = dump(&src, dir.path(), &label);
            for &(target_major, target_cluster) in &clusters {
                if target_major == source_major {
                    continue;
                }
                let what = format!("{fixture_name} from {source_major} into {target_major}");
                // Data only, into a schema the target's migrations made.
                let migrated = TestDb::on(target_cluster, &format!("{label}_to{target_major}_m"))
                    .with_sql(&fixture(fixture_name));
                restore_with(&migrated, &artifact, &["-q", "--data-only"]).ok();
                same(
                    &migrated.snapshot(),
                    &src.snapshot(),
                    &format!("data only, {what}"),
                );
                // With the schema, into an empty database.
                let empty = TestDb::on(target_cluster, &format!("{label}_to{target_major}_e"));
                let run = restore(&empty, &artifact);
                assert_eq!(run.code, 0, "{what}: {}", run.stderr);
                same(
                    &empty.snapshot(),
                    &src.snapshot(),
                    &format!("with schema, {what}"),
                );
            }
        }
    }
}

#[test]
#[ignore = "needs server binaries for other majors: .ci/run fetches them and runs it"]
fn features_newer_than_the_target_are_refused_before_any_write() {
    let clusters = clusters();
    let (oldest_major, oldest) = clusters[0];
    let (newest_major, newest) = clusters[clusters.len() - 1];
    assert!(
        newest_major >= 18,
        "this test needs PostgreSQL 18 among the majors"
    );
    let src = TestDb::on(newest, "v18features_src").with_sql(
        "CREATE TABLE public.priced (
             id int PRIMARY KEY,
             net numeric NOT NULL,
             gross numeric GENERATED ALWAYS AS (net * 1.2) VIRTUAL,
             CONSTRAINT net_positive CHECK (net > 0) NOT ENFORCED
         );
         INSERT INTO public.priced (id, net) VALUES (1, 10), (2, -5);",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "v18features");

    // Into the same major: the virtual column stays virtual.
    let same = TestDb::on(newest, "v18features_same");
    restore(&same, &artifact).ok();
    same_definitions(&same, &src);
    assert_eq!(
        same.sql("SELECT string_agg(gross::text, ',' ORDER BY id) FROM public.priced"),
        "12.0,-6.0"
    );

    // Into an older major: refused before any write, naming object and feature.
    let old = TestDb::on(oldest, "v18features_old");
    let run = restore(&old, &artifact).expect_code(3);
    assert!(
        run.stderr.contains("virtual generated columns"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("PostgreSQL {oldest_major} server")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("priced"), "{}", run.stderr);
    assert_eq!(
        old.sql("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"),
        "0"
    );
    assert_eq!(
        old.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'seedpack'"),
        "0"
    );

    // The data still moves into a table the older major's migrations made.
    old.sql("CREATE TABLE public.priced (id int PRIMARY KEY, net numeric NOT NULL, gross numeric GENERATED ALWAYS AS (net * 1.2) STORED)");
    restore_with(&old, &artifact, &["-q", "--data-only"]).ok();
    assert_eq!(
        old.sql("SELECT string_agg(id || ':' || net, ',' ORDER BY id) FROM public.priced"),
        "1:10,2:-5"
    );
}

fn same_definitions(target: &TestDb, source: &TestDb) {
    same(&target.definitions(), &source.definitions(), "definitions");
}

/// Tables analyzed on a PostgreSQL 18 source, kept from autovacuum on both
/// sides so that only the restore sets their statistics: values of several
/// kinds (ranges, arrays), an expression index, partitions.
const ANALYZED: &str = "
    CREATE TABLE public.item (id int PRIMARY KEY, kind text, price numeric, tags text[],
                              span int4range) WITH (autovacuum_enabled = false);
    CREATE TABLE public.ev (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE public.ev_a PARTITION OF public.ev
        FOR VALUES FROM ('2020-01-01') TO ('2021-01-01') WITH (autovacuum_enabled = false);
    CREATE TABLE public.ev_b PARTITION OF public.ev
        FOR VALUES FROM ('2021-01-01') TO ('2022-01-01') WITH (autovacuum_enabled = false);
    CREATE TABLE public.small (id int PRIMARY KEY) WITH (autovacuum_enabled = false);";
const ANALYZED_INDEX: &str = "CREATE INDEX item_kind ON public.item (lower(kind));";
const ANALYZED_ROWS: &str = "
    INSERT INTO public.item
    SELECT g, (ARRAY['a', 'b', 'c', 'd'])[1 + (g % 17) % 4], g % 100, ARRAY['t' || g % 5],
           int4range(g, g + g % 10)
    FROM generate_series(1, 20000) g;
    INSERT INTO public.ev SELECT g, date '2020-01-01' + g % 700 FROM generate_series(1, 5000) g;
    INSERT INTO public.small VALUES (1), (2);
    ANALYZE public.item, public.ev;";

/// What the planner knows of the public relations, `except` left out.
fn planner_view(db: &TestDb, except: &str) -> String {
    db.sql(&format!(
        "SELECT string_agg(format('%s %s %s %s', c.relname, c.relpages, c.reltuples,
                                  c.relallvisible), E'\\n' ORDER BY c.relname)
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname <> '{except}'
         UNION ALL
         SELECT string_agg(format('%s %s %s %s %s %s %s %s %s', s.tablename, s.attname,
                                  s.inherited, s.null_frac, s.n_distinct, s.most_common_vals,
                                  s.histogram_bounds, s.correlation, s.range_bounds_histogram),
                           E'\\n' ORDER BY s.tablename, s.attname, s.inherited)
         FROM pg_stats s WHERE s.schemaname = 'public' AND s.tablename <> '{except}'"
    ))
}

#[test]
#[ignore = "needs server binaries for other majors: .ci/run fetches them and runs it"]
fn planner_statistics_travel_between_18s_and_older_targets_analyze() {
    let clusters = clusters();
    let (oldest_major, oldest) = clusters[0];
    let (newest_major, newest) = clusters[clusters.len() - 1];
    assert!(newest_major >= 18, "this test needs PostgreSQL 18");
    let src = TestDb::on(newest, "stats18_src")
        .with_sql(ANALYZED)
        .with_sql(ANALYZED_INDEX)
        .with_sql(ANALYZED_ROWS);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "stats18");
    let manifest = crate::support::manifest_json(&artifact);
    assert!(
        manifest["statistics"]["relations"].as_u64().unwrap() >= 8,
        "{manifest}"
    );

    // Into an empty 18: the planner knows what it knew in the source.
    let empty = TestDb::on(newest, "stats18_empty");
    let run = restore_with(&empty, &artifact, &[]).ok();
    assert!(
        run.stdout
            .contains("planner statistics set as the source had them"),
        "{}",
        run.stdout
    );
    same(
        &planner_view(&empty, "-"),
        &planner_view(&src, "-"),
        "statistics into an empty 18",
    );

    // Data only into a schema whose index differs: everything but that
    // index gets the source's statistics, and the index keeps its own.
    let migrated = TestDb::on(newest, "stats18_migrated")
        .with_sql(ANALYZED)
        .with_sql("CREATE INDEX item_kind ON public.item (upper(kind));");
    restore_with(&migrated, &artifact, &["-q", "--data-only"]).ok();
    same(
        &planner_view(&migrated, "item_kind"),
        &planner_view(&src, "item_kind"),
        "statistics into a migrated 18",
    );
    assert_eq!(
        migrated.sql("SELECT count(*) FROM pg_stats WHERE tablename = 'item_kind'"),
        "0"
    );

    // Into an older major: not carried; the large tables are analyzed.
    let old = TestDb::on(oldest, &format!("stats18_to{oldest_major}"));
    let run = restore_with(&old, &artifact, &[]).ok();
    assert!(run.stdout.contains("analyzed 2 tables"), "{}", run.stdout);
    assert_eq!(
        old.sql(
            "SELECT string_agg(DISTINCT tablename, ',') FROM pg_stats WHERE schemaname = 'public'"
        ),
        "ev,ev_a,ev_b,item,item_kind"
    );

    // --no-statistics: none carried, and the artifact is format 1 with gzip.
    let plain = dir.path().join("plain.seedpack");
    crate::support::dump_command(&src, &plain, &["--no-statistics", "--compress", "gzip"])
        .run()
        .ok();
    let manifest = crate::support::manifest_json(&plain);
    assert!(manifest.get("statistics").is_none(), "{manifest}");
    assert_eq!(manifest["format_version"], 1);
}
