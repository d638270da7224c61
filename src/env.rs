//! Every environment variable seedpack reads, named once, with what it
//! means. Nothing else in the crate spells a variable's name; the test
//! harness clears [`SETTINGS`] from the environment of every run it makes.

/// The connection string, when `--dsn` is not given.
pub const SEEDPACK_DSN: &str = "SEEDPACK_DSN";
/// The connection string, when neither `--dsn` nor `SEEDPACK_DSN` is given
/// (Heroku, Render, Fly and most frameworks set it).
pub const DATABASE_URL: &str = "DATABASE_URL";
/// libpq's variables: each fills what the connection string leaves out.
pub const PGHOST: &str = "PGHOST";
pub const PGPORT: &str = "PGPORT";
pub const PGUSER: &str = "PGUSER";
pub const PGPASSWORD: &str = "PGPASSWORD";
pub const PGDATABASE: &str = "PGDATABASE";
pub const PGSSLMODE: &str = "PGSSLMODE";
pub const PGSSLROOTCERT: &str = "PGSSLROOTCERT";
pub const PGSSLCERT: &str = "PGSSLCERT";
pub const PGSSLKEY: &str = "PGSSLKEY";
/// Seconds one connection attempt may take (libpq's `connect_timeout`);
/// how long to keep retrying is `--connect-timeout`.
pub const PGCONNECT_TIMEOUT: &str = "PGCONNECT_TIMEOUT";
/// Seconds since the epoch to record as a dump's creation time, so that
/// dumps of unchanged data are byte-identical (reproducible-builds.org).
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
/// Where `seedpack sandbox` finds `initdb`, `pg_ctl` and `postgres`.
pub const SEEDPACK_PG_BINDIR: &str = "SEEDPACK_PG_BINDIR";

/// The operating system's variables seedpack reads for defaults, as libpq
/// does: the login name is the default user, `HOME` holds
/// `.postgresql/root.crt`, `PATH` leads to the server binaries, and the
/// history records `USER@HOSTNAME`.
pub const USER: &str = "USER";
pub const LOGNAME: &str = "LOGNAME";
pub const HOME: &str = "HOME";
pub const HOSTNAME: &str = "HOSTNAME";
pub const PATH: &str = "PATH";

/// The variables that change what seedpack does (the operating system's
/// defaults aside): a test clears exactly these so that the caller's
/// environment cannot leak into what it checks.
pub const SETTINGS: [&str; 14] = [
    SEEDPACK_DSN,
    DATABASE_URL,
    PGHOST,
    PGPORT,
    PGUSER,
    PGPASSWORD,
    PGDATABASE,
    PGSSLMODE,
    PGSSLROOTCERT,
    PGSSLCERT,
    PGSSLKEY,
    PGCONNECT_TIMEOUT,
    SOURCE_DATE_EPOCH,
    SEEDPACK_PG_BINDIR,
];

/// A variable's value, when it is set and valid Unicode.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A variable's value as the OS holds it (paths need not be Unicode).
pub fn var_os(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name)
}
