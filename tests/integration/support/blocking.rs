//! Holding a restore at a known point, inside its transaction, after every
//! table is loaded: for tests that kill or interrupt it there.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{seedpack, TestDb};

/// A psql session holding a transaction open after running some SQL, and
/// with it whatever locks that SQL took.
pub struct Holder(Child);

impl Holder {
    /// Hold a transaction that used `sequence`: a restore's `ALTER SEQUENCE`
    /// on it (after every table is loaded) waits for it.
    pub fn sequence(db: &TestDb, sequence: &str) -> Holder {
        Self::hold(db, &format!("SELECT nextval('{sequence}')"))
    }

    /// Run `sql` in a transaction and keep it open.
    pub fn hold(db: &TestDb, sql: &str) -> Holder {
        let mut child = Command::new(&db.cluster.psql)
            .args(["-X", "-q", "-d", &db.url()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql");
        let script = format!("BEGIN;\n{sql};\n");
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        wait_for(
            db,
            "the lock holder",
            "SELECT count(*) FROM pg_stat_activity
             WHERE state = 'idle in transaction' AND datname = current_database()",
        );
        Holder(child)
    }

    pub fn release(mut self) {
        if let Some(mut stdin) = self.0.stdin.take() {
            let _ = stdin.write_all(b"ROLLBACK;\n");
        }
        let _ = self.0.wait();
    }
}

/// Poll until `query` returns a non-zero count, or fail after 60 s.
pub fn wait_for(db: &TestDb, what: &str, query: &str) {
    let start = Instant::now();
    loop {
        if db.try_sql(query).map(|n| n != "0").unwrap_or(false) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Start `seedpack restore --yes -q --file artifact --dsn db` with `extra`
/// arguments and wait until it is blocked, inside its transaction, on the
/// held sequence.
pub fn restore_until_blocked(db: &TestDb, artifact: &Path, extra: &[&str]) -> Child {
    restore_until_waiting(db, artifact, extra, "ALTER SEQUENCE")
}

/// As `restore_until_blocked`, waiting until a statement starting with
/// `statement` waits for a lock.
pub fn restore_until_waiting(
    db: &TestDb,
    artifact: &Path,
    extra: &[&str],
    statement: &str,
) -> Child {
    let url = db.url();
    let mut args = vec![
        "restore",
        "--yes",
        "-q",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &url,
    ];
    args.extend(extra);
    let child = seedpack(&args).secret(&db.cluster.owner_password).spawn();
    wait_for(
        db,
        &format!("the restore to block in {statement}"),
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'seedpack'
               AND wait_event_type = 'Lock' AND ltrim(query) LIKE '{statement}%'"
        ),
    );
    child
}

pub fn wait_until_no_seedpack_session(db: &TestDb) {
    let start = Instant::now();
    while db.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'seedpack'") != "0"
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "seedpack's session did not end"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
