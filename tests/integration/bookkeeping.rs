//! Bookkeeping never travels: seedpack's own history and the migration
//! tools' tables stay out of artifacts (unless asked for), and a restore
//! never overwrites them.

use crate::support::forge::forge;
use crate::support::{
    dump, dump_with, manifest_json, restore, restore_with, scratch, seedpack, TestDb,
};

fn table_names(manifest: &serde_json::Value) -> Vec<String> {
    manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect()
}

const APP: &str = "CREATE TABLE public.country (code text PRIMARY KEY, name text NOT NULL);
                   INSERT INTO public.country VALUES ('fr', 'France'), ('de', 'Germany');";

#[test]
fn seedpacks_own_history_is_never_dumped_or_compared() {
    let src = TestDb::new("own_src").with_sql(APP);
    let dir = scratch();
    let first = dump(&src, dir.path(), "first");

    // A database seedpack restored into, with the default history and one
    // kept elsewhere: a whole-database dump of it carries neither.
    let middle = TestDb::new("own_middle");
    restore(&middle, &first).ok();
    restore_with(
        &middle,
        &first,
        &["--quiet", "--force", "--history-table", "public.seed_log"],
    )
    .ok();
    assert_eq!(middle.sql("SELECT count(*) FROM seedpack.history"), "1");
    assert_eq!(middle.sql("SELECT count(*) FROM public.seed_log"), "1");
    let second = dump(&middle, dir.path(), "second");
    assert_eq!(table_names(&manifest_json(&second)), ["public.country"]);

    // Restored elsewhere, the target's history is its own, and check agrees
    // with the artifact right after.
    let last = TestDb::new("own_last");
    restore(&last, &second).ok();
    assert_eq!(last.sql("SELECT count(*) FROM seedpack.history"), "1");
    let url = last.url();
    seedpack(&["check", "--file", second.to_str().unwrap(), "--dsn", &url])
        .secret(&last.cluster.owner_password)
        .run()
        .ok();

    // An artifact that holds seedpack.history (as dumps did before) is
    // refused before the target is touched.
    let old = dir.path().join("old.seedpack");
    let with_history = TestDb::new("own_old_src").with_sql(
        "CREATE SCHEMA seedpack; CREATE TABLE seedpack.history (id int PRIMARY KEY);
         INSERT INTO seedpack.history VALUES (1), (2);",
    );
    let plain = dump(&with_history, dir.path(), "plain_old");
    assert!(
        table_names(&manifest_json(&plain)).is_empty(),
        "never dumped, even unmarked"
    );
    forge(&second, &old, |manifest, data| {
        let mut entry = manifest.tables[0].clone();
        entry.name = seedpack::ident::QualifiedName::new("seedpack", "history");
        entry.member = seedpack::artifact::data_member_name(1, manifest.compression);
        let schema = manifest.schema.as_mut().unwrap();
        let mut ddl = schema
            .objects
            .iter()
            .find(|o| o.kind == seedpack::artifact::ObjectKind::Table)
            .unwrap()
            .clone();
        ddl.table = Some(entry.name.clone());
        schema.objects.push(ddl);
        let member = entry.member.clone();
        manifest.tables.push(entry);
        let copy = data[0].1.clone();
        data.push((member, copy));
    });
    let before = last.snapshot();
    let history = last.sql("SELECT count(*) FROM seedpack.history");
    let run = restore_with(&last, &old, &["--quiet", "--force"]).expect_code(2);
    assert!(
        run.stderr
            .contains("seedpack's own table \"seedpack\".\"history\""),
        "{}",
        run.stderr
    );
    assert_eq!(last.snapshot(), before);
    assert_eq!(last.sql("SELECT count(*) FROM seedpack.history"), history);
}

#[test]
fn migration_tables_stay_out_unless_asked_for_and_are_never_overwritten() {
    let migrations = "CREATE TABLE public.schema_migrations (version text PRIMARY KEY);
                      CREATE TABLE public.ar_internal_metadata (key text PRIMARY KEY, value text);
                      CREATE TABLE public._prisma_migrations (id text PRIMARY KEY);";
    let src = TestDb::new("mig_src")
        .with_sql(APP)
        .with_sql(migrations)
        .with_sql(
            "INSERT INTO public.schema_migrations VALUES ('20240101'), ('20240202');
         INSERT INTO public.ar_internal_metadata VALUES ('environment', 'development');",
        );
    let dir = scratch();
    let url = src.url();
    let out = dir.path().join("seed.seedpack");
    let run = seedpack(&["dump", "--dsn", &url, "-o", out.to_str().unwrap()])
        .secret(&src.cluster.owner_password)
        .run()
        .ok();
    assert!(
        run.stdout.contains(
            "left out migration bookkeeping: \"public\".\"_prisma_migrations\", \
             \"public\".\"ar_internal_metadata\", \"public\".\"schema_migrations\" \
             (--include-migration-tables carries them)"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(table_names(&manifest_json(&out)), ["public.country"]);

    // Production's migration state survives a replace of everything else.
    let production = TestDb::new("mig_prod")
        .with_sql(APP)
        .with_sql(migrations)
        .with_sql(
            "INSERT INTO public.schema_migrations VALUES ('20240101'), ('20240202'), ('20240303');
         INSERT INTO public.ar_internal_metadata VALUES ('environment', 'production');",
        );
    restore(&production, &out).ok();
    assert_eq!(
        production.sql("SELECT count(*) FROM public.schema_migrations"),
        "3"
    );
    assert_eq!(
        production.sql("SELECT value FROM public.ar_internal_metadata"),
        "production"
    );

    // Asked for, they travel and the manifest says they were asked for.
    let included = dump_with(
        &src,
        dir.path(),
        "included",
        &["--include-migration-tables"],
    );
    let manifest = manifest_json(&included);
    assert_eq!(table_names(&manifest).len(), 4);
    assert_eq!(manifest["migration_tables"].as_array().unwrap().len(), 3);
    let copy = TestDb::new("mig_copy");
    restore(&copy, &included).ok();
    assert_eq!(
        copy.sql("SELECT count(*) FROM public.schema_migrations"),
        "2"
    );

    // Named with --table, one is carried on its own.
    let named = dump_with(&src, dir.path(), "named", &["--table", "schema_migrations"]);
    assert_eq!(
        table_names(&manifest_json(&named)),
        ["public.schema_migrations"]
    );

    // An artifact holding one nobody asked for (as dumps did before) is
    // refused, and production keeps its migration state.
    let unasked = dir.path().join("unasked.seedpack");
    forge(&included, &unasked, |manifest, _| {
        manifest.migration_tables.clear()
    });
    let before = production.snapshot();
    let run = restore_with(&production, &unasked, &["--quiet"]).expect_code(2);
    assert!(run.stderr.contains("migration table"), "{}", run.stderr);
    assert_eq!(production.snapshot(), before);
}
