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

/// Run one command to completion, or until Ctrl-C, which is handled here
/// and only here: the command's future is dropped, which closes its
/// connection, so an open restore transaction rolls back and a dump's
/// temporary file is removed. An error is reported once, by the output
/// layer; the status says how the process ends.
pub async fn run(cli: Cli) -> ExitStatus {
    let outcome = match &cli.command {
        Command::Restore(_) => "the restore transaction was rolled back; nothing was changed",
        Command::Dump(_) => "no artifact was written",
        Command::Export(_) => "no script was written (standard output may hold part of one)",
        _ => "nothing was changed",
    };
    let result = tokio::select! {
        result = dispatch(cli.command) => result,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted { outcome }.into()),
    };
    result.unwrap_or_else(|error| output::report_error(&error))
}

/// Resolve the command's configuration, run its engine, print its outcome.
async fn dispatch(command: Command) -> Result<ExitStatus> {
    match command {
        Command::Dump(args) => {
            let config = DumpConfig::from_args(&args)?;
            let printer = Printer::new(Format::from_flags(args.json, args.quiet));
            let outcome = dump::run(&config, &printer.bars()).await?;
            printer.dump(&outcome)?;
        }
        Command::Restore(args) => {
            let config = RestoreConfig::from_args(&args)?;
            let printer = Printer::new(Format::from_flags(args.json, args.quiet));
            let bars = printer.bars();
            let outcome = if args.yes {
                restore::run(&config, &restore::Agree, &bars).await?
            } else {
                restore::run(&config, &output::Terminal, &bars).await?
            };
            printer.restore(&outcome, &config.target)?;
        }
        Command::Verify(args) => {
            let printer = Printer::new(Format::from_flags(args.json, args.quiet));
            let (path, sha256) = (args.file.clone(), args.sha256.clone());
            let verified =
                tokio::task::spawn_blocking(move || verify::verify(&path, sha256.as_deref()))
                    .await??;
            printer.verify(&args.file, &verified)?;
        }
        Command::Inspect(args) => {
            let reader = artifact::ArtifactReader::open(&args.file)?;
            Printer::new(Format::from_flags(args.json, false)).inspect(reader.manifest())?;
        }
        Command::Status(args) => {
            let config = StatusConfig::from_args(&args)?;
            let applied = history::status(&config).await?;
            Printer::new(Format::from_flags(args.json, false)).status(&config.history, &applied)?;
        }
        Command::Check(args) => {
            let config = CheckConfig::from_args(&args)?;
            let checked = check::run(&config).await?;
            Printer::new(Format::from_flags(args.json, false)).check(&checked)?;
            checked.drift()?;
        }
        Command::Plan(args) => {
            let config = PlanConfig::from_args(&args)?;
            let order = plan::run(&config).await?;
            Printer::new(Format::from_flags(args.json, false)).plan(&order)?;
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
            let printer = Printer::new(Format::from_flags(args.json, false));
            let outcome = sandbox::run(&config, &printer.bars()).await?;
            printer.sandbox(&outcome)?;
            outcome.check.drift()?;
        }
        Command::Completions(args) => {
            Printer::new(Format::Human).document(&docs::completions(args.shell)?)?;
        }
        Command::Man(args) => {
            let printer = Printer::new(Format::Human);
            match &args.output_dir {
                Some(dir) => printer.paths(&docs::man_pages(dir)?)?,
                None => printer.document(&docs::man_page()?)?,
            }
        }
    }
    Ok(ExitStatus::Success)
}
