//! Turning `--dsn` / `SEEDPACK_DSN` / `DATABASE_URL` and the libpq `PG*`
//! variables into one connection target, the way libpq reads them: what the
//! connection string says wins, the environment fills what it leaves out.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use super::tls::{SslMode, TlsSettings};
use super::tls_options::take_tls_options;
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
        let dsn = dsn
            .map(str::to_owned)
            .or_else(|| lookup(env::SEEDPACK_DSN))
            .or_else(|| lookup(env::DATABASE_URL))
            .unwrap_or_default();
        let (rest, tls_options) = take_tls_options(&dsn)?;
        let mut config = if rest.trim().is_empty() {
            tokio_postgres::Config::new()
        } else {
            tokio_postgres::Config::from_str(&rest).map_err(|e| Error::BadDsn(e.to_string()))?
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
            .ok_or_else(|| Error::BadDsn("no user given (set one in the DSN or PGUSER)".into()))?;
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
}
