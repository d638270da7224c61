//! The artifact carries the schema: restore into an empty database, create
//! what is missing, `--schema-only` and `--data-only`, and warnings.

use crate::roundtrip::fixture_pair;
use crate::support::pg_dump::{entries, missing, schema_only};
use crate::support::{
    assert_same_answers, dump, dump_command, dump_with, fixture, manifest_json, restore,
    restore_with, scratch, seedpack, TestDb,
};

/// A source database holding `schema` and `data`, and an empty target.
fn source_and_empty(label: &str, schema: &str, data: &str) -> (TestDb, TestDb) {
    let src = TestDb::new(&format!("{label}_src"))
        .with_sql(schema)
        .with_sql(data);
    let dst = TestDb::new(&format!("{label}_dst"));
    (src, dst)
}

#[test]
fn the_core_fixture_restores_into_an_empty_database_with_equal_definitions() {
    let (src, dst) = source_and_empty(
        "empty",
        &fixture("core_schema.sql"),
        &fixture("core_data.sql"),
    );
    src.sql("COMMENT ON TABLE public.book IS 'books we like'; COMMENT ON COLUMN public.book.title IS 'the title';
             COMMENT ON TYPE public.mood IS 'how it feels'; COMMENT ON FUNCTION public.touch() IS 'sets updated_at';
             CREATE INDEX book_title_lower ON public.book (lower(title)); CLUSTER public.book USING book_title_lower;
             CREATE INDEX measurement_v ON public.measurement (v);
             ALTER TABLE public.book ADD CONSTRAINT title_not_blank CHECK (title <> '') NOT VALID;
             COMMENT ON CONSTRAINT book_pkey ON public.book IS 'the key';");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "empty");
    restore(&dst, &artifact).ok();
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    // Restoring again finds everything in place and replaces only the data.
    restore(&dst, &artifact).ok();
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn missing_tables_are_created_and_existing_ones_loaded_data_only() {
    let (src, dst) = fixture_pair("mixed");
    dst.sql("DROP TABLE public.log_line; DROP TABLE public.measurement_note; DROP TABLE public.measurement;");
    dst.sql("ALTER TABLE public.book ADD COLUMN note text");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "mixed");
    let run = restore_with(&dst, &artifact, &[]).ok();
    assert!(
        run.stdout.contains("\"public\".\"log_line\"") && run.stdout.contains("(new)"),
        "{}",
        run.stdout
    );
    // Created tables match the source's definitions; the kept one keeps its extra column.
    let only = |defs: String, needle: &str| -> Vec<String> {
        defs.lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        only(dst.definitions(), "measurement"),
        only(src.definitions(), "measurement")
    );
    assert_eq!(
        only(dst.definitions(), "log_line"),
        only(src.definitions(), "log_line")
    );
    assert!(dst.definitions().contains("column public.book.note text"));
    assert_eq!(
        dst.sql("SELECT string_agg(id || ' ' || v, ',' ORDER BY id) FROM public.measurement"),
        src.sql("SELECT string_agg(id || ' ' || v, ',' ORDER BY id) FROM public.measurement")
    );
    assert_eq!(
        dst.sql("SELECT count(*) FROM public.book WHERE note IS NULL"),
        "3"
    );
}

#[test]
fn schema_only_dumps_and_restores_create_without_touching_rows() {
    let (src, dst) = source_and_empty(
        "schemaonly",
        &fixture("core_schema.sql"),
        &fixture("core_data.sql"),
    );
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "schemaonly", &["--schema-only"]);
    let manifest = manifest_json(&artifact);
    assert_eq!(manifest["schema_only"], true);
    assert!(manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["rows"] == 0));
    restore(&dst, &artifact).ok();
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.sql("SELECT count(*) FROM public.every_type"), "0");

    // Restoring a schema-only artifact leaves existing rows alone.
    dst.sql(&fixture("core_data.sql"));
    let before = dst.snapshot();
    restore(&dst, &artifact).ok();
    assert_eq!(dst.snapshot(), before);

    // And restore --schema-only of a full artifact does the same.
    let full = dump(&src, dir.path(), "full");
    dst.sql("DROP TABLE public.log_line");
    restore_with(&dst, &full, &["--schema-only"]).ok();
    assert_eq!(dst.sql("SELECT count(*) FROM public.log_line"), "0");
    assert_eq!(dst.sql("SELECT count(*) FROM public.every_type"), "5");
}

#[test]
fn data_only_restore_creates_nothing() {
    let (src, dst) = source_and_empty(
        "dataonly",
        &fixture("core_schema.sql"),
        &fixture("core_data.sql"),
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "dataonly");
    let run = restore_with(&dst, &artifact, &["--data-only"]).expect_code(3);
    assert!(
        run.stderr.contains("does not exist in the target database"),
        "{}",
        run.stderr
    );
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"),
        "0"
    );
}

#[test]
fn what_the_dump_cannot_carry_is_a_warning_in_output_and_manifest() {
    let src = TestDb::new("warn_src").with_sql(
        "CREATE TABLE public.base (id int);
         CREATE TABLE public.secret (id int PRIMARY KEY, owner_name text) INHERITS (public.base);
         CREATE TABLE public.other (id int);
         CREATE VIEW public.both AS SELECT s.id FROM public.secret s JOIN public.other o USING (id);",
    );
    let dir = scratch();
    let path = dir.path().join("warn.seedpack");
    let run = seedpack(&[
        "dump",
        "--dsn",
        &src.url(),
        "-o",
        path.to_str().unwrap(),
        "--table",
        "secret",
    ])
    .run()
    .ok();
    assert!(
        run.stderr.contains(
            "seedpack: warning: public.secret inherits from public.base, which the artifact does not hold"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("view public.\"both\" reads public.other"),
        "{}",
        run.stderr
    );
    let warnings = manifest_json(&path)["schema"]["warnings"].to_string();
    assert!(
        warnings.contains("inherits from public.base") && warnings.contains("public.other"),
        "{warnings}"
    );
}

#[test]
fn a_realistic_schema_restores_into_an_empty_database() {
    let (src, dst) = source_and_empty(
        "rental",
        &fixture("rental_schema.sql"),
        &fixture("rental_data.sql"),
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "rental");
    let manifest = manifest_json(&artifact);
    assert_eq!(manifest["schema"]["warnings"], serde_json::json!([]));
    restore(&dst, &artifact).ok();
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    // The views answer as the source's do; the materialized view holds data.
    assert_same_answers(
        &src,
        &dst,
        &[
        "SELECT count(*) || ' ' || sum(length) FROM rental.film_list",
        "SELECT string_agg(store_id || ':' || total_sales, ',' ORDER BY store_id) FROM rental.sales_by_store",
        "SELECT count(*) FROM rental.in_stock_films",
        "SELECT string_agg(category || ':' || rentals, ',' ORDER BY category) FROM rental.rentals_by_category",
        "SELECT count(*) FROM rental.film WHERE fulltext @@ to_tsquery('english', 'epic')",
        ],
    );
    // The full-text trigger works in the restored database.
    dst.sql("INSERT INTO rental.film (title, description, language_id) VALUES ('New', 'a brand new heist', 1)");
    assert_eq!(
        dst.sql(
            "SELECT count(*) FROM rental.film WHERE fulltext @@ to_tsquery('english', 'heist')"
        ),
        "1"
    );
}

#[test]
fn clean_drops_and_recreates_the_tables_after_the_model_changed() {
    let (src, dst) = source_and_empty(
        "clean",
        &fixture("rental_schema.sql"),
        &fixture("rental_data.sql"),
    );
    dst.sql(&fixture("rental_schema.sql"));
    dst.sql(
        "ALTER TABLE rental.film ADD COLUMN budget numeric;
         ALTER TABLE rental.customer ALTER COLUMN email TYPE varchar(80);
         DROP INDEX rental.idx_title;
         DROP TRIGGER film_last_updated ON rental.film;
         INSERT INTO rental.language (name) VALUES ('Klingon');",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "clean");
    restore_with(&dst, &artifact, &["--clean"]).ok();
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn clean_refuses_to_drop_what_outside_objects_depend_on() {
    let (src, dst) = fixture_pair("cleanrefuse");
    dst.sql("CREATE VIEW public.outside_view AS SELECT title FROM public.book");
    let before = (dst.definitions(), dst.snapshot());
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "all");
    let run = restore_with(&dst, &artifact, &["--clean"]).expect_code(3);
    assert!(run.stderr.contains("outside_view"), "{}", run.stderr);

    // A table outside the artifact with a foreign key into it.
    dst.sql("DROP VIEW public.outside_view");
    let regions = dump_with(&src, dir.path(), "regions", &["--table", "region"]);
    let run = restore_with(&dst, &regions, &["--clean"]).expect_code(3);
    assert!(
        run.stderr.contains("measurement_region_fkey"),
        "{}",
        run.stderr
    );
    dst.sql("CREATE VIEW public.outside_view AS SELECT title FROM public.book");
    assert_eq!((dst.definitions(), dst.snapshot()), before);
}

#[test]
fn foreign_keys_to_tables_outside_the_dump_are_carried_and_recreated_where_they_can_be() {
    let teams = "CREATE TABLE public.users (id int PRIMARY KEY);
                 CREATE TABLE public.teams (id int PRIMARY KEY);";
    let members = "CREATE TABLE public.team_members (
                       team_id int NOT NULL REFERENCES public.teams (id),
                       user_id int NOT NULL CONSTRAINT member_user REFERENCES public.users (id),
                       PRIMARY KEY (team_id, user_id));";
    let src = TestDb::new("outside_src")
        .with_sql(teams)
        .with_sql(members)
        .with_sql(
            "INSERT INTO public.users VALUES (1), (2); INSERT INTO public.teams VALUES (10);
         INSERT INTO public.team_members VALUES (10, 1), (10, 2);",
        );
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "members", &["--table", "team_members"]);
    let needs: Vec<String> = manifest_json(&artifact)["schema"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["needs"]["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(needs, ["users", "teams"]);

    // A target with the referenced tables (and rows) gets both keys back.
    let full = TestDb::new("outside_full").with_sql(teams).with_sql(
        "INSERT INTO public.users VALUES (1), (2); INSERT INTO public.teams VALUES (10);",
    );
    let run = restore_with(&full, &artifact, &[]).ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(
        full.sql("SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'f'"),
        "member_user,team_members_team_id_fkey"
    );

    // One without them gets the table, and a warning naming each key.
    let bare = TestDb::new("outside_bare");
    let run = restore_with(&bare, &artifact, &[]).ok();
    for key in ["team_members_team_id_fkey", "member_user"] {
        assert!(
            run.stderr.contains(&format!(
                "seedpack: warning: foreign key \"public\".\"team_members\" \"{key}\" references"
            )),
            "{}",
            run.stderr
        );
    }
    assert!(
        run.stderr
            .contains("which the artifact does not hold and the target lacks"),
        "{}",
        run.stderr
    );
    assert_eq!(bare.sql("SELECT count(*) FROM public.team_members"), "2");

    // The exported script does the same under psql: keys where the
    // referenced tables exist, a warning where they do not.
    let script = dir.path().join("members.sql");
    seedpack(&[
        "export",
        "-f",
        artifact.to_str().unwrap(),
        "-o",
        script.to_str().unwrap(),
    ])
    .run()
    .ok();
    for (target, keys) in [
        (TestDb::new("outside_psql_bare"), ""),
        (
            TestDb::new("outside_psql_full").with_sql(teams).with_sql(
                "INSERT INTO public.users VALUES (1), (2); INSERT INTO public.teams VALUES (10);",
            ),
            "member_user,team_members_team_id_fkey",
        ),
    ] {
        let out = std::process::Command::new(&target.cluster.psql)
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-d",
                &target.url(),
                "-f",
            ])
            .arg(&script)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            target.sql("SELECT coalesce(string_agg(conname, ',' ORDER BY conname), '') FROM pg_constraint WHERE contype = 'f'"),
            keys
        );
        assert_eq!(target.sql("SELECT count(*) FROM public.team_members"), "2");
        if keys.is_empty() {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains("\"public\".\"teams\" does not exist"),
                "{stdout}"
            );
        }
    }

    // One whose referenced rows are missing refuses, naming the key.
    let partial = TestDb::new("outside_partial")
        .with_sql(teams)
        .with_sql("INSERT INTO public.teams VALUES (10);");
    let before = partial.snapshot();
    let run = restore_with(&partial, &artifact, &["--quiet"]).expect_code(1);
    assert!(run.stderr.contains("member_user"), "{}", run.stderr);
    assert_eq!(partial.snapshot(), before);
}

#[test]
fn a_saas_schema_restores_as_pg_dump_sees_it_for_another_non_superuser() {
    // Trigram and btree_gist indexes, row-level security, an aggregate a
    // view uses, functions no table uses: restored into an empty database
    // owned by a second non-superuser role, pg_dump sees the same schema.
    let src = TestDb::new("saas_src")
        .with_sql(&fixture("saas_schema.sql"))
        .with_sql(&fixture("saas_data.sql"));
    let (other, password) = other_owner(src.cluster);
    let dst = TestDb::new("saas_dst");
    dst.admin_sql(&format!("ALTER DATABASE {} OWNER TO {other}", dst.name));
    let dir = scratch();
    // FORCE ROW LEVEL SECURITY holds the owner to the policies: the dump
    // runs as a role that bypasses them (here the superuser), as
    // production dumps do; the owner's own is refused, as pg_dump's is.
    let owners = dump_command(&src, &dir.path().join("owner.seedpack"), &[]).run();
    assert_eq!(owners.code, 1, "{}", owners.stderr);
    assert!(
        owners.stderr.contains("row-level security"),
        "{}",
        owners.stderr
    );
    let artifact = dir.path().join("saas.seedpack");
    let admin = src.admin_url();
    seedpack(&[
        "dump",
        "-q",
        "--include-migration-tables",
        "--dsn",
        &admin,
        "-o",
        artifact.to_str().unwrap(),
    ])
    .secret(&crate::support::url_password(&admin))
    .run()
    .ok();
    let url = format!(
        "postgresql://{other}:{password}@{}:{}/{}",
        src.cluster.host, src.cluster.port, dst.name
    );
    let restore_as_other = |extra: &[&str]| {
        let mut args = vec!["restore", "--yes", "-q", "--dsn", &url, "-f"];
        args.push(artifact.to_str().unwrap());
        args.extend(extra);
        seedpack(&args).secret(&password).run().ok()
    };
    restore_as_other(&[]);
    let major: u32 = src.sql("SHOW server_version_num").parse::<u32>().unwrap() / 10000;
    let psql = &src.cluster.psql;
    let before = entries(&schema_only(&src.url(), psql, major));
    let after = entries(&schema_only(&dst.admin_url(), psql, major));
    let mut differences = missing(&before, &after, "only in the source");
    differences.extend(missing(&after, &before, "only in the target"));
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
    // The restored role owns it all, and the policies hold for it.
    assert_eq!(
        dst.admin_sql(
            "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class
             WHERE relnamespace = 'app'::regnamespace"
        ),
        other
    );
    assert_eq!(
        dst.admin_sql(&format!(
            "SET ROLE {other}; SET app.tenant = '1'; SELECT count(*) FROM app.bookings"
        )),
        "2"
    );
    assert_eq!(
        dst.admin_sql(
            "SELECT string_agg(name, ',' ORDER BY name) FROM app.users WHERE name % 'Ada Lovelac'"
        ),
        "Ada Lovelace"
    );
    assert_eq!(
        dst.admin_sql("SELECT rooms FROM app.room_names WHERE slug = 'acme'"),
        "Attic, Basement"
    );
    // Applied again over the data, by the owner: the forced tables load
    // whole and are forced again at the commit.
    dst.admin_sql("DELETE FROM app.bookings WHERE tenant_id = 2");
    restore_as_other(&["--data-only", "--force"]);
    assert_eq!(
        dst.admin_sql(
            "SELECT count(*) || ' ' || bool_and(c.relforcerowsecurity) FROM app.bookings,
             pg_class c WHERE c.oid = 'app.bookings'::regclass"
        ),
        "3 true"
    );
}

/// A second non-superuser role that may log in, and its password.
fn other_owner(cluster: &crate::support::Cluster) -> (String, String) {
    let name = "seedpack_other_owner".to_owned();
    let password = format!("pw{}", std::process::id());
    cluster
        .admin_sql(&format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN
                 CREATE ROLE {name} LOGIN NOSUPERUSER;
               END IF;
             END $$;
             ALTER ROLE {name} PASSWORD '{password}';"
        ))
        .expect("a second owner role");
    (name, password)
}
