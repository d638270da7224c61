//! `seedpack sandbox`: restore an artifact into a throwaway local
//! PostgreSQL and check it, before it touches a real environment.
//!
//! The cluster comes from this machine's server binaries (see `binaries`),
//! in a temporary directory; the artifact is restored with its schema into
//! an empty database owned by a non-superuser, as a real deploy would, then
//! compared with `check`. The cluster is stopped and deleted at the end,
//! on any error and on Ctrl-C, unless `--keep` asks to leave it running.

pub mod binaries;
pub mod cluster;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde::Serialize;

use crate::artifact::ArtifactReader;
use crate::check::{self, CheckReport};
use crate::config::{CheckConfig, RestoreConfig, RestoreScope, SandboxConfig};
use crate::ident::QualifiedName;
use crate::mode::{CheckMode, Mode};
use crate::pg::{self, ConnectionTarget};
use crate::progress::Progress;
use crate::restore;
use cluster::LocalCluster;

/// The role and database the artifact is restored into.
const OWNER: &str = "sandbox";

/// What a sandbox run did.
#[derive(Debug, Serialize)]
pub struct SandboxOutcome {
    /// The restored database, as the non-superuser owner (no password).
    pub dsn: String,
    pub server_version: String,
    pub tables: usize,
    pub rows: u64,
    pub check: CheckReport,
    /// With `--keep`: where the cluster lives and how to stop it.
    pub kept: Option<Kept>,
}

#[derive(Debug, Serialize)]
pub struct Kept {
    pub directory: PathBuf,
    pub stop_command: String,
}

pub async fn run(config: &SandboxConfig, progress: &dyn Progress) -> Result<SandboxOutcome> {
    // A damaged or foreign file is bad input before any cluster starts.
    let path = config.file.clone();
    tokio::task::spawn_blocking(move || ArtifactReader::open(&path)).await??;
    let bindir = binaries::find(config.bindir.as_deref()).map_err(|e| anyhow!(e))?;
    let port = config.port;
    let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(bindir, port)).await??;

    let admin = pg::connect(&target(&cluster.url("postgres", "postgres"))?).await?;
    for statement in [
        format!("CREATE ROLE {OWNER} LOGIN NOSUPERUSER"),
        format!("CREATE DATABASE {OWNER} OWNER {OWNER}"),
    ] {
        admin.client.batch_execute(&statement).await?;
    }
    let server_version = admin.server_version.clone();
    drop(admin);

    let dsn = cluster.url(OWNER, OWNER);
    let restore_config = RestoreConfig {
        target: target(&dsn)?,
        file: config.file.clone(),
        scope: RestoreScope::All,
        clean: false,
        create_missing: true,
        mode: Mode::Replace,
        keys: Vec::new(),
        history: Some(QualifiedName::new("seedpack", "history")),
        force: false,
        lock_timeout: Duration::from_secs(60),
        mvcc_safe: false,
        skip_objects: Vec::new(),
        // The throwaway cluster has none of the source's roles.
        privileges: false,
        dry_run: false,
        jobs: 1,
    };
    let restored = restore::run(&restore_config, &restore::Agree, progress).await?;
    let check = check::run(&CheckConfig {
        target: target(&dsn)?,
        file: config.file.clone(),
        mode: CheckMode::Exact,
        keys: Vec::new(),
    })
    .await?;
    let kept = config.keep.then(|| {
        let (directory, stop_command) = cluster.keep();
        Kept {
            directory,
            stop_command,
        }
    });
    Ok(SandboxOutcome {
        dsn,
        server_version,
        tables: restored.manifest.tables.len(),
        rows: restored.manifest.total_rows(),
        check,
        kept,
    })
}

/// A target that reads no PG* variables: the sandbox is only what it made.
fn target(url: &str) -> Result<ConnectionTarget> {
    Ok(ConnectionTarget::resolve(Some(url), &|_| None)?)
}
