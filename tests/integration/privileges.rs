//! Privileges travel only when asked for on both sides: `dump
//! --privileges` carries the grants on carried objects and the default
//! privileges of carried schemas; `restore --privileges` applies those
//! whose roles the target has and names the roles it lacks.

use crate::support::{dump, dump_with, manifest_json, restore, restore_with, scratch, TestDb};

/// Every ACL of the test's objects, as text (the owner is the same role on
/// both sides).
const ACLS: &str = "
SELECT concat_ws(' | ',
  (SELECT relacl::text FROM pg_class WHERE oid = 'api.account'::regclass),
  (SELECT string_agg(attname || '=' || attacl::text, ',' ORDER BY attname) FROM pg_attribute
   WHERE attrelid = 'api.account'::regclass AND cardinality(attacl) > 0),
  (SELECT relacl::text FROM pg_class WHERE oid = 'api.account_names'::regclass),
  (SELECT relacl::text FROM pg_class WHERE oid = 'api.ticket'::regclass),
  (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'api'),
  (SELECT proacl::text FROM pg_proc WHERE oid = 'api.balance(int)'::regprocedure),
  (SELECT typacl::text FROM pg_type WHERE oid = 'api.money_amount'::regtype),
  (SELECT string_agg(defaclobjtype::text || '=' || defaclacl::text, ',') FROM pg_default_acl))";

#[test]
fn privileges_travel_when_asked_and_apply_where_the_target_has_the_roles() {
    let pid = std::process::id();
    let (reader, gone) = (format!("sp_reader_{pid}"), format!("sp_gone_{pid}"));
    let src = TestDb::new("priv_src");
    src.admin_sql(&format!("CREATE ROLE {reader}; CREATE ROLE {gone}"));
    src.sql(&format!(
        "CREATE SCHEMA api;
         CREATE DOMAIN api.money_amount AS numeric(12, 2);
         CREATE TABLE api.account (id int PRIMARY KEY, name text, balance api.money_amount);
         CREATE VIEW api.account_names AS SELECT id, name FROM api.account;
         CREATE SEQUENCE api.ticket;
         CREATE FUNCTION api.balance(wanted int) RETURNS numeric LANGUAGE sql STABLE
           AS $$ SELECT a.balance FROM api.account a WHERE a.id = wanted $$;
         GRANT USAGE ON SCHEMA api TO {reader};
         GRANT SELECT, INSERT ON api.account TO {reader};
         GRANT SELECT (id, name) ON api.account TO {gone};
         GRANT SELECT ON api.account_names TO PUBLIC;
         GRANT USAGE ON SEQUENCE api.ticket TO {reader} WITH GRANT OPTION;
         REVOKE EXECUTE ON FUNCTION api.balance(int) FROM PUBLIC;
         GRANT EXECUTE ON FUNCTION api.balance(int) TO {reader};
         REVOKE USAGE ON DOMAIN api.money_amount FROM PUBLIC;
         ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT SELECT ON TABLES TO {reader};
         INSERT INTO api.account VALUES (1, 'Ada', 10.50);"
    ));
    let dir = scratch();

    // Not asked for: nothing travels.
    let plain = dump(&src, dir.path(), "plain");
    let kinds = manifest_json(&plain)["schema"]["objects"].to_string();
    assert!(!kinds.contains("\"grant\""), "{kinds}");

    let artifact = dump_with(&src, dir.path(), "privileged", &["--privileges"]);
    // The role the target will lack: gone from the cluster after the dump.
    src.admin_sql(&format!(
        "REVOKE ALL ON api.account FROM {gone}; REVOKE SELECT (id, name) ON api.account FROM {gone};
         DROP ROLE {gone}"
    ));

    // Carried but not asked for on restore: not applied, and said.
    let without = TestDb::new("priv_without");
    let run = restore(&without, &artifact).ok();
    assert!(
        run.stderr.contains("restore --privileges applies them"),
        "{}",
        run.stderr
    );
    assert_eq!(
        without.sql(&format!(
            "SELECT has_table_privilege('{reader}', 'api.account', 'SELECT')"
        )),
        "f"
    );

    // Asked for: applied where the roles exist; the missing one is named.
    let with = TestDb::new("priv_with");
    let run = restore_with(&with, &artifact, &["--privileges"]).ok();
    assert!(
        run.stderr
            .contains(&format!("the target has no role {gone}")),
        "{}",
        run.stderr
    );
    assert_eq!(with.sql(ACLS), src.sql(ACLS));
    assert_eq!(
        with.sql(&format!(
            "SELECT has_function_privilege('{reader}', 'api.balance(int)', 'EXECUTE')::text
                    || has_sequence_privilege('{reader}', 'api.ticket', 'USAGE WITH GRANT OPTION')::text
                    || has_function_privilege('public', 'api.balance(int)', 'EXECUTE')::text"
        )),
        "truetruefalse"
    );
}
