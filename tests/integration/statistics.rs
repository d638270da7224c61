//! Planner statistics after a restore: large tables analyzed where the
//! artifact carries no statistics the target can take, and a statistics
//! member that is damaged or names what the artifact does not hold refused
//! before connecting. Carrying them between PostgreSQL 18 servers is
//! tested with the other majors (`versions`).

use seedpack::artifact::{statistics_member_name, Manifest, StatisticsEntry};
use sha2::{Digest, Sha256};

use crate::support::forge::{compress, forge};
use crate::support::{dump, restore, restore_with, scratch, seedpack, TestDb};

/// A table over the analyze threshold and one under it, both kept from
/// autovacuum so that only the restore can have analyzed them.
const TWO_SIZES: &str = "
    CREATE TABLE public.big (id int PRIMARY KEY, kind text) WITH (autovacuum_enabled = false);
    INSERT INTO public.big SELECT g, (ARRAY['a', 'b', 'c'])[1 + g % 3] FROM generate_series(1, 1500) g;
    CREATE TABLE public.small (id int PRIMARY KEY) WITH (autovacuum_enabled = false);
    INSERT INTO public.small SELECT generate_series(1, 10);";

fn analyzed(db: &TestDb) -> String {
    db.sql(
        "SELECT coalesce(string_agg(DISTINCT tablename, ','), '-') FROM pg_stats
         WHERE schemaname = 'public'",
    )
}

#[test]
fn a_restore_analyzes_the_large_tables_it_replaces() {
    let src = TestDb::new("analyze_src").with_sql(TWO_SIZES);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "analyze");
    let empty = TestDb::new("analyze_empty");
    let run = restore_with(&empty, &artifact, &[]).ok();
    assert!(
        run.stdout
            .contains("analyzed 1 tables of 1000 rows or more"),
        "{}",
        run.stdout
    );
    assert_eq!(analyzed(&empty), "big");
    assert_eq!(
        empty.sql("SELECT n_distinct FROM pg_stats WHERE tablename = 'big' AND attname = 'kind'"),
        "3"
    );

    // The merge modes leave statistics to autovacuum.
    let merged = TestDb::new("analyze_merged").with_sql(
        "CREATE TABLE public.big (id int PRIMARY KEY, kind text) WITH (autovacuum_enabled = false);
         CREATE TABLE public.small (id int PRIMARY KEY) WITH (autovacuum_enabled = false);",
    );
    restore_with(
        &merged,
        &artifact,
        &["-q", "--data-only", "--mode", "upsert"],
    )
    .ok();
    assert_eq!(merged.sql("SELECT count(*) FROM public.big"), "1500");
    assert_eq!(analyzed(&merged), "-");
}

#[test]
fn statistics_that_name_a_table_the_artifact_lacks_are_refused_before_connecting() {
    let src = TestDb::new("stray_src").with_sql(TWO_SIZES);
    let dst = TestDb::new("stray_dst").with_sql(TWO_SIZES);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "original");
    let forged = |name: &str, table: &str, damage: bool| {
        let path = dir.path().join(format!("{name}.seedpack"));
        let line = format!(
            "{{\"table\":{{\"schema\":\"public\",\"name\":\"{table}\"}},\"schema\":\"public\",\
             \"name\":\"{table}\",\"relation\":{{\"relpages\":\"1\",\"reltuples\":\"1\"}},\
             \"columns\":[]}}\n"
        );
        forge(&artifact, &path, |manifest: &mut Manifest, data| {
            let member = statistics_member_name(manifest.compression);
            data.push((
                member.clone(),
                compress(manifest.compression, line.as_bytes()),
            ));
            manifest.format_version = 2;
            manifest.statistics = Some(StatisticsEntry {
                member,
                relations: 1,
                bytes: line.len() as u64,
                data_sha256: match damage {
                    true => "0".repeat(64),
                    false => hex::encode(Sha256::digest(line.as_bytes())),
                },
                member_bytes: 0,
                member_sha256: String::new(),
            });
        });
        path
    };
    let before = dst.snapshot();
    for (path, words) in [
        (
            forged("stray", "secrets", false),
            "which the artifact does not hold",
        ),
        (forged("damaged", "big", true), "checksum mismatch in data"),
    ] {
        let run = seedpack(&["verify", "-f", path.to_str().unwrap()])
            .run()
            .expect_code(2);
        assert!(run.stderr.contains(words), "{}", run.stderr);
        let run = restore(&dst, &path).expect_code(2);
        assert!(run.stderr.contains(words), "{}", run.stderr);
        assert_eq!(dst.snapshot(), before);
    }
    // Honest statistics on a server older than 18: not carried, analyzed.
    let honest = forged("honest", "big", false);
    let run = restore_with(&dst, &honest, &["--force"]).ok();
    assert!(run.stdout.contains("analyzed 1 tables"), "{}", run.stdout);
}
