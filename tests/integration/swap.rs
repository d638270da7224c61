//! `restore --jobs`: tables built beside their targets and swapped in by
//! the one transaction, exactly as they were defined; what cannot be
//! swapped loads in place; a kill during the builds or in the swapping
//! transaction leaves the target as it was and the shadows to `clean-up`;
//! a reader never sees old and new data at once.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::support::blocking::{restore_until_blocked, restore_until_waiting, Holder};
use crate::support::{dump_with, restore_with, scratch, seedpack, TestDb};

/// Tables with much of what a definition can hold, and one a view reads.
const SCHEMA: &str = "
    CREATE TABLE public.parent (id serial PRIMARY KEY, name text NOT NULL CHECK (name <> ''),
                                note text) WITH (fillfactor = 80);
    COMMENT ON TABLE public.parent IS 'the parents';
    COMMENT ON COLUMN public.parent.name IS 'a name';
    CREATE UNIQUE INDEX parent_lower_name ON public.parent (lower(name));
    COMMENT ON INDEX public.parent_lower_name IS 'unique names';
    GRANT SELECT ON public.parent TO swap_reader;
    GRANT UPDATE (note) ON public.parent TO swap_reader;
    ALTER TABLE public.parent ALTER COLUMN note SET STATISTICS 500;
    CREATE UNLOGGED TABLE public.child (
        id int GENERATED ALWAYS AS IDENTITY (START WITH 10 CACHE 5) PRIMARY KEY,
        parent_id int NOT NULL REFERENCES public.parent, v numeric);
    ALTER TABLE public.child REPLICA IDENTITY FULL;
    CLUSTER public.child USING child_pkey;
    CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql
        AS $$BEGIN NEW.v := coalesce(NEW.v, 0); RETURN NEW; END$$;
    CREATE TRIGGER child_touch BEFORE INSERT ON public.child
        FOR EACH ROW EXECUTE FUNCTION public.touch();
    ALTER TABLE public.child ENABLE REPLICA TRIGGER child_touch;
    CREATE TABLE public.viewed (id int PRIMARY KEY);
    CREATE VIEW public.v AS SELECT id FROM public.viewed;
    CREATE TABLE public.outside (id int PRIMARY KEY, parent_id int REFERENCES public.parent);";

/// Over 1 MiB of data in each swapped table: smaller ones load in place.
const ROWS: &str = "
    INSERT INTO public.parent (name) SELECT 'p' || g || repeat('x', 30) FROM generate_series(1, 30000) g;
    INSERT INTO public.child (parent_id, v) SELECT 1 + g % 30000, g * 1000 FROM generate_series(1, 80000) g;
    INSERT INTO public.viewed SELECT generate_series(1, 200000);";

/// What `definitions` leaves out and a swap must keep too.
const MORE: &str = "
    SELECT string_agg(format('%s %s %s %s %s', c.relname, c.relpersistence, c.reloptions,
                             c.relreplident, c.relacl), E'\\n' ORDER BY c.relname)
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')
    UNION ALL
    SELECT string_agg(format('%s.%s %s %s', a.attrelid::regclass, a.attname, a.attstattarget,
                             a.attacl), E'\\n' ORDER BY a.attrelid::regclass::text, a.attnum)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0
    UNION ALL
    SELECT string_agg(format('%s %s', indexrelid::regclass, indisclustered), E'\\n'
                      ORDER BY indexrelid::regclass::text)
    FROM pg_index WHERE indrelid::regclass::text LIKE 'child%'
    UNION ALL
    SELECT string_agg(format('%s %s %s %s %s %s %s %s', seqrelid::regclass, seqtypid::regtype,
                             seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle),
                      E'\\n' ORDER BY seqrelid::regclass::text)
    FROM pg_sequence WHERE seqrelid::regclass::text NOT LIKE 'seedpack.%'";

fn oids(db: &TestDb) -> String {
    db.sql(
        "SELECT string_agg(relname || ' ' || oid, ',' ORDER BY relname) FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
    )
}

fn pair(label: &str) -> (TestDb, TestDb) {
    let src = TestDb::new(&format!("{label}_src"));
    // The tests here run at once: the role is made once, by the first.
    static ROLE: std::sync::Once = std::sync::Once::new();
    ROLE.call_once(|| {
        src.admin_sql(
            "DO $$BEGIN CREATE ROLE swap_reader; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
        );
    });
    let src = src.with_sql(SCHEMA).with_sql(ROWS);
    let dst = TestDb::new(&format!("{label}_dst")).with_sql(SCHEMA).with_sql(
        "INSERT INTO public.parent (name) VALUES ('old'); INSERT INTO public.child (parent_id) VALUES (1);",
    );
    (src, dst)
}

#[test]
fn tables_are_swapped_in_exactly_and_the_rest_load_in_place() {
    let (src, dst) = pair("swap");
    let dir = scratch();
    let artifact = dump_with(
        &src,
        dir.path(),
        "swap",
        &["--table", "parent", "--table", "child", "--table", "viewed"],
    );
    let (definitions, more, before) = (dst.definitions(), dst.sql(MORE), oids(&dst));
    let ddl = || {
        let major: u32 = dst.sql("SHOW server_version_num").parse::<u32>().unwrap() / 10000;
        crate::support::pg_dump::schema_only(&dst.url(), &dst.cluster.psql, major)
    };
    let dumped = ddl();
    let run = restore_with(&dst, &artifact, &["--data-only", "--jobs", "3"]).ok();
    assert!(
        run.stderr.contains(
            "--jobs loads in place, in the restore's transaction, \"public\".\"viewed\": \
             with views, rules, functions or statistics objects depending on it"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(dst.definitions(), definitions);
    assert_eq!(dst.sql(MORE), more);
    assert_eq!(ddl(), dumped, "pg_dump --schema-only sees the same schema");
    assert_eq!(dst.shadow_schemas(), "");
    let after = oids(&dst);
    let changed = |table: &str| {
        let find = |all: &str| {
            all.split(',')
                .find(|t| t.starts_with(&format!("{table} ")))
                .map(str::to_owned)
        };
        find(&before) != find(&after)
    };
    assert!(
        changed("parent") && changed("child") && !changed("viewed"),
        "{before} / {after}"
    );
    for table in ["parent", "child", "viewed"] {
        assert_eq!(
            dst.sql(&format!("SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM public.{table} t")),
            src.sql(&format!("SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM public.{table} t")),
            "{table}"
        );
    }
    // The sequences, the trigger and the foreign keys work on the new tables.
    assert_eq!(
        dst.sql("INSERT INTO public.parent (name) VALUES ('new') RETURNING id"),
        src.sql("INSERT INTO public.parent (name) VALUES ('new') RETURNING id")
    );
    assert_eq!(
        dst.sql("SELECT tgenabled FROM pg_trigger WHERE tgname = 'child_touch'"),
        "R"
    );
    assert!(dst
        .try_sql("INSERT INTO public.child (parent_id) VALUES (999999)")
        .is_err());
    assert!(dst
        .try_sql("INSERT INTO public.outside VALUES (1, 999999)")
        .is_err());
}

#[test]
fn a_kill_during_the_builds_or_the_swap_changes_nothing_and_clean_up_removes_the_shadows() {
    let (src, dst) = pair("swapkill");
    let dir = scratch();
    let artifact = dump_with(
        &src,
        dir.path(),
        "swapkill",
        &["--table", "parent", "--table", "child"],
    );
    // A check on the target that waits for an advisory lock: its shadow
    // copies it, so the shadow's load waits while the lock is held.
    dst.sql(
        "CREATE FUNCTION public.gate(numeric) RETURNS boolean LANGUAGE sql
             AS $$ SELECT true FROM (SELECT pg_advisory_xact_lock_shared(4242)) x $$;
         ALTER TABLE public.child ADD CONSTRAINT gate CHECK (public.gate(v));",
    );
    let before = dst.snapshot();

    // During the builds: held in the shadow's COPY.
    let holder = Holder::hold(&dst, "SELECT pg_advisory_lock(4242)");
    let mut child = restore_until_waiting(&dst, &artifact, &["--jobs", "2"], "COPY");
    child.kill().unwrap();
    child.wait().unwrap();
    holder.release();
    crate::support::blocking::wait_until_no_seedpack_session(&dst);
    assert_eq!(dst.snapshot(), before);
    assert_ne!(dst.shadow_schemas(), "", "the killed run's shadows stay");
    let url = dst.url();
    let run = seedpack(&["clean-up", "--dsn", &url])
        .secret(&dst.cluster.owner_password)
        .run()
        .ok();
    assert!(
        run.stdout
            .contains("removed shadow schema seedpack_shadow_"),
        "{}",
        run.stdout
    );
    assert_eq!(dst.shadow_schemas(), "");
    assert_eq!(dst.snapshot(), before);

    // In the swapping transaction: held as it releases the old table's
    // sequence, after every shadow is built.
    let holder = Holder::sequence(&dst, "public.parent_id_seq");
    let before = dst.snapshot(); // with the holder's nextval
    let mut child = restore_until_blocked(&dst, &artifact, &["--jobs", "2"]);
    child.kill().unwrap();
    child.wait().unwrap();
    holder.release();
    crate::support::blocking::wait_until_no_seedpack_session(&dst);
    assert_eq!(dst.snapshot(), before);

    // The next restore removes the shadows and restores.
    restore_with(&dst, &artifact, &["-q", "--jobs", "2"]).ok();
    assert_eq!(dst.shadow_schemas(), "");
    assert_eq!(
        dst.sql("SELECT count(*) FROM public.child"),
        src.sql("SELECT count(*) FROM public.child")
    );
}

#[test]
fn a_reader_sees_the_old_tables_or_the_new_never_a_mix() {
    let (src, dst) = pair("swapread");
    let dir = scratch();
    let artifact = dump_with(
        &src,
        dir.path(),
        "swapread",
        &["--table", "parent", "--table", "child"],
    );
    let sum =
        "SELECT (SELECT count(*) FROM public.parent) || '/' || (SELECT count(*) FROM public.child)";
    let (old, new) = (dst.sql(sum), src.sql(sum));
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (done, url, psql) = (Arc::clone(&done), dst.url(), dst.cluster.psql.clone());
        let password = dst.cluster.owner_password.clone();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let out = Command::new(&psql)
                    .args(["-X", "-At", "-d", &url, "-c", sum])
                    .env("PGPASSWORD", &password)
                    .output()
                    .unwrap();
                seen.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
            }
            seen
        })
    };
    restore_with(&dst, &artifact, &["-q", "--jobs", "2"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(200));
    done.store(true, Ordering::SeqCst);
    let seen = reader.join().unwrap();
    assert!(seen.len() > 2, "the reader ran: {seen:?}");
    for value in &seen {
        assert!(
            value == &old || value == &new,
            "saw {value}, not {old} or {new}"
        );
    }
    assert_eq!(seen.last(), Some(&new));
}
