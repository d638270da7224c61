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
