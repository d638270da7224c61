//! Everything a person or a program reads. Commands return outcomes; the
//! [`Printer`] decides, once per run, between the human form (`text`), the
//! JSON form (`json`) and `--quiet`, and prints. Warnings (`seedpack:
//! warning:`) and the one error line (`seedpack: error:`) are printed here
//! and nowhere else; progress bars (`bars`) and the confirmation prompt
//! (`prompt`) live here too.

mod bars;
mod json;
mod log_lines;
mod prompt;
mod restore_text;
mod stdout;
mod text;

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use bars::Bars;
use log_lines::LogLines;
pub use prompt::Terminal;
pub use stdout::Stdout;

use crate::artifact::{ArtifactError, Manifest};
use crate::check::CheckReport;
use crate::dump::DumpOutcome;
use crate::error::{Error, ExitStatus};
use crate::history::Applied;
use crate::ident::QualifiedName;
use crate::load_order::LoadOrder;
use crate::pg::ConnectionTarget;
use crate::progress::{Progress, Unseen};
use crate::restore::RestoreOutcome;
use crate::sandbox::SandboxOutcome;
use crate::verify::Verified;

/// How a command's result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people, with progress bars on a terminal.
    Human,
    /// One JSON document on standard output; no progress bars.
    Json,
    /// As little as the command allows (`--quiet`); no progress bars.
    Quiet,
}

impl Format {
    /// From a command's `--json` and `--quiet` flags (they conflict).
    pub fn from_flags(json: bool, quiet: bool) -> Self {
        match (json, quiet) {
            (true, _) => Self::Json,
            (_, true) => Self::Quiet,
            _ => Self::Human,
        }
    }
}

/// Prints one command's outcome in the chosen [`Format`].
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    format: Format,
}

impl Printer {
    pub fn new(format: Format) -> Self {
        Self { format }
    }

    /// Progress of a dump or restore: bars for a person at a terminal,
    /// lines for a log, nothing with `--quiet` or `--json`.
    pub fn progress(&self) -> Box<dyn Progress> {
        use std::io::IsTerminal;
        match self.format {
            Format::Human if std::io::stderr().is_terminal() => Box::new(Bars::new(true)),
            Format::Human => Box::new(LogLines::stderr()),
            Format::Json | Format::Quiet => Box::new(Unseen),
        }
    }

    /// A dump's warnings, then its summary; `--quiet` prints only the path.
    pub fn dump(&self, outcome: &DumpOutcome) -> Result<()> {
        let schema_warnings = outcome.manifest.schema.iter().flat_map(|s| &s.warnings);
        for warning in schema_warnings.chain(&outcome.warnings) {
            warn(warning);
        }
        match self.format {
            Format::Json => self.json(&json::DumpSummary::new(outcome)),
            Format::Quiet => stdout::print(&format!("{}\n", outcome.path.display())),
            Format::Human => stdout::print(&text::dump_summary(outcome)),
        }
    }

    /// What a restore did; the already-applied line is printed even with
    /// `--quiet`, since it says nothing was done.
    pub fn restore(&self, outcome: &RestoreOutcome, target: &ConnectionTarget) -> Result<()> {
        for warning in &outcome.warnings {
            warn(warning);
        }
        match (self.format, &outcome.already_applied) {
            (Format::Json, _) => self.json(&json::RestoreSummary::new(outcome)),
            (_, Some(applied)) => stdout::print(&format!("{}\n", text::already_applied(applied))),
            (Format::Quiet, None) => Ok(()),
            (Format::Human, None) => stdout::print(&restore_text::restore_summary(outcome, target)),
        }
    }

    /// What `verify` checked; nothing with `--quiet`.
    pub fn verify(&self, file: &Path, verified: &Verified) -> Result<()> {
        let manifest = verified.reader.manifest();
        let sidecar = verified.sidecar.as_deref();
        match self.format {
            Format::Json => self.json(&json::VerifySummary::new(
                file,
                manifest,
                &verified.checks,
                sidecar,
            )),
            Format::Quiet => Ok(()),
            Format::Human => stdout::print(&text::verify_summary(
                &file.display().to_string(),
                &verified.checks,
                manifest,
                sidecar.map(|p| p.display().to_string()).as_deref(),
            )),
        }
    }

    pub fn inspect(&self, manifest: &Manifest) -> Result<()> {
        match self.format {
            Format::Json => self.json(manifest),
            _ => stdout::print(&text::inspect(manifest)),
        }
    }

    pub fn status(&self, table: &QualifiedName, applied: &[Applied]) -> Result<()> {
        match self.format {
            Format::Json => self.json(&applied),
            _ => stdout::print(&text::status(table, applied)),
        }
    }

    pub fn check(&self, report: &CheckReport) -> Result<()> {
        match self.format {
            Format::Json => self.json(report),
            _ => stdout::print(&text::check(report)),
        }
    }

    pub fn plan(&self, order: &LoadOrder) -> Result<()> {
        match self.format {
            Format::Json => self.json(&json::PlanReport::new(order)),
            _ => stdout::print(&text::plan(order)),
        }
    }

    pub fn sandbox(&self, outcome: &SandboxOutcome) -> Result<()> {
        match self.format {
            Format::Json => self.json(outcome),
            _ => stdout::print(&text::sandbox(outcome)),
        }
    }

    /// Files a command wrote, one per line.
    pub fn paths(&self, paths: &[PathBuf]) -> Result<()> {
        let lines: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
        stdout::print(&lines)
    }

    /// The shadow schemas `clean-up` removed.
    pub fn cleaned(&self, schemas: &[String]) -> Result<()> {
        match self.format {
            Format::Json => self.json(&schemas),
            _ if schemas.is_empty() => stdout::print("no shadow tables left behind\n"),
            _ => stdout::print(
                &schemas
                    .iter()
                    .map(|s| format!("removed shadow schema {s}\n"))
                    .collect::<String>(),
            ),
        }
    }

    /// Text a command produces as its result (a man page).
    pub fn document(&self, text: &str) -> Result<()> {
        stdout::print(text)
    }

    fn json(&self, value: &impl Serialize) -> Result<()> {
        stdout::print(&format!("{}\n", serde_json::to_string_pretty(value)?))
    }
}

/// Print a notice (`progress::notice`) on standard error, when that is a
/// terminal: someone is watching a wait; logs get only the outcome.
pub fn notice(text: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("seedpack: {text}");
    }
}

/// Print a warning on standard error.
fn warn(text: &str) {
    eprintln!("seedpack: warning: {text}");
}

/// Report an error once, as one line on standard error, and say how the
/// command ends. Standard output closing under a command that was printing
/// is no error: it ends quietly with exit 0.
pub fn report_error(error: &anyhow::Error) -> ExitStatus {
    if stdout::is_closed(error) {
        return ExitStatus::Success;
    }
    eprintln!("seedpack: error: {}", one_line(error));
    exit_status(error)
}

/// The exit status of an error: that of the first typed condition in its
/// chain, else a plain failure.
pub fn exit_status(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return e.exit_status();
        }
        if cause.is::<ArtifactError>() {
            return ExitStatus::BadInput;
        }
    }
    ExitStatus::Failure
}

/// One line for an error and its causes, each cause said once.
///
/// tokio-postgres repeats a cause inside its own message; skipping a cause
/// the line already ends with keeps the output to what a person needs.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_conditions_decide_the_exit_status() {
        let refused = anyhow::Error::new(Error::Refused("no".into())).context("restoring");
        assert_eq!(exit_status(&refused), ExitStatus::Refused);
        let damaged = anyhow::Error::new(ArtifactError::Damaged("x".into()));
        assert_eq!(exit_status(&damaged), ExitStatus::BadInput);
        assert_eq!(exit_status(&anyhow::anyhow!("plain")), ExitStatus::Failure);
    }

    #[test]
    fn one_line_says_each_cause_once() {
        let error = anyhow::anyhow!("connection refused")
            .context("cannot connect: connection refused")
            .context("dump");
        assert_eq!(one_line(&error), "dump: cannot connect: connection refused");
    }

    #[test]
    fn a_closed_stdout_is_told_from_other_broken_pipes() {
        use std::io::Write;
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let socket = anyhow::Error::new(Closed.write(b"x").unwrap_err());
        assert!(!stdout::is_closed(&socket));
        assert_eq!(report_error(&socket), ExitStatus::Failure);
        let closed = anyhow::Error::new(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            stdout::StdoutClosed,
        ))
        .context("cannot write the script");
        assert!(stdout::is_closed(&closed));
        assert_eq!(report_error(&closed), ExitStatus::Success);
    }
}
