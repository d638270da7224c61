//! Objects other than tables that whole schemas hold (operators, operator
//! classes and families, casts, collations, conversions, text search
//! objects, base types), restored into empty databases; what only a
//! superuser can create is refused up front, and what a carried object
//! needs but no dump can carry fails the dump.

use crate::support::cluster::OWNER;
use crate::support::{assert_same_answers, dump, restore, scratch, seedpack, url_password, TestDb};

#[test]
fn operators_casts_collations_conversions_and_text_search_objects_are_carried() {
    // All of these a database owner can create; each is used by a table,
    // an index or a view, or by nothing at all (an application's own API).
    let src = TestDb::new("obj_src").with_sql(
        "CREATE FUNCTION same_parity(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE
           AS $$ SELECT a % 2 = b % 2 $$;
         CREATE FUNCTION other_parity(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE
           AS $$ SELECT a % 2 <> b % 2 $$;
         CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same_parity,
                              COMMUTATOR = ===, NEGATOR = !==, RESTRICT = eqsel, JOIN = eqjoinsel);
         CREATE OPERATOR !== (LEFTARG = int, RIGHTARG = int, FUNCTION = other_parity,
                              NEGATOR = ===);
         COMMENT ON OPERATOR ===(int, int) IS 'same parity';
         CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE FUNCTION mood_of(n int) RETURNS mood LANGUAGE sql IMMUTABLE
           AS $$ SELECT (enum_range(NULL::mood))[n] $$;
         CREATE CAST (int AS mood) WITH FUNCTION mood_of(int) AS ASSIGNMENT;
         COMMENT ON CAST (int AS mood) IS 'by position';
         CREATE COLLATION plain (provider = libc, locale = 'C');
         CREATE CONVERSION latin_to_utf FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
         CREATE TEXT SEARCH DICTIONARY keep_all (TEMPLATE = pg_catalog.simple, ACCEPT = true);
         CREATE TEXT SEARCH CONFIGURATION app_search (COPY = pg_catalog.english);
         ALTER TEXT SEARCH CONFIGURATION app_search ALTER MAPPING FOR asciiword WITH keep_all;
         COMMENT ON TEXT SEARCH CONFIGURATION app_search IS 'stop words kept';
         CREATE TABLE note (id int PRIMARY KEY, body text COLLATE plain NOT NULL, m mood,
                            CHECK (id === id));
         CREATE INDEX note_search ON note USING gin (to_tsvector('public.app_search', body));
         INSERT INTO note VALUES (1, 'The cats', 2), (2, 'a dog', 3);",
    );
    let dst = TestDb::new("obj_dst");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "objects");
    restore(&dst, &artifact).ok();
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    // They behave as the source's do.
    assert_same_answers(
        &src,
        &dst,
        &[
        "SELECT (2 === 4)::text || (2 !== 4)::text || (NOT 3 === 4)::text",
        "SELECT (3::mood)::text",
        "SELECT string_agg(body, ',' ORDER BY body) FROM note",
        "SELECT to_tsvector('public.app_search', 'The cats')::text",
        "SELECT convert('\\x636166e9'::bytea, 'LATIN1', 'UTF8')::text",
        "SELECT obj_description(oid, 'pg_ts_config') FROM pg_ts_config WHERE cfgname = 'app_search'",
        ],
    );
    assert_eq!(dst.sql("SELECT (3::mood)::text"), "happy");
    assert_eq!(
        dst.sql("SELECT to_tsvector('public.app_search', 'The cats')::text"),
        "'cats':2 'the':1"
    );
}

/// A base type over the server's own int4 functions (creating those takes
/// a superuser), an operator class for it and a text search template.
const SUPERUSER_OBJECTS: &str = "
CREATE TYPE public.myint;
CREATE FUNCTION public.myint_in(cstring) RETURNS public.myint LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION public.myint_out(public.myint) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE TYPE public.myint (INPUT = public.myint_in, OUTPUT = public.myint_out, INTERNALLENGTH = 4,
                          PASSEDBYVALUE, ALIGNMENT = int4, CATEGORY = 'N');
CREATE FUNCTION public.myint_cmp(public.myint, public.myint) RETURNS int LANGUAGE internal IMMUTABLE STRICT
  AS 'btint4cmp';
CREATE FUNCTION public.myint_lt(public.myint, public.myint) RETURNS boolean LANGUAGE internal IMMUTABLE STRICT
  AS 'int4lt';
CREATE FUNCTION public.myint_eq(public.myint, public.myint) RETURNS boolean LANGUAGE internal IMMUTABLE STRICT
  AS 'int4eq';
CREATE OPERATOR public.< (LEFTARG = public.myint, RIGHTARG = public.myint, FUNCTION = public.myint_lt);
CREATE OPERATOR public.= (LEFTARG = public.myint, RIGHTARG = public.myint, FUNCTION = public.myint_eq);
CREATE OPERATOR CLASS public.myint_ops DEFAULT FOR TYPE public.myint USING btree AS
  OPERATOR 1 public.<, OPERATOR 3 public.=, FUNCTION 1 public.myint_cmp(public.myint, public.myint);
CREATE TEXT SEARCH TEMPLATE public.plain_words (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'ddl'; END $$;
CREATE EVENT TRIGGER note_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')
  EXECUTE FUNCTION public.note_ddl();
ALTER EVENT TRIGGER note_ddl ENABLE ALWAYS;";

/// The event triggers, with their events, tags and firing states.
const EVENT_TRIGGERS: &str = "SELECT string_agg(evtname || ' ' || evtevent || ' ' || evtenabled::text
                                                || ' ' || evttags::text || ' ' || evtfoid::regproc, ',')
                              FROM pg_event_trigger";

/// The owner's table over the superuser's type, indexed through its class.
const OWNERS_TABLE: &str = "
CREATE TABLE reading (id int PRIMARY KEY, v myint NOT NULL);
CREATE INDEX reading_v ON reading (v);
INSERT INTO reading VALUES (1, '42'), (2, '7');";

#[test]
fn objects_only_a_superuser_can_create_are_refused_before_any_write_and_restore_as_superuser() {
    let src = TestDb::new("obj_super_src");
    src.admin_sql(SUPERUSER_OBJECTS);
    src.sql(OWNERS_TABLE);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "superuser");

    // As the owner (no superuser): refused up front, naming every object.
    let dst = TestDb::new("obj_super_dst");
    let run = restore(&dst, &artifact).expect_code(3);
    for named in [
        "type public.myint",
        "function public.myint_in(cstring)",
        "operator class public.myint_ops USING btree",
        "text search template public.plain_words",
        "event trigger note_ddl",
    ] {
        assert!(run.stderr.contains(named), "{named}: {}", run.stderr);
    }
    assert!(run.stderr.contains("--skip-object"), "{}", run.stderr);
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"),
        "0"
    );
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_type WHERE typname = 'myint'"),
        "0"
    );

    // As a superuser: restored exactly, and the type and its index work.
    let url = dst.admin_url();
    let password = url_password(&url);
    seedpack(&[
        "restore",
        "--yes",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &url,
    ])
    .secret(&password)
    .run()
    .ok();
    // What a superuser restores is the superuser's; the owner reads it back.
    dst.admin_sql(&format!("ALTER TABLE reading OWNER TO {OWNER}"));
    assert_eq!(dst.definitions(), src.definitions());
    assert_eq!(dst.snapshot(), src.snapshot());
    assert_eq!(
        dst.sql(
            "SET enable_seqscan = off; SELECT string_agg(v::text, ',' ORDER BY v) FROM reading WHERE v < '50'"
        ),
        "7,42"
    );
    assert_eq!(
        dst.sql("SELECT tmplname FROM pg_ts_template WHERE tmplnamespace = 'public'::regnamespace"),
        "plain_words"
    );
    assert_eq!(
        dst.sql(EVENT_TRIGGERS),
        "note_ddl ddl_command_end A {\"CREATE TABLE\",\"DROP TABLE\"} note_ddl"
    );
    assert_eq!(dst.sql(EVENT_TRIGGERS), src.sql(EVENT_TRIGGERS));
}

#[test]
fn a_carried_object_needing_what_no_dump_carries_fails_the_dump() {
    // A procedural language made without an extension is not carried; a
    // function in it that a table's default calls cannot be left behind.
    let src = TestDb::new("obj_needs_src");
    src.admin_sql(
        "CREATE FUNCTION public.my_handler() RETURNS language_handler LANGUAGE c
           AS '$libdir/plpgsql', 'plpgsql_call_handler';
         CREATE LANGUAGE my_plpgsql HANDLER public.my_handler;
         CREATE FUNCTION public.one() RETURNS int LANGUAGE my_plpgsql AS 'begin return 1; end';",
    );
    src.sql("CREATE TABLE t (id int DEFAULT one());");
    let dir = scratch();
    let path = dir.path().join("needs.seedpack");
    let run = seedpack(&["dump", "--dsn", &src.url(), "-o", path.to_str().unwrap()])
        .secret(&src.cluster.owner_password)
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("language my_plpgsql"), "{}", run.stderr);
    assert!(!path.exists(), "no artifact is written");
}
