//! Finding PostgreSQL's server binaries on this machine, and running them
//! as an unprivileged user when seedpack runs as root (the server refuses
//! root). Shared with the test harness.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env;

/// What to install when no server binaries are found.
pub const INSTALL_HINT: &str =
    "install PostgreSQL's server binaries (Debian/Ubuntu: apt-get install postgresql; \
     macOS: brew install postgresql) or set SEEDPACK_PG_BINDIR to the directory holding initdb";

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `explicit` when
/// given, else the one `initdb` on `PATH` lives in (symlinks followed), else
/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = explicit {
        return if dir.join("initdb").is_file() {
            Ok(dir.to_path_buf())
        } else {
            Err(format!("no initdb in {}; {INSTALL_HINT}", dir.display()))
        };
    }
    let on_path = env::var_os(env::PATH)
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .filter_map(|dir| dir.join("initdb").canonicalize().ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .find(|dir| is_server_dir(dir));
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if is_server_dir(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            is_server_dir(&bin).then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| format!("no PostgreSQL server binaries found; {INSTALL_HINT}"))
}

fn is_server_dir(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|program| dir.join(program).is_file())
}

/// Whether this process runs as root (its effective user).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `program` from `bindir`, run as the `postgres` user when we are root.
pub fn server_command(bindir: &Path, program: &str) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(bindir.join(program));
        cmd
    } else {
        Command::new(bindir.join(program))
    }
}

/// How a user stops the cluster in `data` by hand.
pub fn stop_command(bindir: &Path, data: &Path) -> String {
    let prefix = if is_root() {
        "runuser -u postgres -- "
    } else {
        ""
    };
    format!(
        "{prefix}{} -D {} -m fast stop",
        bindir.join("pg_ctl").display(),
        data.display()
    )
}
