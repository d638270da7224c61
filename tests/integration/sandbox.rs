//! `seedpack sandbox`: a throwaway local PostgreSQL, the artifact restored
//! with its schema and checked, then gone (or kept with `--keep`).

use crate::roundtrip::fixture_pair;
use crate::support::{cluster, dump, scratch, seedpack};

fn bindir() -> String {
    cluster::find_bindir().to_string_lossy().into_owned()
}

fn sandbox_json(args: &[&str]) -> serde_json::Value {
    let run = seedpack(args)
        .env("SEEDPACK_PG_BINDIR", &bindir())
        .run()
        .ok();
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn all_equal(outcome: &serde_json::Value) -> bool {
    let tables = outcome["check"]["tables"].as_array().expect("check tables");
    !tables.is_empty() && tables.iter().all(|t| t["state"] == "equal")
}

#[test]
fn sandbox_restores_checks_and_removes_itself() {
    let (src, _) = fixture_pair("sandbox");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "sandbox");
    let file = artifact.to_str().unwrap();
    let outcome = sandbox_json(&["sandbox", "--file", file, "--json"]);
    assert!(all_equal(&outcome), "{outcome:#}");
    assert!(outcome["kept"].is_null());
    let dsn = outcome["dsn"].as_str().unwrap();
    assert!(dsn.starts_with("postgresql://sandbox@127.0.0.1:"), "{dsn}");
    assert!(
        cluster::psql(&src.cluster.psql, dsn, "SELECT 1").is_err(),
        "the sandbox server is gone"
    );
}

#[test]
fn sandbox_keep_leaves_a_server_that_holds_the_artifact() {
    let (src, _) = fixture_pair("sandbox_keep");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "keep");
    let file = artifact.to_str().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let outcome = sandbox_json(&[
        "sandbox", "--file", file, "--keep", "--port", &port, "--json",
    ]);
    let dsn = outcome["dsn"].as_str().unwrap().to_owned();
    assert!(dsn.contains(&format!(":{port}/")), "{dsn}");
    let directory = outcome["kept"]["directory"].as_str().unwrap().to_owned();
    let stop = outcome["kept"]["stop_command"].as_str().unwrap().to_owned();

    // Still running: a separate check against it passes, and the owner is no superuser.
    seedpack(&["check", "--file", file, "--dsn", &dsn])
        .run()
        .ok();
    let owner = cluster::psql(
        &src.cluster.psql,
        &dsn,
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
    );
    assert_eq!(owner.as_deref(), Ok("f"));

    let status = std::process::Command::new("sh")
        .args(["-c", &stop])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{stop}");
    assert!(!std::path::Path::new(&directory).exists());
    assert!(cluster::psql(&src.cluster.psql, &dsn, "SELECT 1").is_err());
}

#[test]
fn sandbox_without_server_binaries_says_how_to_get_them() {
    let (src, _) = fixture_pair("sandbox_nobin");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "nobin");
    let empty = tempfile::tempdir().unwrap();
    let run = seedpack(&["sandbox", "--file", artifact.to_str().unwrap()])
        .env("SEEDPACK_PG_BINDIR", empty.path().to_str().unwrap())
        .run()
        .expect_code(1);
    assert!(
        run.stderr.contains("apt-get install postgresql"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn sandbox_refuses_a_damaged_artifact_before_starting_a_server() {
    let dir = scratch();
    let path = dir.path().join("junk.seedpack");
    std::fs::write(&path, b"not a tar file at all").unwrap();
    let run = seedpack(&["sandbox", "--file", path.to_str().unwrap()])
        .env("SEEDPACK_PG_BINDIR", "/nonexistent")
        .run()
        .expect_code(2);
    assert!(
        run.stderr.contains("not a seedpack artifact"),
        "{}",
        run.stderr
    );
}

#[test]
fn sigterm_stops_the_sandbox_server_and_removes_it() {
    let src = crate::support::TestDb::new("sandbox_term").with_sql(
        "CREATE TABLE public.big (id int PRIMARY KEY, payload text);
         INSERT INTO public.big SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, 400000) i;",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "term");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
        .to_string();
    let child = seedpack(&[
        "sandbox",
        "--file",
        artifact.to_str().unwrap(),
        "--port",
        &port,
    ])
    .env("SEEDPACK_PG_BINDIR", &bindir())
    .spawn();
    let admin = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let started = std::time::Instant::now();
    // Wait until the restore is loading into the sandbox, then stop it as
    // `docker stop` would.
    while cluster::psql(
        &src.cluster.psql,
        &admin,
        "SELECT 1/count(*) FROM pg_stat_activity WHERE application_name = 'seedpack' AND query LIKE 'COPY%'",
    )
    .is_err()
    {
        assert!(started.elapsed().as_secs() < 60, "the sandbox never started loading");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted (SIGTERM)"), "{stderr}");
    assert!(
        cluster::psql(&src.cluster.psql, &admin, "SELECT 1").is_err(),
        "the sandbox server is still running after SIGTERM"
    );
}
