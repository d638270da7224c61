//! The deploy loop as applications run it: migrations make the schema, a
//! seed built in CI is applied on every deploy, skipped when it is what the
//! tables hold, applied again after a rollback.

use crate::support::{dump, restore_with, scratch, TestDb};

const SCHEMA: &str = "CREATE TABLE public.country (code text PRIMARY KEY, name text NOT NULL);";

fn names(db: &TestDb) -> String {
    db.sql("SELECT string_agg(code || '=' || name, ',' ORDER BY code) FROM public.country")
}

/// Apply `artifact` to `db` with `args`; true when it was skipped.
fn deploy(db: &TestDb, artifact: &std::path::Path, args: &[&str]) -> bool {
    let run = restore_with(db, artifact, args).ok();
    run.stdout.starts_with("already applied")
}

#[test]
fn a_rollback_then_a_roll_forward_applies_again() {
    let dir = scratch();
    let v1 = TestDb::new("roll_v1")
        .with_sql(SCHEMA)
        .with_sql("INSERT INTO public.country VALUES ('de', 'Germany'), ('fr', 'France');");
    let v2 = TestDb::new("roll_v2").with_sql(SCHEMA).with_sql(
        "INSERT INTO public.country VALUES ('de', 'Deutschland'), ('fr', 'France'), ('it', 'Italy');",
    );
    let (a1, a2) = (dump(&v1, dir.path(), "v1"), dump(&v2, dir.path(), "v2"));
    let (v1_names, v2_names) = ("de=Germany,fr=France", "de=Deutschland,fr=France,it=Italy");

    for mode in ["replace", "upsert"] {
        let production = TestDb::new("roll_prod").with_sql(SCHEMA);
        let args = ["--mode", mode];
        assert!(!deploy(&production, &a1, &args), "{mode}: v1");
        assert_eq!(names(&production), v1_names);
        assert!(
            deploy(&production, &a1, &args),
            "{mode}: v1 again is a no-op"
        );
        assert!(!deploy(&production, &a2, &args), "{mode}: v2");
        assert_eq!(names(&production), v2_names);
        assert!(!deploy(&production, &a1, &args), "{mode}: rollback to v1");
        if mode == "replace" {
            assert_eq!(names(&production), v1_names);
        } else {
            // Upsert keeps rows the seed no longer has; v1's values are back.
            assert_eq!(names(&production), "de=Germany,fr=France,it=Italy");
        }
        assert!(
            !deploy(&production, &a2, &args),
            "{mode}: v2 again after the rollback"
        );
        assert_eq!(names(&production), v2_names);
        assert!(
            deploy(&production, &a2, &args),
            "{mode}: v2 a second time is a no-op"
        );
        let modes =
            production.sql("SELECT string_agg(mode, ',' ORDER BY id) FROM seedpack.history");
        assert_eq!(modes, [mode; 4].join(","));
    }

    // --clean is a mode of its own: the same content replaced before does
    // not make a clean restore a no-op.
    let production = TestDb::new("roll_clean").with_sql(SCHEMA);
    assert!(!deploy(&production, &a2, &[]));
    assert!(!deploy(&production, &a2, &["--clean"]));
    assert!(deploy(&production, &a2, &["--clean"]));
    assert_eq!(
        production.sql("SELECT string_agg(mode, ',' ORDER BY id) FROM seedpack.history"),
        "replace,clean"
    );
}
