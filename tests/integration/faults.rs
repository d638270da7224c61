//! Faults during a dump or restore: a server still starting, interrupts,
//! kills, a server stopped mid-dump, a full disk, a lock held too long, a
//! table the role may not read. Each ends with one clear line, the right
//! exit code, and nothing left half-done.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::blocking::Holder;
use crate::support::{cluster, fixture, restore_with, scratch, seedpack, Cluster, TestDb};

/// A source with enough rows that a dump takes a moment.
fn big_source(cluster: &'static Cluster, label: &str) -> TestDb {
    TestDb::on(cluster, label).with_sql(
        "CREATE TABLE public.big (id int PRIMARY KEY, payload text);
         INSERT INTO public.big SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, 400000) i;",
    )
}

/// Files in `dir`, temporary ones included.
fn files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Start a dump into `dir/out.seedpack` and wait until its temporary file exists.
fn dump_until_writing(db: &TestDb, dir: &Path) -> std::process::Child {
    let out = dir.join("out.seedpack");
    let child = seedpack(&[
        "dump",
        "-q",
        "--dsn",
        &db.url(),
        "-o",
        out.to_str().unwrap(),
    ])
    .secret(&db.cluster.owner_password)
    .spawn();
    let start = Instant::now();
    while !files(dir).iter().any(|f| f.starts_with(".seedpack-")) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the dump never started writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn a_server_that_is_still_starting_is_retried_until_connect_timeout() {
    let own: &'static Cluster = Box::leak(Box::new(Cluster::start()));
    let db = TestDb::on(own, "starting").with_sql("CREATE TABLE public.t (id int PRIMARY KEY)");
    own.stop_immediately();

    // Bounded: with the server down, it gives up after --connect-timeout.
    let started = Instant::now();
    let run = seedpack(&["plan", "--connect-timeout", "2s", "--dsn", &db.url()])
        .secret(&own.owner_password)
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "no notice in logs: {}",
        run.stderr
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // The server comes up while seedpack is retrying: it connects.
    let child = seedpack(&["plan", "--connect-timeout", "60s", "--dsn", &db.url()])
        .secret(&own.owner_password)
        .spawn();
    std::thread::sleep(Duration::from_secs(2));
    own.restart();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // On a terminal the wait is said once, however many attempts it took.
    own.stop_immediately();
    let command = format!(
        "{} plan --connect-timeout 2s --dsn '{}'",
        env!("CARGO_BIN_EXE_seedpack"),
        db.url()
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script(1) is needed for the terminal tests");
    own.restart();
    let text = String::from_utf8_lossy(&out.stdout);
    let notice = format!(
        "seedpack: 127.0.0.1:{} is not accepting connections yet; retrying for up to 2s",
        own.port
    );
    assert_eq!(text.matches(&notice).count(), 1, "{text}");
    assert!(!text.contains(&own.owner_password), "{text}");
}

#[test]
fn ctrl_c_or_sigterm_during_a_dump_leaves_no_file_and_exits_130() {
    let db = big_source(cluster::shared(), "dump_sigint");
    for signal in ["INT", "TERM"] {
        let dir = scratch();
        let child = dump_until_writing(&db, dir.path());
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "interrupted (SIG{signal}): no artifact was written"
            )),
            "{stderr}"
        );
        assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
    }
}

#[test]
fn killing_a_dump_leaves_nothing_under_the_final_name() {
    let db = big_source(cluster::shared(), "dump_kill");
    let dir = scratch();
    let mut child = dump_until_writing(&db, dir.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.path().join("out.seedpack").exists());
    assert!(!dir.path().join("out.seedpack.sha256").exists());
}

#[test]
fn stopping_the_server_mid_dump_fails_cleanly_and_leaves_no_file() {
    let own: &'static Cluster = Box::leak(Box::new(Cluster::start()));
    let db = big_source(own, "dump_crash");
    let dir = scratch();
    let child = dump_until_writing(&db, dir.path());
    own.stop_immediately();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
    own.restart();
}

#[test]
fn a_full_disk_while_dumping_is_a_clear_error_with_no_file() {
    let db = big_source(cluster::shared(), "dump_full");
    let dir = scratch();
    let out = dir.path().join("out.seedpack");
    // A file size limit stands in for a full disk: writes past it fail.
    let output = Command::new("prlimit")
        .args(["--fsize=1000000", "--"])
        .arg(env!("CARGO_BIN_EXE_seedpack"))
        .args([
            "dump",
            "-q",
            "--dsn",
            &db.url(),
            "-o",
            out.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux prlimit(1)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(!stderr.contains(&db.cluster.owner_password));
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

#[test]
fn an_artifact_and_its_sidecar_appear_together_or_not_at_all() {
    let db = TestDb::new("sidecar_fail")
        .with_sql("CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1);");
    let dir = scratch();
    let out = dir.path().join("out.seedpack");
    // Something in the sidecar's way: the artifact must not stay alone.
    std::fs::create_dir(dir.path().join("out.seedpack.sha256")).unwrap();
    // Left by a dump that was killed (a pid no process has), and one by a
    // process still running (pid 1): only the first is removed.
    std::fs::write(dir.path().join(".seedpack-4194301-abc.partial"), "stale").unwrap();
    std::fs::write(dir.path().join(".seedpack-1-abc.partial"), "live").unwrap();
    let run = seedpack(&[
        "dump",
        "-q",
        "--dsn",
        &db.url(),
        "-o",
        out.to_str().unwrap(),
    ])
    .secret(&db.cluster.owner_password)
    .run()
    .expect_code(1);
    assert!(
        run.stderr
            .contains(&format!("cannot write {}.sha256", out.display())),
        "{}",
        run.stderr
    );
    let mut left = files(dir.path());
    left.sort();
    assert_eq!(
        left,
        [".seedpack-1-abc.partial", "out.seedpack.sha256"],
        "{}",
        run.stderr
    );
}

#[test]
fn a_lock_held_past_lock_timeout_fails_the_restore_changing_nothing() {
    let src = TestDb::new("lock_src")
        .with_sql(&fixture("core_schema.sql"))
        .with_sql(&fixture("core_data.sql"));
    let dst = TestDb::new("lock_dst").with_sql(&fixture("core_schema.sql"));
    let dir = scratch();
    let artifact = crate::support::dump(&src, dir.path(), "lock");
    let holder = Holder::hold(&dst, "LOCK TABLE public.book IN ACCESS SHARE MODE");
    let before = dst.snapshot();
    let started = Instant::now();
    let run = restore_with(&dst, &artifact, &["--lock-timeout", "1s"]).expect_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        run.stderr
            .contains("another session held a lock on one of them for all of --lock-timeout (1s)"),
        "{}",
        run.stderr
    );
    holder.release();
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn a_restore_waiting_for_a_lock_never_delays_readers_of_other_tables() {
    let schema = "CREATE TABLE public.a (id int PRIMARY KEY, v text);
                  CREATE TABLE public.b (id int PRIMARY KEY, v text);
                  INSERT INTO public.a SELECT i, 'a' FROM generate_series(1, 1000) i;
                  INSERT INTO public.b SELECT i, 'b' FROM generate_series(1, 1000) i;";
    let src = TestDb::new("lockwait_src").with_sql(schema);
    let dst = TestDb::new("lockwait_dst").with_sql(schema);
    let dir = scratch();
    let artifact = crate::support::dump(&src, dir.path(), "lockwait");
    // The application holds b (a long report, say) while it reads a.
    let holder = Holder::hold(&dst, "SELECT count(*) FROM public.b");
    let child = seedpack(&[
        "restore",
        "--yes",
        "--quiet",
        "--lock-timeout",
        "20s",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &dst.url(),
    ])
    .secret(&dst.cluster.owner_password)
    .spawn();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = crate::support::readers::read_while(
        dst.url(),
        "SELECT v FROM public.a WHERE id = 7",
        "a",
        stop.clone(),
    );
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (reads, longest, _) = reader.join().unwrap();
    println!(
        "a restore waiting 2 s for a lock: {reads} reads of another table, the longest {longest:?}"
    );
    holder.release();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(reads > 10, "{reads} reads");
    assert!(
        longest < Duration::from_millis(500),
        "a reader waited {longest:?} behind the restore"
    );
    assert_eq!(dst.snapshot(), src.snapshot());
}

#[test]
fn a_table_the_role_may_not_read_fails_the_dump_naming_it() {
    let db = TestDb::new("denied").with_sql("CREATE TABLE public.mine (id int PRIMARY KEY)");
    db.admin_sql(
        "CREATE TABLE public.not_mine (id int); REVOKE ALL ON public.not_mine FROM PUBLIC;",
    );
    let dir = scratch();
    let out = dir.path().join("denied.seedpack");
    let run = seedpack(&["dump", "--dsn", &db.url(), "-o", out.to_str().unwrap()])
        .run()
        .expect_code(1);
    assert!(
        run.stderr.contains("permission denied for table not_mine"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(files(dir.path()).is_empty());
    // Leaving it out is the way through.
    seedpack(&[
        "dump",
        "-q",
        "--dsn",
        &db.url(),
        "-o",
        out.to_str().unwrap(),
        "--exclude-table",
        "not_mine",
    ])
    .run()
    .ok();
}
