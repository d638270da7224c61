//! Schemas nobody here wrote restore into an empty database exactly: a
//! minimal repro of each defect real schemas showed, asserting on the
//! restored catalog.

use crate::support::{dump, restore, scratch, TestDb};

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
