//! Turning `--dsn` / `SEEDPACK_DSN` / `DATABASE_URL` and the libpq `PG*`
//! variables into one connection target, the way libpq reads them: what the
//! connection string says wins, the environment fills what it leaves out.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use super::conninfo::take_tls_options;
use super::tls::{SslMode, TlsSettings};
use crate::env;
use crate::error::Error;

/// How long `--connect-timeout` keeps retrying a server that is not
/// accepting connections yet, unless told otherwise. (Each attempt is
/// bounded on its own by libpq's `connect_timeout`, `PGCONNECT_TIMEOUT`.)
pub const RETRY_FOR_DEFAULT: &str = "15s";

/// Where to connect, resolved once. Its `Display` never shows the password.
#[derive(Clone)]
pub struct ConnectionTarget {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) tls: TlsSettings,
    /// How long to keep retrying a server that is not accepting connections
    /// yet (`--connect-timeout`); one attempt's own limit is libpq's
    /// `connect_timeout`, in `config`.
    pub(crate) retry_for: Duration,
}

impl fmt::Debug for ConnectionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionTarget({self})")
    }
}

/// `host:port database NAME as USER`, for prompts and errors.
impl fmt::Display for ConnectionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} database {} as user {}",
            self.host(),
            self.port(),
            self.database(),
            self.user()
        )
    }
}

/// The environment as the resolver sees it: a lookup function, so tests can
/// pass their own.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl ConnectionTarget {
    /// Resolve a connection string (URL or key=value), or none, with the
    /// libpq variables filling what it leaves out.
    pub fn resolve(dsn: Option<&str>, lookup: Env<'_>) -> Result<Self, Error> {
        let given = dsn
            .map(str::to_owned)
            .or_else(|| lookup(env::SEEDPACK_DSN))
            .or_else(|| lookup(env::DATABASE_URL));
        let from_variables = [env::PGHOST, env::PGPORT, env::PGUSER, env::PGDATABASE]
            .iter()
            .any(|name| lookup(name).is_some_and(|v| !v.is_empty()));
        if given.is_none() && !from_variables {
            return Err(Error::BadDsn(
                "no database given: pass --dsn, or set SEEDPACK_DSN, DATABASE_URL or PGHOST/PGDATABASE"
                    .into(),
            ));
        }
        let dsn = given.unwrap_or_default();
        let (rest, tls_options) = take_tls_options(&dsn)?;
        let mut config = if rest.trim().is_empty() {
            tokio_postgres::Config::new()
        } else {
            tokio_postgres::Config::from_str(&rest).map_err(parse_error)?
        };
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let tls = tls_settings(&tls_options, &var)?;
        config.ssl_mode(tls.postgres_mode());
        fill_from_environment(&mut config, &var, lookup)?;
        Ok(Self {
            config,
            tls,
            retry_for: humantime::parse_duration(RETRY_FOR_DEFAULT)
                .expect("the default retry window parses"),
        })
    }

    /// Keep retrying a server that is not accepting connections yet for this long.
    pub fn retrying_for(mut self, window: Duration) -> Self {
        self.retry_for = window;
        self
    }

    /// `host:port`, for messages.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host(), self.port())
    }

    pub fn host(&self) -> String {
        match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.config.get_ports().first().copied().unwrap_or(5432)
    }

    pub fn database(&self) -> &str {
        self.config.get_dbname().unwrap_or("")
    }

    pub fn user(&self) -> &str {
        self.config.get_user().unwrap_or("")
    }
}

/// tokio-postgres's reason a connection string does not parse. Its own
/// message says only "invalid connection string"; the reason under it names
/// an option, never a value.
fn parse_error(error: tokio_postgres::Error) -> Error {
    let reason = std::error::Error::source(&error)
        .map(|source| source.to_string())
        .unwrap_or_else(|| error.to_string());
    Error::BadDsn(reason)
}

/// The TLS options: the connection string's, else the libpq variables'.
fn tls_settings(
    options: &[(String, String)],
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<TlsSettings, Error> {
    let option = |key: &str, variable: &str| {
        options
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| var(variable))
    };
    Ok(TlsSettings {
        mode: match option("sslmode", env::PGSSLMODE) {
            Some(mode) => SslMode::parse(&mode)?,
            None => SslMode::Prefer,
        },
        root_cert: option("sslrootcert", env::PGSSLROOTCERT).map(Into::into),
        cert: option("sslcert", env::PGSSLCERT).map(Into::into),
        key: option("sslkey", env::PGSSLKEY).map(Into::into),
    })
}

/// Fill what the connection string left out from the libpq variables
/// (`var`: set and not empty) and libpq's defaults. The password is taken
/// even when empty, as libpq takes it.
fn fill_from_environment(
    config: &mut tokio_postgres::Config,
    var: &dyn Fn(&str) -> Option<String>,
    lookup: Env<'_>,
) -> Result<(), Error> {
    if config.get_hosts().is_empty() {
        match var(env::PGHOST) {
            Some(hosts) => {
                for host in hosts.split(',') {
                    config.host(host);
                }
            }
            None => {
                config.host(default_host());
            }
        }
    }
    if config.get_ports().is_empty() {
        let port = match var(env::PGPORT) {
            Some(p) => p
                .parse()
                .map_err(|_| Error::BadDsn(format!("PGPORT {p:?} is not a port number")))?,
            None => 5432,
        };
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = var(env::PGUSER)
            .or_else(|| var(env::USER))
            .or_else(|| var(env::LOGNAME))
            .or_else(os_user)
            .ok_or_else(|| {
                Error::BadDsn("no user given, and no login name to default to: set PGUSER".into())
            })?;
        config.user(user);
    }
    if config.get_dbname().is_none() {
        let db = var(env::PGDATABASE).unwrap_or_else(|| config.get_user().unwrap_or("").to_owned());
        config.dbname(db);
    }
    if config.get_password().is_none() {
        if let Some(password) = lookup(env::PGPASSWORD) {
            config.password(password);
        }
    }
    if config.get_connect_timeout().is_none() {
        let seconds = var(env::PGCONNECT_TIMEOUT)
            .and_then(|s| s.parse().ok())
            .unwrap_or(10);
        config.connect_timeout(Duration::from_secs(seconds));
    }
    if config.get_application_name().is_none() {
        config.application_name("seedpack");
    }
    Ok(())
}

/// The name of the user this process runs as, from the password database,
/// as libpq takes it when no user is given.
fn os_user() -> Option<String> {
    let uid = rustix::process::geteuid().as_raw().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// libpq's default: the Unix socket directory when it exists, else localhost.
fn default_host() -> &'static str {
    if Path::new("/var/run/postgresql").is_dir() {
        "/var/run/postgresql"
    } else {
        "localhost"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn url_wins_over_environment() {
        let env = env_of(&[
            ("PGHOST", "envhost"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "x"),
        ]);
        let t = ConnectionTarget::resolve(Some("postgres://u:secret@db.example:6543/app"), &env)
            .unwrap();
        assert_eq!(t.host(), "db.example");
        assert_eq!(t.port(), 6543);
        assert_eq!(t.database(), "app");
        assert_eq!(t.user(), "u");
        assert_eq!(t.config.get_password(), Some(&b"secret"[..]));
        assert!(!t.to_string().contains("secret"));
        assert!(!format!("{t:?}").contains("secret"));
    }

    #[test]
    fn environment_fills_what_the_dsn_leaves_out() {
        let env = env_of(&[
            ("PGHOST", "envhost"),
            ("PGPORT", "7777"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "pw"),
            ("PGDATABASE", "envdb"),
        ]);
        let t = ConnectionTarget::resolve(Some("dbname=other"), &env).unwrap();
        assert_eq!(
            (t.host().as_str(), t.port(), t.database(), t.user()),
            ("envhost", 7777, "other", "envuser")
        );
        assert_eq!(t.config.get_password(), Some(&b"pw"[..]));
    }

    #[test]
    fn seedpack_dsn_then_database_url() {
        let env = env_of(&[
            ("SEEDPACK_DSN", "host=a user=u dbname=one"),
            ("DATABASE_URL", "postgres://u@b/two"),
        ]);
        assert_eq!(
            ConnectionTarget::resolve(None, &env).unwrap().database(),
            "one"
        );
        let env = env_of(&[("DATABASE_URL", "postgres://u@b/two")]);
        assert_eq!(
            ConnectionTarget::resolve(None, &env).unwrap().database(),
            "two"
        );
    }

    #[test]
    fn tls_options_come_from_the_dsn_then_the_environment() {
        let env = env_of(&[("PGSSLMODE", "require"), ("PGSSLROOTCERT", "/env/root.crt")]);
        let t =
            ConnectionTarget::resolve(Some("postgres://u@h/db?sslmode=verify-full"), &env).unwrap();
        assert_eq!(t.tls.mode, SslMode::VerifyFull);
        assert_eq!(
            t.tls.root_cert.as_deref(),
            Some(std::path::Path::new("/env/root.crt"))
        );
        let t = ConnectionTarget::resolve(Some("host=h user=u sslmode=disable"), &env).unwrap();
        assert_eq!(t.tls.mode, SslMode::Disable);
        assert!(ConnectionTarget::resolve(Some("host=h user=u sslmode=sometimes"), &env).is_err());
    }

    #[test]
    fn bad_strings_are_usage_errors_without_the_password() {
        let env = env_of(&[]);
        let err = ConnectionTarget::resolve(Some("postgres://u:hunter2@h:notaport/db"), &env)
            .unwrap_err();
        assert!(matches!(err, Error::BadDsn(_)));
        assert!(!err.to_string().contains("hunter2"));
    }

    /// Connection strings of many shapes, right and wrong, with passwords
    /// of awkward characters: whatever resolves or fails, no run of four
    /// characters of the password shows in the message or in the target's
    /// Display or Debug. (The password's alphabet shares no four characters
    /// with any message.) Left out: `postgres://app:PASS` with one '@' in
    /// PASS and a host name after it, which is a well-formed URL whose host
    /// is the password's tail; no parser can tell.
    #[test]
    fn no_shape_of_connection_string_shows_its_password() {
        const ALPHABET: &[u8] = b"QXZJVWY0123456789@/:?#=' \"\\%&,";
        const SHAPES: [&str; 16] = [
            "postgres://app:{P}@host/db",
            "postgres://app:{E}@host/db",
            "postgress://app:{P}@host/db",
            "postgresql:/app:{P}@host/db",
            "postgres://app:{P}@host:5432x/db",
            "postgres://app:{P}@h1:5432,h2:x/db?sslmode=require",
            "postgres://app:{P}@/db",
            "postgres://app:{P}@",
            "postgres://app:{E}@host/db?sslmode={P}",
            "host=h password={P} dbname=d",
            "host=h password='{Q}' dbname=d",
            "host=h password='{P}",
            "password={P}",
            "{P}",
            "host=h user=app password={Q} prot=1",
            "host=h sslmode={P} password='{Q}'",
        ];
        let mut seed: u64 = 0x5eed_5eed;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let env = env_of(&[]);
        for case in 0..4000 {
            let length = 8 + next() % 12;
            let password: String = (0..length)
                .map(|_| ALPHABET[next() % ALPHABET.len()] as char)
                .collect();
            let encoded = percent_encoding::utf8_percent_encode(
                &password,
                percent_encoding::NON_ALPHANUMERIC,
            )
            .to_string();
            let quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
            let shape = SHAPES[case % SHAPES.len()];
            let dsn = shape
                .replace("{P}", &password)
                .replace("{E}", &encoded)
                .replace("{Q}", &quoted);
            let shown = match ConnectionTarget::resolve(Some(&dsn), &env) {
                Ok(target) => format!("{target} {target:?}"),
                Err(e) => e.to_string(),
            };
            let chars: Vec<char> = password.chars().collect();
            for run in chars.windows(4) {
                let run: String = run.iter().collect();
                assert!(
                    !shown.contains(&run),
                    "shape {shape:?} with password {password:?} shows {run:?}: {shown}"
                );
            }
        }
    }
}
