//! A throwaway PostgreSQL cluster in a temporary directory: trusts local
//! connections, listens on 127.0.0.1 only, durability off (it holds nothing
//! worth an fsync). Stopped and deleted when dropped, unless kept.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{anyhow, Context, Result};

use super::binaries::{is_root, server_command};

#[derive(Debug)]
pub struct LocalCluster {
    dir: PathBuf,
    bindir: PathBuf,
    pub port: u16,
    kept: bool,
}

impl LocalCluster {
    /// initdb and start a cluster from `bindir` on `port` (default: a free
    /// one). Blocking.
    pub fn start(bindir: PathBuf, port: Option<u16>) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("seedpack-sandbox-")
            .tempdir()
            .context("cannot create the sandbox directory")?
            .keep();
        let port = match port {
            Some(port) => port,
            None => TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .context("cannot find a free local port")?,
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
            run(chown, "chown of the sandbox directory to the postgres user")?;
        }
        let mut initdb = server_command(&cluster.bindir, "initdb");
        initdb.arg("-D").arg(cluster.data()).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ]);
        run(initdb, "initdb")?;
        let settings = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            cluster.dir.display()
        );
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(cluster.data().join("postgresql.conf"))
            .context("cannot configure the sandbox cluster")?;
        std::io::Write::write_all(&mut conf, settings.as_bytes())?;
        let mut start = server_command(&cluster.bindir, "pg_ctl");
        start
            .arg("-D")
            .arg(cluster.data())
            .arg("-l")
            .arg(cluster.log())
            .args(["-w", "start"]);
        if let Err(e) = run(start, "pg_ctl start") {
            let log = std::fs::read_to_string(cluster.log()).unwrap_or_default();
            let reason = log
                .lines()
                .rev()
                .find(|l| l.contains("FATAL") || l.contains("could not"))
                .unwrap_or_default();
            return Err(e.context(format!(
                "the sandbox server did not start on port {port}: {reason}"
            )));
        }
        Ok(cluster)
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

    fn data(&self) -> PathBuf {
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
            let mut stop = server_command(&self.bindir, "pg_ctl");
            stop.arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = stop.output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Run a setup command; a failure says which, with the last line it printed.
fn run(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
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
