//! A throwaway PostgreSQL cluster in a temporary directory: listens on
//! 127.0.0.1 only, durability off (it holds nothing worth an fsync).
//! Stopped and deleted when dropped, unless kept. The sandbox trusts local
//! connections; the test harness starts its clusters here too, with a
//! superuser password, settings and files of its own.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context, Result};

use super::binaries::{is_root, server_command};

/// How to make a cluster; `Default` is the sandbox's.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClusterOptions<'a> {
    /// The port to listen on; a free one when `None`.
    pub port: Option<u16>,
    /// The superuser `postgres` logs in with this password (scram-sha-256);
    /// without one, local connections are trusted.
    pub superuser_password: Option<&'a str>,
    /// Lines appended to postgresql.conf; `{data}` stands for the data directory.
    pub settings: &'a str,
    /// Files (name, contents) written into the data directory before the
    /// server starts, readable by the server only (as a TLS key must be).
    pub files: &'a [(&'a str, &'a str)],
}

#[derive(Debug)]
pub struct LocalCluster {
    dir: PathBuf,
    bindir: PathBuf,
    pub port: u16,
    kept: bool,
}

impl LocalCluster {
    /// initdb and start a cluster from `bindir`, trusting local connections,
    /// on `port` (default: a free one). Blocking.
    pub fn start(bindir: PathBuf, port: Option<u16>) -> Result<Self> {
        Self::start_with(
            bindir,
            &ClusterOptions {
                port,
                ..ClusterOptions::default()
            },
        )
    }

    /// initdb and start a cluster from `bindir` as `options` say. Blocking.
    pub fn start_with(bindir: PathBuf, options: &ClusterOptions<'_>) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("seedpack-cluster-")
            .tempdir()
            .context("cannot create the cluster's directory")?
            .keep();
        let port = match options.port {
            Some(port) => port,
            None => free_port()?,
        };
        // From here on, dropping the cluster stops and deletes what exists.
        let cluster = Self {
            dir,
            bindir,
            port,
            kept: false,
        };
        if is_root() {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(&cluster.dir);
            run(
                &mut chown,
                "chown of the cluster directory to the postgres user",
            )?;
        }
        cluster.initdb(options.superuser_password)?;
        cluster.configure(options)?;
        cluster.start_server()?;
        Ok(cluster)
    }

    fn initdb(&self, superuser_password: Option<&str>) -> Result<()> {
        let mut initdb = server_command(&self.bindir, "initdb");
        initdb.arg("-D").arg(self.data()).args([
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ]);
        match superuser_password {
            Some(password) => {
                let file = self.dir.join("pwfile");
                self.write_private(&file, password)?;
                initdb
                    .args(["-A", "scram-sha-256"])
                    .arg(format!("--pwfile={}", file.display()));
                let result = run(&mut initdb, "initdb");
                let _ = std::fs::remove_file(&file);
                result
            }
            None => run(initdb.args(["-A", "trust"]), "initdb"),
        }
    }

    /// Listen on 127.0.0.1:port with the socket in the cluster's directory,
    /// durability off, then the caller's settings and files. The port is in
    /// the file, not on the command line, so a restart comes back on it.
    fn configure(&self, options: &ClusterOptions<'_>) -> Result<()> {
        let data = self.data();
        let settings = format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n{}\n",
            self.port,
            self.dir.display(),
            options
                .settings
                .replace("{data}", &data.display().to_string())
        );
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .context("cannot configure the cluster")?;
        std::io::Write::write_all(&mut conf, settings.as_bytes())
            .context("cannot configure the cluster")?;
        for (name, contents) in options.files {
            self.write_private(&data.join(name), contents)?;
        }
        Ok(())
    }

    /// Write a file only the server's user may read.
    fn write_private(&self, path: &Path, contents: &str) -> Result<()> {
        std::fs::write(path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
        if is_root() {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(path);
            run(&mut chown, "chown of a file to the postgres user")?;
        }
        Ok(())
    }

    /// Start the (stopped) server and wait until it accepts connections.
    pub fn start_server(&self) -> Result<()> {
        let mut start = server_command(&self.bindir, "pg_ctl");
        start
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.log())
            .args(["-w", "-t", "60", "start"]);
        run(&mut start, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(self.log()).unwrap_or_default();
            let reason = log
                .lines()
                .rev()
                .find(|l| l.contains("FATAL") || l.contains("could not"))
                .unwrap_or_default();
            e.context(format!(
                "the server did not start on port {}: {reason}",
                self.port
            ))
        })
    }

    /// Stop the server at once, as a crash would.
    pub fn stop_immediately(&self) -> Result<()> {
        let mut stop = server_command(&self.bindir, "pg_ctl");
        stop.arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"]);
        run(&mut stop, "pg_ctl stop")
    }

    /// A libpq URL for `user` on `database`.
    pub fn url(&self, user: &str, database: &str) -> String {
        format!("postgresql://{user}@127.0.0.1:{}/{database}", self.port)
    }

    /// Leave the cluster running after this value is gone; returns how to stop it.
    pub fn keep(mut self) -> (PathBuf, String) {
        self.kept = true;
        let stop = format!(
            "{} && rm -rf {}",
            super::binaries::stop_command(&self.bindir, &self.data()),
            self.dir.display()
        );
        (self.dir.clone(), stop)
    }

    /// The directory holding the data directory, the log and the socket.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        if self.data().join("postmaster.pid").exists() {
            let _ = self.stop_immediately();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .context("cannot find a free local port")
}

/// Run a setup command; a failure says which, with the last line it printed.
fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    Err(anyhow!("{what} failed: {}", last.unwrap_or("no output")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_initdb_is_named_in_the_error() {
        let empty = tempfile::tempdir().unwrap();
        let error = LocalCluster::start(empty.path().to_path_buf(), Some(1)).unwrap_err();
        assert!(format!("{error:#}").contains("initdb"), "{error:#}");
    }

    #[test]
    fn urls_name_the_local_port() {
        let cluster = LocalCluster {
            dir: PathBuf::from("/nonexistent-seedpack-sandbox"),
            bindir: PathBuf::from("/nonexistent"),
            port: 5999,
            kept: true,
        };
        assert_eq!(
            cluster.url("app", "db"),
            "postgresql://app@127.0.0.1:5999/db"
        );
    }
}
