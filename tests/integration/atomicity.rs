//! One transaction: killing the client or the server, an interrupt, or data
//! that does not match its checksum leaves the target exactly as it was.

use std::process::Command;

use seedpack::artifact::Manifest;

use crate::support::blocking::{restore_until_blocked, wait_until_no_seedpack_session, Holder};
use crate::support::forge::forge;
use crate::support::{cluster, dump, scratch, Cluster, TestDb};

const SCHEMA: &str = "
CREATE TABLE public.big (id serial PRIMARY KEY, payload text NOT NULL);
CREATE TABLE public.small (id int PRIMARY KEY, big_id int REFERENCES public.big);";

fn source(cluster: &'static Cluster, label: &str) -> TestDb {
    TestDb::on(cluster, &format!("{label}_src")).with_sql(SCHEMA).with_sql(
        "INSERT INTO public.big (payload) SELECT repeat(md5(i::text), 2) FROM generate_series(1, 50000) i;
         INSERT INTO public.small SELECT i, i FROM generate_series(1, 1000) i;",
    )
}

fn target(cluster: &'static Cluster, label: &str) -> TestDb {
    TestDb::on(cluster, &format!("{label}_dst"))
        .with_sql(SCHEMA)
        .with_sql(
            "INSERT INTO public.big (payload) VALUES ('old one'), ('old two');
         INSERT INTO public.small VALUES (1, 2);",
        )
}

#[test]
fn killing_the_client_mid_restore_leaves_the_target_as_it_was() {
    let shared = cluster::shared();
    let (src, dst) = (source(shared, "kill9"), target(shared, "kill9"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "a");
    let holder = Holder::sequence(&dst, "public.big_id_seq");
    let before = dst.snapshot();
    let mut child = restore_until_blocked(&dst, &artifact, &[]);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The orphaned backend notices its client is gone once its lock wait
    // ends; with no COMMIT ever sent, it can only roll back.
    holder.release();
    wait_until_no_seedpack_session(&dst);
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn ctrl_c_or_sigterm_mid_restore_rolls_back_and_exits_130() {
    let shared = cluster::shared();
    let (src, dst) = (source(shared, "sigint"), target(shared, "sigint"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "a");
    for signal in ["INT", "TERM"] {
        // The holder's nextval moves the sequence outside any transaction.
        let holder = Holder::sequence(&dst, "public.big_id_seq");
        let before = dst.snapshot();
        let child = restore_until_blocked(&dst, &artifact, &[]);
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("interrupted (SIG{signal}): the restore transaction was rolled back; nothing was changed")),
            "{stderr}"
        );
        holder.release();
        wait_until_no_seedpack_session(&dst);
        assert_eq!(dst.snapshot(), before);
    }
}

#[test]
fn stopping_the_server_mid_restore_leaves_the_target_as_it_was() {
    // A cluster of its own: the other tests keep theirs running.
    let own: &'static Cluster = Box::leak(Box::new(Cluster::start()));
    let (src, dst) = (source(own, "crash"), target(own, "crash"));
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "a");
    let holder = Holder::sequence(&dst, "public.big_id_seq");
    let before = dst.snapshot();
    let child = restore_until_blocked(&dst, &artifact, &[]);
    own.stop_immediately();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "lost the connection to 127.0.0.1:{} during the restore",
            own.port
        )) && stderr.contains("so the target keeps its old data"),
        "{stderr}"
    );
    holder.release();
    own.restart();
    // Crash recovery moves sequences ahead of their logged values, as
    // PostgreSQL always does; everything else must be exactly as before.
    let without_sequences = |s: String| s.split("== sequences").next().unwrap().to_owned();
    assert_eq!(without_sequences(dst.snapshot()), without_sequences(before));
}

#[test]
fn data_that_does_not_match_its_manifest_rolls_back() {
    let shared = cluster::shared();
    let (src, dst) = (source(shared, "mismatch"), target(shared, "mismatch"));
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "a");
    let big =
        |m: &mut Manifest| -> usize { m.tables.iter().position(|t| t.name.name == "big").unwrap() };

    let bad_sum = dir.path().join("bad-sum.seedpack");
    forge(&artifact, &bad_sum, |m, _| {
        let i = big(m);
        m.tables[i].data_sha256 = "0".repeat(64);
    });
    let run = crate::support::restore(&dst, &bad_sum).expect_code(2);
    assert!(
        run.stderr
            .contains("checksum mismatch in data of table \"public\".\"big\""),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);

    let bad_rows = dir.path().join("bad-rows.seedpack");
    forge(&artifact, &bad_rows, |m, _| {
        let i = big(m);
        m.tables[i].rows += 1;
    });
    let run = crate::support::restore(&dst, &bad_rows).expect_code(2);
    assert!(
        run.stderr
            .contains("row count mismatch in table \"public\".\"big\""),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn a_foreign_key_the_data_breaks_is_named_with_the_failing_row() {
    let schema = "CREATE TABLE public.teams (id int PRIMARY KEY);
                  CREATE TABLE public.members (id int PRIMARY KEY, team_id int REFERENCES public.teams);";
    let src = TestDb::new("fk_src").with_sql(schema).with_sql(
        "INSERT INTO public.teams VALUES (10); INSERT INTO public.members VALUES (1, 10);",
    );
    let dir = scratch();
    let artifact = crate::support::dump_with(&src, dir.path(), "members", &["--table", "members"]);
    // The target's teams table, outside the artifact, lacks team 10.
    let dst = TestDb::new("fk_dst")
        .with_sql(schema)
        .with_sql("INSERT INTO public.teams VALUES (20)");
    let before = dst.snapshot();
    let run = crate::support::restore_with(&dst, &artifact, &["--quiet"]).expect_code(1);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "foreign key members_team_id_fkey on \"public\".\"members\" does not hold for the restored \
             data: Key (team_id)=(10) is not present in table \"teams\""
        ),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);
}
