//! seedpack moves PostgreSQL data between environments as one portable,
//! checksummed file.
//!
//! # Architecture
//!
//! ```text
//! cli ──► config ──► dump ────► pg (connect, quoting, SQL) ──► catalog ──► plan
//!                      │                                          (pure)
//!                      └──► artifact (tar + gzip COPY text + manifest; no database types)
//!                 ──► restore ─► artifact reader ─► target checks ─► one transaction
//! ```
//!
//! - [`cli`] holds clap types only; [`config`] turns them, once, into
//!   validated configurations, so core modules never see the command line.
//! - [`pg`] is the only place identifiers reach SQL; values are bind parameters.
//! - [`catalog`] reads pg_catalog into plain data; [`plan`] orders tables by
//!   their foreign keys and finds cycles, with no I/O.
//! - [`schema`] reads the DDL of what a dump holds through the server's
//!   deparsers.
//! - [`artifact`] is the file format; [`dump`] writes it and [`restore`]
//!   applies it; [`progress`] is the only module that knows indicatif.
//! - [`error`] holds the typed conditions and their exit codes.

pub mod artifact;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod config;
pub mod docs;
pub mod dump;
pub mod error;
pub mod export;
pub mod history;
pub mod inspect;
pub mod ordering;
pub mod pg;
pub mod plan;
pub mod progress;
pub mod report;
pub mod restore;
pub mod sandbox;
pub mod schema;
pub mod selection;
pub mod summary;

use anyhow::{Context, Result};

use cli::{Cli, Command};
use config::{CheckConfig, DumpConfig, PlanConfig, RestoreConfig, StatusConfig};
use error::Error;

/// Run one command to completion, or until Ctrl-C, which is handled here
/// and only here: the command's future is dropped, which closes its
/// connection, so an open restore transaction rolls back and a dump's
/// temporary file is removed.
pub async fn run(cli: Cli) -> Result<()> {
    let outcome = match &cli.command {
        Command::Restore(_) => "the restore transaction was rolled back; nothing was changed",
        Command::Dump(_) => "no artifact was written",
        Command::Export(_) => "no script was written (standard output may hold part of one)",
        _ => "nothing was changed",
    };
    tokio::select! {
        result = dispatch(cli.command) => result,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted { outcome }.into()),
    }
}

async fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Dump(args) => {
            let config = DumpConfig::from_args(&args)?;
            let outcome = dump::run(&config).await?;
            for warning in outcome.manifest.schema.iter().flat_map(|s| &s.warnings) {
                eprintln!("seedpack: warning: {warning}");
            }
            if args.json {
                let summary = summary::DumpSummary::new(&outcome);
                emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
            } else if config.quiet {
                emit(&format!("{}\n", outcome.path.display()))?;
            } else {
                emit(&report::dump_summary(&outcome))?;
            }
        }
        Command::Restore(args) => {
            let config = RestoreConfig::from_args(&args)?;
            let outcome = restore::run(&config).await?;
            match &outcome.already_applied {
                _ if args.json => {
                    let summary = summary::RestoreSummary::new(&outcome);
                    emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
                }
                Some(applied) => emit(&format!("{}\n", report::already_applied(applied)))?,
                None if !config.quiet => emit(&report::restore_summary(&outcome, &config.target))?,
                None => {}
            }
        }
        Command::Verify(args) => {
            let (path, sha256) = (args.file.clone(), args.sha256.clone());
            let verified =
                tokio::task::spawn_blocking(move || inspect::verify(&path, sha256.as_deref()))
                    .await??;
            let manifest = verified.reader.manifest();
            if args.json {
                let summary = summary::VerifySummary::new(
                    &args.file,
                    manifest,
                    &verified.checks,
                    verified.sidecar.as_deref(),
                );
                emit(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
            } else if !args.quiet {
                let sidecar = verified.sidecar.as_ref().map(|p| p.display().to_string());
                emit(&report::verify_summary(
                    &args.file.display().to_string(),
                    &verified.checks,
                    manifest,
                    sidecar.as_deref(),
                ))?;
            }
        }
        Command::Inspect(args) => {
            let reader = artifact::ArtifactReader::open(&args.file)?;
            if args.json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(reader.manifest())?
                ))?;
            } else {
                emit(&report::inspect(reader.manifest()))?;
            }
        }
        Command::Status(args) => {
            let config = StatusConfig::from_args(&args)?;
            let session = pg::connect(&config.target).await?;
            let applied = history::list(&session.client, &config.history).await?;
            if config.json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&applied)?))?;
            } else {
                emit(&report::status(&config.history, &applied))?;
            }
        }
        Command::Check(args) => {
            let config = CheckConfig::from_args(&args)?;
            let checked = check::run(&config).await?;
            if config.json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&checked)?))?;
            } else {
                emit(&report::check(&checked))?;
            }
            if !checked.all_equal() {
                return Err(drift(&checked).into());
            }
        }
        Command::Export(args) => {
            let output = match args.output.as_str() {
                "-" => export::ExportOutput::Stdout,
                path => export::ExportOutput::File(path.into()),
            };
            let cli::ExportFormat::Sql = args.format;
            tokio::task::spawn_blocking(move || export::export(&args.file, &output)).await??;
        }
        Command::Sandbox(args) => {
            let config = sandbox::SandboxConfig::from_args(&args);
            let outcome = sandbox::run(&config).await?;
            if args.json {
                emit(&format!("{}\n", serde_json::to_string_pretty(&outcome)?))?;
            } else {
                emit(&report::sandbox(&outcome))?;
            }
            if !outcome.check.all_equal() {
                return Err(drift(&outcome.check).into());
            }
        }
        Command::Completions(args) => docs::completions(args.shell, &mut std::io::stdout()),
        Command::Man(args) => match &args.output_dir {
            Some(dir) => {
                for path in docs::man_pages(dir)? {
                    emit(&format!("{}\n", path.display()))?;
                }
            }
            None => emit(&docs::man_page()?)?,
        },
        Command::Plan(args) => {
            let config = PlanConfig::from_args(&args)?;
            let session = pg::connect(&config.target).await?;
            session
                .client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await
                .context("cannot start a read-only transaction")?;
            let ordered = ordering::read(&session.client, &config.selection).await?;
            if config.json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&ordered.report())?
                ))?;
            } else {
                emit(&report::plan(&ordered))?;
            }
        }
    }
    Ok(())
}

fn drift(checked: &check::CheckReport) -> Error {
    Error::Drift {
        differing: checked
            .tables
            .iter()
            .filter(|t| t.state != check::State::Equal)
            .count(),
        total: checked.tables.len(),
    }
}

/// Print to standard output; a reader that stopped early (`| head`) is not
/// an error, and no reason to panic as `println!` would.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
