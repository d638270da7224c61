//! Schemas nobody here wrote restore into an empty database exactly: a
//! minimal repro of each defect real schemas showed, asserting on the
//! restored catalog.

use crate::support::{dump, restore, restore_with, scratch, TestDb};

/// Dump `schema` with `data` and restore it into an empty database; both
/// databases, for comparing.
fn round_trip(label: &str, schema: &str, data: &str) -> (TestDb, TestDb) {
    let src = TestDb::new(&format!("{label}_src"))
        .with_sql(schema)
        .with_sql(data);
    let dst = TestDb::new(&format!("{label}_dst"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), label);
    restore(&dst, &artifact).ok();
    (src, dst)
}

#[test]
fn a_function_over_an_enum_used_by_a_check_restores_into_an_empty_database() {
    // Before PostgreSQL 16, looking the function up by its signature raised
    // "type public.mood does not exist" and aborted the restore.
    let (src, dst) = round_trip(
        "fid_enum_fn",
        "CREATE TYPE mood AS ENUM ('ok', 'meh');
         CREATE FUNCTION is_ok(m mood) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT m = 'ok' $$;
         CREATE DOMAIN happy AS mood CHECK (is_ok(VALUE));
         CREATE TABLE t (id int PRIMARY KEY, m mood CHECK (is_ok(m)), h happy);",
        "INSERT INTO t VALUES (1, 'ok', 'ok'), (2, 'ok', NULL);",
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    assert_eq!(dst.sql("SELECT is_ok('meh')"), "f");
}

#[test]
fn extensions_used_only_through_operator_classes_are_carried() {
    // A trigram index and a GiST exclusion over scalars name no function
    // or type of their extensions, only operator classes and operators.
    let (src, dst) = round_trip(
        "fid_opclass",
        "CREATE EXTENSION pg_trgm; CREATE EXTENSION btree_gist;
         CREATE TABLE account (id int PRIMARY KEY, name text NOT NULL);
         CREATE INDEX account_name_trgm ON account USING gin (name gin_trgm_ops);
         CREATE TABLE booking (id int PRIMARY KEY, room int, during tstzrange,
                               EXCLUDE USING gist (room WITH =, during WITH &&));",
        "INSERT INTO account VALUES (1, 'Ada'), (2, 'Grace');
         INSERT INTO booking VALUES (1, 7, '[2026-01-01, 2026-01-02)');",
    );
    assert_eq!(
        dst.sql("SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname <> 'plpgsql'"),
        "btree_gist,pg_trgm"
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    // The index works as an index of its kind.
    assert_eq!(
        dst.sql("SET enable_seqscan = off; SELECT name FROM account WHERE name % 'Adaa'"),
        "Ada"
    );
}

#[test]
fn aggregates_that_views_use_are_carried() {
    let (src, dst) = round_trip(
        "fid_aggregate",
        "CREATE FUNCTION concat_step(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE
           AS $$ SELECT CASE WHEN acc IS NULL THEN v ELSE acc || ',' || v END $$;
         CREATE AGGREGATE group_concat(text) (SFUNC = concat_step, STYPE = text);
         CREATE FUNCTION sum_step(acc bigint, v int) RETURNS bigint LANGUAGE sql IMMUTABLE
           PARALLEL SAFE AS $$ SELECT acc + coalesce(v, 0) $$;
         CREATE FUNCTION sum_back(acc bigint, v int) RETURNS bigint LANGUAGE sql IMMUTABLE
           PARALLEL SAFE AS $$ SELECT acc - coalesce(v, 0) $$;
         CREATE FUNCTION sum_combine(a bigint, b bigint) RETURNS bigint LANGUAGE sql IMMUTABLE
           PARALLEL SAFE AS $$ SELECT a + b $$;
         CREATE AGGREGATE my_sum(int) (SFUNC = sum_step, STYPE = bigint, INITCOND = '0',
           COMBINEFUNC = sum_combine, MSFUNC = sum_step, MINVFUNC = sum_back, MSTYPE = bigint,
           MINITCOND = '0', PARALLEL = SAFE);
         COMMENT ON AGGREGATE my_sum(int) IS 'a running total';
         CREATE TABLE tag (id int PRIMARY KEY, post int NOT NULL, name text NOT NULL);
         CREATE VIEW post_tags AS
           SELECT post, group_concat(name ORDER BY name) AS tags, my_sum(id) AS total
           FROM tag GROUP BY post;
         CREATE VIEW running AS SELECT id, my_sum(id) OVER (ORDER BY id) AS total FROM tag;",
        "INSERT INTO tag VALUES (1, 1, 'b'), (2, 1, 'a'), (3, 2, 'c');",
    );
    const AGGREGATES: &str = "
        SELECT string_agg(concat_ws(' ', a.aggfnoid::regprocedure, a.aggtransfn, a.aggtranstype::regtype,
                                    a.agginitval, a.aggcombinefn, a.aggmtransfn, a.aggminvtransfn,
                                    a.aggmtranstype::regtype, a.aggminitval, a.aggfinalmodify,
                                    p.proparallel, obj_description(p.oid, 'pg_proc')), E'\\n' ORDER BY a.aggfnoid::regprocedure::text)
        FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
        WHERE p.pronamespace = 'public'::regnamespace";
    assert!(src
        .sql(AGGREGATES)
        .contains("my_sum(integer) sum_step bigint 0 sum_combine"));
    assert_eq!(dst.sql(AGGREGATES), src.sql(AGGREGATES));
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(
        dst.sql("SELECT string_agg(post || ':' || tags || ':' || total, ' ' ORDER BY post) FROM post_tags"),
        "1:a,b:3 2:c:3"
    );
    assert_eq!(
        dst.sql("SELECT string_agg(total::text, ' ' ORDER BY id) FROM running"),
        "1 3 6"
    );
}

#[test]
fn inheritance_children_keep_unvalidated_checks_and_generated_columns() {
    let (src, dst) = round_trip(
        "fid_inherit",
        "CREATE TABLE item (id int PRIMARY KEY, n int, doubled int GENERATED ALWAYS AS (n * 2) STORED);
         CREATE TABLE special_item (note text) INHERITS (item);
         -- A child that declared the generated column itself, then inherited.
         CREATE TABLE legacy_item (id int NOT NULL, n int, doubled int GENERATED ALWAYS AS (n * 2) STORED);
         ALTER TABLE legacy_item INHERIT item;
         INSERT INTO item (id, n) VALUES (1, -1);
         ALTER TABLE item ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID;
         COMMENT ON CONSTRAINT n_positive ON item IS 'old rows predate it';",
        "INSERT INTO special_item (id, n, note) VALUES (2, 3, 'x');
         INSERT INTO legacy_item (id, n) VALUES (3, 4);",
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    const CHECKS: &str =
        "SELECT string_agg(conrelid::regclass || ' ' || conname || ' ' || convalidated
                                  || ' ' || conislocal || ' ' || coninhcount, ', ' ORDER BY conrelid::regclass::text)
                          FROM pg_constraint WHERE contype = 'c' AND conrelid <> 0";
    assert_eq!(
        dst.sql(CHECKS),
        "item n_positive false true 0, legacy_item n_positive false false 1, special_item n_positive false false 1"
    );
    assert_eq!(
        dst.sql("SELECT string_agg(id || ':' || doubled, ' ' ORDER BY id) FROM item"),
        "1:-2 2:6 3:8"
    );
}

#[test]
fn partitions_keep_their_own_not_null_defaults_and_trigger_states() {
    let (src, dst) = round_trip(
        "fid_partition",
        "CREATE TABLE event (id int NOT NULL, kind text, note text DEFAULT 'none', seen int DEFAULT 0)
           PARTITION BY LIST (kind);
         CREATE TABLE event_a PARTITION OF event FOR VALUES IN ('a');
         CREATE TABLE event_b PARTITION OF event FOR VALUES IN ('b');
         CREATE TABLE event_c PARTITION OF event FOR VALUES IN ('c');
         ALTER TABLE event_b ALTER COLUMN note SET NOT NULL, ALTER COLUMN note SET DEFAULT 'b-note';
         CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN NEW.seen := NEW.seen + 1; RETURN NEW; END $$;
         CREATE TRIGGER event_bump BEFORE INSERT ON event FOR EACH ROW EXECUTE FUNCTION bump();
         ALTER TABLE event_a DISABLE TRIGGER event_bump;
         ALTER TABLE event_c ENABLE ALWAYS TRIGGER event_bump;",
        "INSERT INTO event (id, kind) VALUES (1, 'a'), (2, 'b'), (3, 'c');",
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    const STATES: &str = "SELECT string_agg(tgrelid::regclass || ' ' || tgenabled::text, ', ' ORDER BY tgrelid::regclass::text)
                          FROM pg_trigger WHERE tgname = 'event_bump'";
    assert_eq!(dst.sql(STATES), "event O, event_a D, event_b O, event_c A");
    const COLUMNS: &str = "SELECT string_agg(attrelid::regclass || '.' || attname || ' ' || attnotnull
                                   || ' ' || coalesce(pg_get_expr(adbin, adrelid), '-'), ', ' ORDER BY attrelid::regclass::text)
                           FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
                           WHERE attrelid IN ('event_a'::regclass, 'event_b'::regclass) AND attname = 'note'";
    assert_eq!(dst.sql(COLUMNS), src.sql(COLUMNS));
    // The disabled clone does not fire, the others do; a row inserted into
    // the partition itself takes its own default.
    const AFTER: &str = "SELECT string_agg(id || ':' || seen || ':' || note, ' ' ORDER BY id) FROM event WHERE id > 3";
    for db in [&src, &dst] {
        db.sql(
            "INSERT INTO event (id, kind) VALUES (4, 'a'), (5, 'b'), (6, 'c');
                INSERT INTO event_b (id, kind) VALUES (7, 'b')",
        );
    }
    assert_eq!(dst.sql(AFTER), "4:0:none 5:1:none 6:1:none 7:1:b-note");
    assert_eq!(dst.sql(AFTER), src.sql(AFTER));
}

#[test]
fn rules_on_views_and_tables_are_carried() {
    // An INSTEAD rule makes a join view accept INSERT; a rule on a table
    // logs deletes, and one is disabled.
    let (src, dst) = round_trip(
        "fid_rules",
        "CREATE TABLE person (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE address (person_id int PRIMARY KEY REFERENCES person, city text NOT NULL);
         CREATE TABLE gone (id int, name text);
         CREATE VIEW person_city AS
           SELECT p.id, p.name, a.city FROM person p JOIN address a ON a.person_id = p.id;
         CREATE RULE person_city_insert AS ON INSERT TO person_city DO INSTEAD (
           INSERT INTO person VALUES (NEW.id, NEW.name);
           INSERT INTO address VALUES (NEW.id, NEW.city));
         COMMENT ON RULE person_city_insert ON person_city IS 'writable join';
         CREATE RULE person_gone AS ON DELETE TO person DO ALSO INSERT INTO gone VALUES (OLD.id, OLD.name);
         CREATE RULE person_quiet AS ON UPDATE TO person DO ALSO NOTIFY person_changed;
         ALTER TABLE person DISABLE RULE person_quiet;",
        "INSERT INTO person VALUES (1, 'Ada'); INSERT INTO address VALUES (1, 'London');",
    );
    const RULES: &str =
        "SELECT string_agg(ev_class::regclass || ' ' || rulename || ' ' || ev_enabled::text
                                  || ' ' || coalesce(obj_description(oid, 'pg_rewrite'), '-'), ', '
                                  ORDER BY ev_class::regclass::text, rulename)
                         FROM pg_rewrite WHERE rulename <> '_RETURN' AND ev_class >= 16384";
    assert_eq!(
        dst.sql(RULES),
        "person person_gone O -, person person_quiet D -, person_city person_city_insert O writable join"
    );
    assert_eq!(dst.sql(RULES), src.sql(RULES));
    dst.sql("INSERT INTO person_city VALUES (2, 'Grace', 'Arlington'); DELETE FROM address WHERE person_id = 1; DELETE FROM person WHERE id = 1");
    assert_eq!(
        dst.sql("SELECT (SELECT string_agg(name || '@' || city, ',') FROM person_city) || ' ' || (SELECT string_agg(name, ',') FROM gone)"),
        "Grace@Arlington Ada"
    );
}

/// The major of the suite's server, for syntax older majors lack.
fn major() -> u32 {
    TestDb::new("fid_major")
        .sql("SHOW server_version_num")
        .parse::<u32>()
        .expect("a version number")
        / 10000
}

#[test]
fn column_storage_compression_and_check_comments_are_carried() {
    // Column compression is new in PostgreSQL 14; lz4 only where the
    // server was built with it (some builds of 18 are not), else pglz.
    let lz4 = TestDb::new("fid_lz4").sql(
        "SELECT coalesce(bool_or('lz4' = ANY(enumvals)), false) FROM pg_settings
         WHERE name = 'default_toast_compression'",
    ) == "t";
    let (compression, code) = match (major() >= 14, lz4) {
        (false, _) => ("", "-"),
        (true, true) => (" COMPRESSION lz4", "l"),
        (true, false) => (" COMPRESSION pglz", "p"),
    };
    let (src, dst) = round_trip(
        "fid_storage",
        &format!(
            "CREATE TABLE doc (id int PRIMARY KEY, body text{compression}, raw bytea,
                               n int CONSTRAINT n_small CHECK (n < 100));
             ALTER TABLE doc ALTER COLUMN raw SET STORAGE EXTERNAL;
             COMMENT ON CONSTRAINT n_small ON doc IS 'kept small on purpose';"
        ),
        "INSERT INTO doc VALUES (1, repeat('x', 10000), '\\x00', 5);",
    );
    const COLUMNS: &str = "SELECT string_agg(attname || ' ' || attstorage::text || ' '
                                  || coalesce(nullif(to_jsonb(a) ->> 'attcompression', ''), '-'), ', ' ORDER BY attnum)
                           FROM pg_attribute a WHERE attrelid = 'doc'::regclass AND attnum > 0";
    assert_eq!(
        dst.sql(COLUMNS),
        format!("id p -, body x {code}, raw e -, n p -")
    );
    assert_eq!(dst.sql(COLUMNS), src.sql(COLUMNS));
    assert_eq!(
        dst.sql("SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint WHERE conname = 'n_small'"),
        "kept small on purpose"
    );
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn unlogged_sequences_unpopulated_materialized_views_and_key_index_comments_are_kept() {
    // Unlogged sequences are new in PostgreSQL 15.
    let (unlogged, persistence) = if major() >= 15 {
        ("UNLOGGED", "u")
    } else {
        ("", "p")
    };
    let (src, dst) = round_trip(
        "fid_details",
        &format!(
            "CREATE TABLE tally (id int PRIMARY KEY, n int);
         COMMENT ON INDEX tally_pkey IS 'the key''s index';
         CREATE {unlogged} SEQUENCE scratch_seq;
         ALTER TABLE tally ALTER COLUMN n SET DEFAULT nextval('scratch_seq');
         CREATE MATERIALIZED VIEW tally_total AS SELECT sum(n) AS total FROM tally WITH NO DATA;
         CREATE MATERIALIZED VIEW tally_count AS SELECT count(*) AS c FROM tally;"
        ),
        "INSERT INTO tally VALUES (1, 5);",
    );
    const DETAILS: &str = "SELECT (SELECT relpersistence::text FROM pg_class WHERE relname = 'scratch_seq')
                                  || ' ' || (SELECT string_agg(relname || ':' || relispopulated, ',' ORDER BY relname)
                                             FROM pg_class WHERE relkind = 'm')
                                  || ' ' || obj_description('tally_pkey'::regclass, 'pg_class')";
    assert_eq!(
        dst.sql(DETAILS),
        format!("{persistence} tally_count:true,tally_total:false the key's index")
    );
    assert_eq!(dst.sql(DETAILS), src.sql(DETAILS));
}

#[test]
fn typed_tables_are_created_of_their_type() {
    let (src, dst) = round_trip(
        "fid_typed",
        "CREATE TYPE point3 AS (x int, y int, z int);
         CREATE TABLE spot OF point3 (x WITH OPTIONS NOT NULL, y WITH OPTIONS DEFAULT 0,
                                      PRIMARY KEY (x));",
        "INSERT INTO spot (x, z) VALUES (1, 3);",
    );
    assert_eq!(
        dst.sql("SELECT reloftype::regtype FROM pg_class WHERE relname = 'spot'"),
        "point3"
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    dst.sql("INSERT INTO spot (x) VALUES (2)");
    assert_eq!(dst.sql("SELECT y FROM spot WHERE x = 2"), "0");
}

/// Every function, procedure and type in the user's schemas, as text.
const ROUTINES: &str = "
SELECT coalesce((SELECT string_agg(p.oid::regprocedure::text || ' ' || p.prokind::text, ', '
                                  ORDER BY p.oid::regprocedure::text)
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname IN ('public', 'api')), '')
    || ' | ' ||
       coalesce((SELECT string_agg(t.oid::regtype::text, ', ' ORDER BY t.oid::regtype::text)
                 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname IN ('public', 'api') AND t.typtype = 'e'), '')";

const API: &str = "
CREATE SCHEMA api;
CREATE TYPE api.status AS ENUM ('on', 'off');
CREATE TABLE tally (id int PRIMARY KEY, n int NOT NULL);
CREATE FUNCTION api.helper() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;
CREATE FUNCTION api.uses_helper() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN api.helper(); END $$;
CREATE PROCEDURE api.reset_tally() LANGUAGE sql AS $$ UPDATE public.tally SET n = 0 $$;
CREATE FUNCTION tally_label(r tally) RETURNS text LANGUAGE sql AS $$ SELECT r.id || ':' || r.n $$;";

#[test]
fn whole_schemas_carry_the_functions_and_types_no_table_uses() {
    let (src, dst) = round_trip("fid_api", API, "INSERT INTO tally VALUES (1, 5);");
    assert_eq!(
        dst.sql(ROUTINES),
        "api.helper() f, api.reset_tally() p, api.uses_helper() f, tally_label(tally) f | api.status"
    );
    assert_eq!(dst.sql(ROUTINES), src.sql(ROUTINES));
    // A function over a table's row type came after the table.
    assert_eq!(
        dst.sql("SELECT api.uses_helper() || ' ' || tally_label(t) FROM tally t"),
        "42 1:5"
    );
    dst.sql("CALL api.reset_tally()");
    assert_eq!(dst.sql("SELECT n FROM tally"), "0");
}

#[test]
fn a_dump_of_named_tables_carries_only_what_they_need() {
    let src = TestDb::new("fid_api_table_src")
        .with_sql(API)
        .with_sql("INSERT INTO tally VALUES (1, 5);");
    let dst = TestDb::new("fid_api_table_dst");
    let dir = scratch();
    let artifact = crate::support::dump_with(&src, dir.path(), "api", &["--table", "tally"]);
    restore(&dst, &artifact).ok();
    assert_eq!(dst.sql(ROUTINES).trim(), "|");
}

#[test]
fn views_that_read_no_table_are_carried_with_their_schema() {
    let (src, dst) = round_trip(
        "fid_const_view",
        "CREATE TABLE t (id int PRIMARY KEY);
         CREATE VIEW app_version AS SELECT '2.4'::text AS version, 7 AS build;
         CREATE VIEW app_version_label AS SELECT version || '+' || build AS label FROM app_version;",
        "",
    );
    assert_eq!(dst.sql("SELECT label FROM app_version_label"), "2.4+7");
    assert_eq!(dst.definitions(), src.definitions());
}

const SECURED: &str = "
CREATE TABLE note (id int PRIMARY KEY, author text NOT NULL, body text);
ALTER TABLE note ENABLE ROW LEVEL SECURITY;
CREATE POLICY note_author ON note USING (author = current_user);
CREATE POLICY note_has_body ON note AS RESTRICTIVE FOR INSERT TO PUBLIC WITH CHECK (body IS NOT NULL);
COMMENT ON POLICY note_author ON note IS 'each sees their own';";

/// Every policy and row security switch, as text.
const POLICIES: &str = "
SELECT coalesce(string_agg(polrelid::regclass || ' ' || polname || ' ' || polpermissive || ' '
                           || polcmd::text || ' ' || polroles::regrole[]::text || ' '
                           || coalesce(pg_get_expr(polqual, polrelid), '-') || ' '
                           || coalesce(pg_get_expr(polwithcheck, polrelid), '-') || ' '
                           || coalesce(obj_description(oid, 'pg_policy'), '-'), ', ' ORDER BY polname), '')
       || ' | ' || (SELECT string_agg(relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity, ', '
                                      ORDER BY relname)
                    FROM pg_class WHERE relrowsecurity OR relforcerowsecurity)
FROM pg_policy";

#[test]
fn row_level_security_policies_are_carried() {
    let (src, dst) = round_trip(
        "fid_rls",
        SECURED,
        "INSERT INTO note VALUES (1, 'ada', 'hi');",
    );
    assert_eq!(dst.sql(POLICIES), src.sql(POLICIES));
    assert!(
        dst.sql(POLICIES)
            .contains("note note_author true * {-} (author = CURRENT_USER) - each sees their own"),
        "{}",
        dst.sql(POLICIES)
    );
    assert_eq!(dst.snapshot(), src.snapshot());

    // Forced security, carried by a schema-only dump (a dump of the rows
    // would refuse: the owner is subject to its own policies then).
    let forced = TestDb::new("fid_rls_forced_src").with_sql(&format!(
        "{SECURED} ALTER TABLE note FORCE ROW LEVEL SECURITY;"
    ));
    let dir = scratch();
    let artifact = crate::support::dump_with(&forced, dir.path(), "forced", &["--schema-only"]);
    let empty = TestDb::new("fid_rls_forced_dst");
    restore(&empty, &artifact).ok();
    assert_eq!(empty.sql(POLICIES), forced.sql(POLICIES));
}

#[test]
fn a_policy_naming_a_role_the_target_lacks_is_refused_before_any_write() {
    let src = TestDb::new("fid_rls_role_src");
    src.admin_sql("DROP ROLE IF EXISTS fid_auditor; CREATE ROLE fid_auditor");
    src.sql(SECURED);
    src.sql("CREATE POLICY note_audit ON note FOR SELECT TO fid_auditor USING (true)");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "role");
    src.sql("DROP POLICY note_audit ON note");
    src.admin_sql("DROP ROLE fid_auditor");
    let dst = TestDb::new("fid_rls_role_dst");
    let run = crate::support::restore_with(&dst, &artifact, &[]).expect_code(3);
    assert!(
        run.stderr.contains(
            "the target has no role fid_auditor, which policy public.note note_audit names"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_class WHERE relname = 'note'"),
        "0"
    );
}

#[test]
fn domain_constraints_keep_their_comments_and_validation_state() {
    let (src, dst) = round_trip(
        "fid_domain",
        "CREATE DOMAIN percent AS int CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100);
         COMMENT ON CONSTRAINT percent_range ON DOMAIN percent IS 'a share of a hundred';
         CREATE TABLE score (id int PRIMARY KEY, p percent);
         INSERT INTO score VALUES (1, 50);
         ALTER DOMAIN percent ADD CONSTRAINT percent_even CHECK (VALUE % 2 = 0) NOT VALID;",
        "",
    );
    const CHECKS: &str = "SELECT string_agg(conname || ' ' || convalidated || ' '
                                  || coalesce(obj_description(oid, 'pg_constraint'), '-'), ', ' ORDER BY conname)
                          FROM pg_constraint WHERE contypid = 'percent'::regtype";
    assert_eq!(
        dst.sql(CHECKS),
        "percent_even false -, percent_range true a share of a hundred"
    );
    assert_eq!(dst.sql(CHECKS), src.sql(CHECKS));
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn a_partition_attached_with_its_own_column_order_keeps_it() {
    let (src, dst) = round_trip(
        "fid_attach",
        "CREATE TABLE measure (id int NOT NULL, at date NOT NULL, v numeric CHECK (v >= 0),
                               PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE TABLE measure_2025 PARTITION OF measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         CREATE TABLE measure_2026 (v numeric CONSTRAINT measure_v_check CHECK (v >= 0),
                                    at date NOT NULL, id int NOT NULL);
         ALTER TABLE measure ATTACH PARTITION measure_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
        "INSERT INTO measure VALUES (1, '2025-06-01', 1.5), (2, '2026-06-01', 2.5);",
    );
    const ORDER: &str = "SELECT string_agg(attrelid::regclass || '.' || attname, ', ' ORDER BY attrelid::regclass::text, attnum)
                         FROM pg_attribute WHERE attrelid IN ('measure_2025'::regclass, 'measure_2026'::regclass)
                           AND attnum > 0 AND NOT attisdropped";
    assert_eq!(
        dst.sql(ORDER),
        "measure_2025.id, measure_2025.at, measure_2025.v, measure_2026.v, measure_2026.at, measure_2026.id"
    );
    assert_eq!(dst.sql(ORDER), src.sql(ORDER));
    assert_eq!(dst.snapshot(), src.snapshot());
    assert_eq!(
        dst.sql("SELECT string_agg(tableoid::regclass || ':' || id, ' ' ORDER BY id) FROM measure"),
        "measure_2025:1 measure_2026:2"
    );
}

#[test]
fn an_extension_the_role_cannot_create_is_refused_before_any_write() {
    // dblink is not a trusted extension: only a superuser creates it.
    let src = TestDb::new("fid_untrusted_src");
    src.admin_sql("CREATE EXTENSION dblink");
    src.sql("CREATE TABLE link (id int PRIMARY KEY, open text[] DEFAULT dblink_get_connections())");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "untrusted");
    let dst = TestDb::new("fid_untrusted_dst");
    let run = crate::support::restore_with(&dst, &artifact, &[]).expect_code(3);
    assert!(
        run.stderr.contains(
            "extension dblink is not trusted, so only a superuser can create it; \
             have a superuser create it in the target first"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_class WHERE relname = 'link'"),
        "0"
    );
    // Created by a superuser, the restore goes through.
    dst.admin_sql("CREATE EXTENSION dblink");
    restore(&dst, &artifact).ok();
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn skip_object_leaves_one_object_out_and_says_so() {
    let src = TestDb::new("fid_skip_src").with_sql(API);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "skip");
    let dst = TestDb::new("fid_skip_dst");
    let run = crate::support::restore_with(
        &dst,
        &artifact,
        &["--skip-object", "function:api.uses_helper()"],
    )
    .ok();
    assert!(
        run.stderr
            .contains("function api.uses_helper() is left out (--skip-object)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        dst.sql(ROUTINES),
        "api.helper() f, api.reset_tally() p, tally_label(tally) f | api.status"
    );
    for (skip, expected) in [
        (
            "function:api.nothing()",
            "the artifact's schema holds no such object",
        ),
        ("table:public.tally", "tables are left out of the dump"),
        ("api.helper()", "write KIND:NAME"),
    ] {
        let empty = TestDb::new("fid_skip_bad");
        let run = crate::support::restore_with(&empty, &artifact, &["--skip-object", skip])
            .expect_code(2);
        assert!(run.stderr.contains(expected), "{skip}: {}", run.stderr);
    }
}

#[test]
fn an_invalid_partitioned_index_stays_invalid_with_what_was_attached() {
    let (src, dst) = round_trip(
        "fid_invalid_index",
        "CREATE TABLE reading (id int NOT NULL, at date NOT NULL, v int) PARTITION BY RANGE (at);
         CREATE TABLE reading_2025 PARTITION OF reading FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         CREATE TABLE reading_2026 PARTITION OF reading FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE INDEX reading_v ON ONLY reading (v);
         CREATE INDEX reading_2025_v ON reading_2025 (v);
         ALTER INDEX reading_v ATTACH PARTITION reading_2025_v;",
        "INSERT INTO reading VALUES (1, '2025-03-01', 7), (2, '2026-03-01', 8);",
    );
    const INDEXES: &str = "SELECT string_agg(c.relname || ' ' || i.indisvalid || ' '
                                  || coalesce((SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = c.oid), '-'),
                                  ', ' ORDER BY c.relname)
                           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                           WHERE c.relname LIKE 'reading%v'";
    assert_eq!(
        dst.sql(INDEXES),
        "reading_2025_v true reading_v, reading_v false -"
    );
    assert_eq!(dst.sql(INDEXES), src.sql(INDEXES));
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn statistics_objects_and_replica_identity_are_carried() {
    let (src, dst) = round_trip(
        "fid_stats",
        "CREATE TABLE city (id int PRIMARY KEY, zip text NOT NULL, name text NOT NULL);
         CREATE UNIQUE INDEX city_zip ON city (zip);
         CREATE STATISTICS city_zip_name (dependencies, ndistinct) ON zip, name FROM city;
         COMMENT ON STATISTICS city_zip_name IS 'zip decides name';
         ALTER TABLE city REPLICA IDENTITY USING INDEX city_zip;
         CREATE TABLE audit (at timestamptz, what text);
         ALTER TABLE audit REPLICA IDENTITY FULL;",
        "INSERT INTO city VALUES (1, '10115', 'Berlin');",
    );
    const DETAILS: &str = "SELECT (SELECT string_agg(pg_get_statisticsobjdef(oid) || ' '
                                            || obj_description(oid, 'pg_statistic_ext'), ', ')
                                   FROM pg_statistic_ext)
                                  || ' | ' || (SELECT string_agg(relname || ' ' || relreplident::text, ', ' ORDER BY relname)
                                               FROM pg_class WHERE relname IN ('city', 'audit'))
                                  || ' | ' || (SELECT indexrelid::regclass::text FROM pg_index WHERE indisreplident)";
    assert_eq!(
        dst.sql(DETAILS),
        "CREATE STATISTICS public.city_zip_name (ndistinct, dependencies) ON zip, name FROM city zip decides name | audit f, city i | city_zip"
    );
    assert_eq!(dst.sql(DETAILS), src.sql(DETAILS));
}

#[test]
fn shapes_from_postgresql_13s_regression_database_restore() {
    // A generated column of a domain type (the table depends on the domain
    // automatically, not as its part); a CHECK calling a function over its
    // own table's row type (added once that function exists); a primary key
    // over a generated column (which the data does not carry: the table is
    // handled as one without a key).
    let (src, dst) = round_trip(
        "fid_pg13",
        "CREATE DOMAIN small AS int CHECK (VALUE < 100);
         CREATE TABLE doubled (a int NOT NULL, b small GENERATED ALWAYS AS (a * 2) STORED);
         CREATE TABLE guarded (f1 int);
         CREATE FUNCTION guard_ok(g guarded) RETURNS boolean LANGUAGE sql IMMUTABLE
           AS $$ SELECT $1.f1 > 0 $$;
         ALTER TABLE guarded ADD CONSTRAINT guarded_check CHECK (guard_ok(guarded.*));
         CREATE TABLE keyed (a int, b int GENERATED ALWAYS AS (a * 2) STORED, PRIMARY KEY (a, b));",
        "INSERT INTO doubled (a) VALUES (1), (7);
         INSERT INTO guarded VALUES (3);
         INSERT INTO keyed (a) VALUES (2), (5);",
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    let refused = dst.try_sql("INSERT INTO guarded VALUES (-1)").unwrap_err();
    assert!(refused.contains("guarded_check"), "{refused}");
}

#[test]
fn inheritance_children_keep_generation_expressions_of_their_own() {
    // A child generating a column as its parent does takes the parent's
    // expression (it may not state one before 16); from 16 a child may
    // generate it its own way, and must when its parents disagree.
    let own = if major() >= 16 {
        "CREATE TABLE gp2 (a int, b int GENERATED ALWAYS AS (a * 3) STORED);
         CREATE TABLE gboth (a int, b int GENERATED ALWAYS AS (a * 4) STORED) INHERITS (gp1, gp2);"
    } else {
        ""
    };
    let (src, dst) = round_trip(
        "fid_gen_own",
        &format!(
            "CREATE TABLE gp1 (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
             CREATE TABLE gsame () INHERITS (gp1);
             {own}"
        ),
        "INSERT INTO gsame (a) VALUES (5);",
    );
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    assert_eq!(dst.sql("SELECT b FROM gsame"), "10");
}

#[test]
fn not_null_constraints_keep_their_names_and_validation_state() {
    // From PostgreSQL 18 a NOT NULL is a constraint: it may be named, and
    // NOT VALID over rows that are NULL (loaded before it is added).
    if major() < 18 {
        let (src, dst) = round_trip(
            "fid_notnull",
            "CREATE TABLE item (id int NOT NULL, name text NOT NULL);",
            "INSERT INTO item VALUES (1, 'a');",
        );
        assert_eq!(dst.definitions(), src.definitions());
        return;
    }
    let (src, dst) = round_trip(
        "fid_notnull",
        "CREATE TABLE item (id int CONSTRAINT item_id_required NOT NULL, name text, note text);
         INSERT INTO item VALUES (1, NULL, 'x');
         ALTER TABLE item ADD CONSTRAINT item_name_later NOT NULL name NOT VALID;",
        "",
    );
    const NOT_NULLS: &str = "SELECT string_agg(conname || ' ' || convalidated, ', ' ORDER BY conname)
                             FROM pg_constraint WHERE contype = 'n' AND conrelid = 'item'::regclass";
    assert_eq!(
        dst.sql(NOT_NULLS),
        "item_id_required true, item_name_later false"
    );
    assert_eq!(dst.sql(NOT_NULLS), src.sql(NOT_NULLS));
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn inheritance_children_keep_not_null_of_their_own_on_inherited_columns() {
    // NOT NULL set on a child alone: INHERITS would leave the column nullable.
    let mut schema = String::from(
        "CREATE TABLE base (a int, b int NOT NULL);
         CREATE TABLE child (note text) INHERITS (base);
         ALTER TABLE ONLY child ALTER COLUMN a SET NOT NULL;",
    );
    if major() >= 18 {
        // Named on the child alone; validated on a child (and commented
        // there) while its parent's stays NOT VALID, for inheritance and a
        // partition; a partition's own, named.
        schema.push_str(
            "CREATE TABLE loose (a int);
             CREATE TABLE tight (CONSTRAINT tight_a_required NOT NULL a) INHERITS (loose);
             CREATE TABLE lax (a int);
             CREATE TABLE strict () INHERITS (lax);
             INSERT INTO lax VALUES (NULL);
             ALTER TABLE lax ADD NOT NULL a NOT VALID;
             ALTER TABLE strict VALIDATE CONSTRAINT lax_a_not_null;
             COMMENT ON CONSTRAINT lax_a_not_null ON strict IS 'valid here';
             CREATE TABLE parts (a int, b int) PARTITION BY LIST (b);
             ALTER TABLE parts ADD CONSTRAINT parts_a_later NOT NULL a NOT VALID;
             CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
             CREATE TABLE parts_2 PARTITION OF parts (a WITH OPTIONS CONSTRAINT two_a NOT NULL)
               FOR VALUES IN (2);",
        );
    }
    let (src, dst) = round_trip(
        "fid_child_notnull",
        &schema,
        "INSERT INTO child VALUES (1, 2, 'x');",
    );
    assert_eq!(dst.definitions(), src.definitions());
    const NOT_NULL: &str = "SELECT string_agg(attrelid::regclass || '.' || attname, ' '
                                              ORDER BY attrelid::regclass::text, attname)
                            FROM pg_attribute WHERE attnotnull AND attnum > 0
                              AND attrelid::regclass::text IN ('base', 'child')";
    assert_eq!(dst.sql(NOT_NULL), "base.b child.a child.b");
    let refused = dst.try_sql("INSERT INTO child (a, b) VALUES (NULL, 1)");
    assert!(refused.is_err(), "child.a took a NULL");
    if major() >= 18 {
        const CONSTRAINTS: &str =
            "SELECT string_agg(conrelid::regclass || ' ' || conname || ' ' || convalidated
                               || ' ' || coalesce(obj_description(oid, 'pg_constraint'), '-'),
                               ', ' ORDER BY conrelid::regclass::text, conname)
             FROM pg_constraint WHERE contype = 'n' AND connamespace = 'public'::regnamespace";
        assert_eq!(dst.sql(CONSTRAINTS), src.sql(CONSTRAINTS));
        assert!(
            dst.sql(CONSTRAINTS)
                .contains("strict lax_a_not_null true valid here"),
            "{}",
            dst.sql(CONSTRAINTS)
        );
    }
}

#[test]
fn partitions_keep_the_names_of_their_own_keys_and_indexes() {
    // A partition made on its own (keys and indexes named by its author),
    // then attached; the parent's key and index attach them.
    let (src, dst) = round_trip(
        "fid_part_names",
        "CREATE TABLE events (id int, at date, kind text) PARTITION BY RANGE (at);
         CREATE TABLE events_2024 (id int, at date, kind text);
         ALTER TABLE events_2024 ADD CONSTRAINT events_2024_identity PRIMARY KEY (id, at);
         CREATE INDEX events_2024_by_kind ON events_2024 (kind);
         COMMENT ON INDEX events_2024_by_kind IS 'kept';
         ALTER TABLE events_2024 CLUSTER ON events_2024_by_kind;
         ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
           PARTITION BY HASH (id);
         CREATE TABLE events_2025_h0 (id int, at date, kind text);
         ALTER TABLE events_2025_h0 ADD CONSTRAINT h0_identity PRIMARY KEY (id, at);
         ALTER TABLE events_2025 ATTACH PARTITION events_2025_h0 FOR VALUES WITH (MODULUS 1, REMAINDER 0);
         ALTER TABLE events ADD PRIMARY KEY (id, at);
         CREATE INDEX events_kind ON events (kind);",
        "INSERT INTO events VALUES (1, '2024-05-01', 'a'), (2, '2025-05-01', 'b');",
    );
    const INDEXES: &str =
        "SELECT string_agg(x.indexrelid::regclass || ' ' || x.indisclustered || ' '
                           || coalesce(obj_description(x.indexrelid, 'pg_class'), '-') || ' <'
                           || coalesce((SELECT inhparent::regclass::text FROM pg_inherits
                                        WHERE inhrelid = x.indexrelid), '-'),
                           ', ' ORDER BY x.indexrelid::regclass::text)
         FROM pg_index x WHERE x.indrelid::regclass::text LIKE 'events%'";
    assert_eq!(dst.sql(INDEXES), src.sql(INDEXES));
    for kept in [
        "events_2024_by_kind true kept <events_kind",
        "events_2024_identity false - <events_pkey",
        "h0_identity false - <events_2025_pkey",
    ] {
        assert!(dst.sql(INDEXES).contains(kept), "{}", dst.sql(INDEXES));
    }
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn composite_types_keep_attribute_collations_and_comments() {
    let (src, dst) = round_trip(
        "fid_composite",
        "CREATE TYPE address AS (street text COLLATE \"C\", zip int);
         COMMENT ON COLUMN address.zip IS 'five digits';
         CREATE TABLE site (id int PRIMARY KEY, at address);",
        "INSERT INTO site VALUES (1, ROW('Main', 12345));",
    );
    const ATTRIBUTES: &str =
        "SELECT string_agg(a.attname || ' ' || coalesce(c.collname, '-') || ' '
                           || coalesce(col_description(a.attrelid, a.attnum), '-'), ', ' ORDER BY a.attnum)
         FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
         WHERE a.attrelid = 'address'::regclass AND a.attnum > 0";
    assert_eq!(dst.sql(ATTRIBUTES), "street C -, zip - five digits");
    assert_eq!(dst.sql(ATTRIBUTES), src.sql(ATTRIBUTES));
    assert_eq!(dst.snapshot(), src.snapshot());
}

/// PostgreSQL's regression database: a `NOT VALID` check its rows break.
/// A restore into a schema that has it (a second restore, or one into a
/// migrated schema) loads the rows and leaves the check as it was.
#[test]
fn a_not_valid_check_the_rows_break_is_kept_through_a_data_only_restore() {
    const SCHEMA: &str = "
        CREATE TABLE public.reading (id int PRIMARY KEY, v int);
        INSERT INTO public.reading VALUES (1, -5), (2, 7);
        ALTER TABLE public.reading ADD CONSTRAINT positive CHECK (v > 0) NOT VALID;
        COMMENT ON CONSTRAINT positive ON public.reading IS 'new readings only';";
    const CHECK: &str = "SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
                                || ' ' || obj_description(oid, 'pg_constraint')
                         FROM pg_constraint WHERE conrelid = 'public.reading'::regclass AND contype = 'c'";
    let src = TestDb::new("notvalid_src").with_sql(SCHEMA);
    let dst = TestDb::new("notvalid_dst")
        .with_sql(SCHEMA)
        .with_sql("DELETE FROM public.reading;");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "notvalid");
    for extra in [
        &["-q", "--data-only"][..],
        &["-q", "--data-only", "--mvcc-safe"][..],
    ] {
        restore_with(&dst, &artifact, extra).ok();
        assert_eq!(
            dst.sql("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM public.reading"),
            "1:-5,2:7"
        );
        assert_eq!(dst.sql(CHECK), src.sql(CHECK));
    }
    assert!(dst
        .try_sql("INSERT INTO public.reading VALUES (3, -1)")
        .is_err());
}
