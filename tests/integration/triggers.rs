//! User triggers do not fire during a restore and keep their exact states.

use crate::roundtrip::fixture_pair;
use crate::support::{dump, restore, scratch};

const TRIGGER_STATES: &str =
    "SELECT tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1";

#[test]
fn user_triggers_do_not_fire_and_keep_their_states() {
    let (src, dst) = fixture_pair("triggers");
    let states_before = dst.sql(TRIGGER_STATES);
    assert!(states_before.contains("doc_audit_always A"));
    assert!(states_before.contains("doc_audit_replica R"));
    assert!(states_before.contains("doc_audit_off D"));
    assert!(states_before.contains("measurement_eu measurement_eu_bump A"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "triggers");
    restore(&dst, &artifact).ok();

    // The updated_at trigger changed nothing; the audit trigger added no rows;
    // the value-bumping triggers on the partitioned table did not run.
    for query in [
        "SELECT string_agg(id || ' ' || updated_at, ',' ORDER BY id) FROM public.doc",
        "SELECT count(*) FROM public.doc_audit",
        "SELECT string_agg(id || ' ' || v, ',' ORDER BY id) FROM public.measurement",
    ] {
        assert_eq!(dst.sql(query), src.sql(query), "{query}");
    }
    assert_eq!(dst.sql(TRIGGER_STATES), states_before);
    // And they fire again afterwards, as before.
    dst.sql("INSERT INTO public.doc (id, body) VALUES (3, 'after')");
    assert_eq!(
        dst.sql("SELECT count(*) FROM public.doc_audit WHERE doc_id = 3"),
        "1"
    );
}

/// Rules fire on the load's writes as triggers do: a DELETE that empties a
/// table (`--mvcc-safe`) runs its `ON DELETE` rules. (The regression
/// database has such rules.) They are disabled for the load and come back
/// in their states.
#[test]
fn rules_do_not_fire_and_keep_their_states() {
    const SCHEMA: &str = "
        CREATE TABLE public.kept (id int PRIMARY KEY, v text);
        CREATE TABLE public.log (what text);
        CREATE RULE kept_no_delete AS ON DELETE TO public.kept DO INSTEAD NOTHING;
        CREATE RULE kept_log_insert AS ON INSERT TO public.kept DO ALSO
            INSERT INTO public.log VALUES ('insert ' || NEW.id);
        ALTER TABLE public.kept ENABLE ALWAYS RULE kept_log_insert;
        CREATE RULE kept_log_update AS ON UPDATE TO public.kept DO ALSO
            INSERT INTO public.log VALUES ('update ' || NEW.id);
        ALTER TABLE public.kept DISABLE RULE kept_log_update;";
    const RULES: &str =
        "SELECT string_agg(rulename || ' ' || ev_enabled::text, ',' ORDER BY rulename) FROM pg_rewrite
         WHERE ev_class = 'public.kept'::regclass";
    let src = crate::support::TestDb::new("rules_src")
        .with_sql(SCHEMA)
        .with_sql("INSERT INTO public.kept VALUES (1, 'new'), (2, 'new');");
    let dst = crate::support::TestDb::new("rules_dst")
        .with_sql(SCHEMA)
        .with_sql("INSERT INTO public.kept VALUES (1, 'old'), (3, 'old'); DELETE FROM public.log;");
    let states = dst.sql(RULES);
    let dir = scratch();
    let artifact = crate::support::dump_with(&src, dir.path(), "rules", &["--table", "kept"]);
    for extra in [&["--mvcc-safe"][..], &[][..]] {
        let mut args = vec!["-q", "--data-only", "--force"];
        args.extend(extra);
        crate::support::restore_with(&dst, &artifact, &args).ok();
        assert_eq!(dst.sql(RULES), states, "{extra:?}");
        assert_eq!(dst.sql("SELECT count(*) FROM public.log"), "0", "{extra:?}");
    }
    assert_eq!(
        dst.sql("SELECT string_agg(id || ' ' || v, ',' ORDER BY id) FROM public.kept"),
        "1 new,2 new"
    );
    // A merge cannot write into it: refused before any write, naming the rule.
    let before = dst.snapshot();
    let run =
        crate::support::restore_with(&dst, &artifact, &["-q", "--mode", "upsert"]).expect_code(3);
    assert!(
        run.stderr
            .contains("rule kept_log_insert on INSERT or UPDATE"),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);
}
