//! DSN forms, libpq variables, and one clear line for each connection failure.

use crate::support::{cluster, seedpack, TestDb};

fn small_db(label: &str) -> TestDb {
    TestDb::new(label)
        .with_sql("CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1);")
}

#[test]
fn the_dsn_comes_from_flag_seedpack_dsn_database_url_or_pg_variables() {
    let db = small_db("dsnforms");
    let c = cluster::shared();
    let planned = |run: crate::support::Run| {
        assert!(run.stdout.contains("\"public\".\"t\""), "{}", run.stdout)
    };

    planned(seedpack(&["plan", "--dsn", &db.url()]).run().ok());
    let key_value = format!(
        "host={} port={} user={} password={} dbname={}",
        c.host,
        c.port,
        cluster::OWNER,
        c.owner_password,
        db.name
    );
    planned(seedpack(&["plan", "--dsn", &key_value]).run().ok());
    planned(
        seedpack(&["plan"])
            .env("DATABASE_URL", &db.url())
            .run()
            .ok(),
    );
    planned(
        seedpack(&["plan"])
            .env("SEEDPACK_DSN", &db.url())
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
            .run()
            .ok(),
    );
    planned(
        seedpack(&["plan"])
            .env("PGHOST", &c.host)
            .env("PGPORT", &c.port.to_string())
            .env("PGUSER", cluster::OWNER)
            .env("PGPASSWORD", &c.owner_password)
            .env("PGDATABASE", &db.name)
            .run()
            .ok(),
    );
    // The DSN names the database; the environment supplies the rest.
    planned(
        seedpack(&["plan", "--dsn", &format!("dbname={}", db.name)])
            .env("PGHOST", &c.host)
            .env("PGPORT", &c.port.to_string())
            .env("PGUSER", cluster::OWNER)
            .env("PGPASSWORD", &c.owner_password)
            .run()
            .ok(),
    );
}

#[test]
fn a_malformed_dsn_names_the_problem_and_never_the_password() {
    let secret = "pw-in-bad-dsn";
    let cases = [
        (
            "postgres://u:pw-in-bad-dsn@host:notaport/db",
            "bad port \"notaport\"",
        ),
        (
            "postgress://app:pw-in-bad-dsn@host/db",
            "unknown scheme \"postgress\"",
        ),
        (
            "postgres://app:pw-in@bad-dsn@host/db",
            "unencoded '@': write it as %40",
        ),
        (
            "host=h prot=1 password=pw-in-bad-dsn",
            "unknown option \"prot\"",
        ),
        (
            "host=h port=39574x password=pw-in-bad-dsn",
            "bad port \"39574x\"",
        ),
        ("host=h password=pw-in bad-dsn", "needs quotes"),
    ];
    for (dsn, expected) in cases {
        let run = seedpack(&["plan", "--dsn", dsn])
            .secret(secret)
            .secret("bad-dsn")
            .run()
            .expect_code(2);
        assert!(
            run.stderr
                .starts_with("seedpack: error: invalid connection string: ")
                && run.stderr.contains(expected),
            "{dsn}: {}",
            run.stderr
        );
    }
}

#[test]
fn no_database_given_is_said_so() {
    let run = seedpack(&["plan"]).run().expect_code(2);
    assert!(
        run.stderr
            .contains("no database given: pass --dsn, or set SEEDPACK_DSN, DATABASE_URL"),
        "{}",
        run.stderr
    );
}

#[test]
fn connection_failures_are_one_line_without_the_password() {
    let c = cluster::shared();
    let db = small_db("connfail");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases = [
        (
            format!(
                "postgres://{}:pw-refused@127.0.0.1:{closed_port}/x",
                cluster::OWNER
            ),
            "refused",
            "pw-refused",
        ),
        (
            format!(
                "postgres://{}:wrong-password-123@{}:{}/{}",
                cluster::OWNER,
                c.host,
                c.port,
                db.name
            ),
            "password authentication failed",
            "wrong-password-123",
        ),
        (
            c.owner_url("no_such_database"),
            "does not exist",
            "unused-secret",
        ),
        (
            format!("postgres://{}@no-such-host.invalid:5432/x", cluster::OWNER),
            "no-such-host.invalid",
            "unused-secret",
        ),
    ];
    for (url, expected, secret) in cases {
        let run = seedpack(&["plan", "--connect-timeout", "1s", "--dsn", &url])
            .secret(secret)
            .run()
            .expect_code(1);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "expected {expected:?} in {}",
            run.stderr
        );
        assert!(run.stderr.contains("cannot connect to"), "{}", run.stderr);
    }
}

#[test]
fn restore_and_dump_fail_cleanly_when_the_server_is_unreachable() {
    let dir = crate::support::scratch();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://u:pw-unreach@127.0.0.1:{closed_port}/x");
    let out = dir.path().join("never.seedpack");
    seedpack(&[
        "dump",
        "--connect-timeout",
        "1s",
        "--dsn",
        &url,
        "-o",
        out.to_str().unwrap(),
    ])
    .secret("pw-unreach")
    .run()
    .expect_code(1);
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "stray files left behind"
    );
}
