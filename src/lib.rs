//! seedpack moves PostgreSQL data between environments as one portable,
//! checksummed file.
//!
//! # Architecture
//!
//! Floors, each importing only from itself and the floors below
//! (CONTRIBUTING.md maps every file; `tests/architecture.rs` holds the rule):
//!
//! ```text
//! lib (dispatch) ─ output (text, JSON, bars, prompt)  ─ docs
//! engines        ─ dump, restore, verify, check, plan, export, history, sandbox
//! configs        ─ cli (clap types) -> config (resolved once)
//! schema         ─ the DDL a dump carries, through the server's deparsers
//! catalog        ─ pg_catalog -> plain data; selection; load_order
//! database       ─ pg: connecting, TLS, session settings, the SQL naming tables
//! file format    ─ artifact: tar + zstd/gzip COPY text + manifest; no database types
//! ground         ─ ident, error, env, graph, mode, progress, atomic_file
//! ```
//!
//! - [`cli`] holds clap types only; [`config`] turns them, once, into
//!   validated configurations, so core modules never see the command line.
//! - Engines return outcomes; [`output`] alone prints them, as text, JSON or
//!   nothing, and reports an error once with its [`error::ExitStatus`].
//! - Identifiers reach SQL through [`ident`] only; values are bind parameters.
//! - [`graph`] orders tables by their foreign keys and finds cycles, with no I/O.

pub mod artifact;
pub mod atomic_file;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod config;
pub mod docs;
pub mod dump;
pub mod env;
pub mod error;
pub mod export;
pub mod graph;
pub mod history;
pub mod ident;
pub mod keys;
pub mod load_order;
pub mod mode;
pub mod output;
pub mod pg;
pub mod plan;
pub mod progress;
pub mod restore;
pub mod sandbox;
pub mod schema;
pub mod selection;
pub mod verify;

use anyhow::Result;

use cli::{Cli, Command};
use config::{CheckConfig, DumpConfig, PlanConfig, RestoreConfig, SandboxConfig, StatusConfig};
use error::{Error, ExitStatus};
use output::{Format, Printer};

/// Run one command to completion, or until Ctrl-C or SIGTERM (`docker
/// stop`, a cancelled CI job, a Kubernetes Job ending), which are handled
/// here and only here: the command's future is dropped, which closes its
/// connection, so an open restore transaction rolls back, a dump's
/// temporary file is removed and a sandbox's server is stopped. An error is
/// reported once, by the output layer; the status says how the process ends.
pub async fn run(cli: Cli) -> ExitStatus {
    let outcome = match &cli.command {
        Command::Restore(_) => "the restore transaction was rolled back; nothing was changed",
        Command::Dump(_) => "no artifact was written",
        Command::Export(_) => "no script was written (standard output may hold part of one)",
        _ => "nothing was changed",
    };
    progress::on_notice(output::notice);
    let printer = Printer::new(format(&cli.command));
    let result = tokio::select! {
        result = dispatch(cli.command, &printer) => result,
        signal = interrupted() => Err(Error::Interrupted { signal, outcome }.into()),
    };
    match result {
        Ok(()) => ExitStatus::Success,
        Err(error) => output::report_error(&error),
    }
}

/// Wait for SIGINT or SIGTERM; returns the signal's name. A handler that
/// cannot be installed leaves that signal's default action in place.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).ok();
    let terminated = async {
        match terminate.as_mut() {
            Some(terminate) => terminate.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminated => "SIGTERM",
    }
}

/// How the command's outcome is printed: from its `--json` and `--quiet`,
/// where it has them.
fn format(command: &Command) -> Format {
    let (json, quiet) = match command {
        Command::Dump(args) => (args.json, args.quiet),
        Command::Restore(args) => (args.json, args.quiet),
        Command::Verify(args) => (args.json, args.quiet),
        Command::Inspect(args) => (args.json, false),
        Command::Status(args) => (args.json, false),
        Command::Check(args) => (args.json, false),
        Command::CleanUp(args) => (args.json, false),
        Command::Plan(args) => (args.json, false),
        Command::Sandbox(args) => (args.json, false),
        Command::Export(_) | Command::Completions(_) | Command::Man(_) => (false, false),
    };
    Format::from_flags(json, quiet)
}

/// Resolve the command's configuration, run its engine, print its outcome.
async fn dispatch(command: Command, printer: &Printer) -> Result<()> {
    match command {
        Command::Dump(args) => {
            let config = DumpConfig::from_args(&args)?;
            let outcome = dump::run(&config, printer.progress().as_ref()).await?;
            printer.dump(&outcome)?;
        }
        Command::Restore(args) => {
            let config = RestoreConfig::from_args(&args)?;
            let progress = printer.progress();
            let outcome = if args.yes {
                restore::run(&config, &restore::Agree, progress.as_ref()).await?
            } else {
                restore::run(&config, &output::Terminal, progress.as_ref()).await?
            };
            printer.restore(&outcome, &config.target)?;
        }
        Command::Verify(args) => {
            let (path, sha256) = (args.file.clone(), args.sha256.clone());
            let verified =
                tokio::task::spawn_blocking(move || verify::verify(&path, sha256.as_deref()))
                    .await??;
            printer.verify(&args.file, &verified)?;
        }
        Command::Inspect(args) => {
            let reader = artifact::ArtifactReader::open(&args.file)?;
            printer.inspect(reader.manifest())?;
        }
        Command::Status(args) => {
            let config = StatusConfig::from_args(&args)?;
            let applied = history::status(&config).await?;
            printer.status(&config.history, &applied)?;
        }
        Command::Check(args) => {
            let config = CheckConfig::from_args(&args)?;
            let checked = check::run(&config).await?;
            printer.check(&checked)?;
            checked.drift()?;
        }
        Command::CleanUp(args) => {
            let target = config::target(&args.connect)?;
            let removed = restore::clean_up(&target).await?;
            printer.cleaned(&removed)?;
        }
        Command::Plan(args) => {
            let config = PlanConfig::from_args(&args)?;
            let order = plan::run(&config).await?;
            printer.plan(&order)?;
        }
        Command::Export(args) => {
            let cli::ExportFormat::Sql = args.format;
            tokio::task::spawn_blocking(move || match args.output.as_str() {
                "-" => export::export_to(&args.file, &mut output::Stdout::new()),
                path => export::export_to_file(&args.file, path.as_ref()).map(drop),
            })
            .await??;
        }
        Command::Sandbox(args) => {
            let config = SandboxConfig::from_args(&args);
            let outcome = sandbox::run(&config, printer.progress().as_ref()).await?;
            printer.sandbox(&outcome)?;
            outcome.check.drift()?;
        }
        Command::Completions(args) => {
            printer.document(&docs::completions(args.shell)?)?;
        }
        Command::Man(args) => match &args.output_dir {
            Some(dir) => printer.paths(&docs::man_pages(dir)?)?,
            None => printer.document(&docs::man_page()?)?,
        },
    }
    Ok(())
}
