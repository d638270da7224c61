//! Typed errors that callers and tests branch on, and the exit code each maps to.
//!
//! Orchestration code uses `anyhow` with context; the conditions below are the
//! ones whose exit code differs from a plain failure (1). `exit_code` walks an
//! error's chain and returns the code of the first typed condition it finds.

use crate::artifact::ArtifactError;

/// Exit code for success, or nothing to do.
pub const EXIT_OK: i32 = 0;
/// Exit code for a failure: the database, the network or the file system said no.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for bad usage or bad input: a damaged artifact, a bad DSN.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code for a target that refused: declined, incompatible, referenced.
pub const EXIT_REFUSED: i32 = 3;
/// Exit code for an interrupt (Ctrl-C), as shells report SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Conditions with an exit code of their own.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or the environment does not make sense.
    #[error("{0}")]
    Usage(String),

    /// The connection string could not be parsed. Never carries the password.
    #[error("invalid connection string: {0}")]
    BadDsn(String),

    /// The target database refused the restore before anything was written.
    #[error("{0}")]
    Refused(String),

    /// A table of the artifact is missing from the target.
    #[error("table {table} does not exist in the target database")]
    MissingTable { table: String },

    /// A target column differs from the artifact's.
    #[error("table {table}: column {column} {detail}")]
    IncompatibleColumn {
        table: String,
        column: String,
        detail: String,
    },

    /// A table outside the artifact holds rows referencing a table about to be emptied.
    #[error(
        "table {referencing} is not in the artifact but has rows referencing {referenced} \
         (constraint {constraint}); restoring would empty {referenced} under them"
    )]
    ReferencedFromOutside {
        referencing: String,
        referenced: String,
        constraint: String,
    },

    /// `check` found tables that differ from the artifact or are missing.
    #[error("{differing} of {total} tables differ from the artifact or are missing")]
    Drift { differing: usize, total: usize },

    /// The user interrupted the command; `outcome` says what state was left.
    #[error("interrupted: {outcome}")]
    Interrupted { outcome: &'static str },
}

/// The exit code for an error, from the first typed condition in its chain.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return match e {
                Error::Usage(_) | Error::BadDsn(_) => EXIT_BAD_INPUT,
                Error::Refused(_)
                | Error::MissingTable { .. }
                | Error::IncompatibleColumn { .. }
                | Error::ReferencedFromOutside { .. } => EXIT_REFUSED,
                Error::Interrupted { .. } => EXIT_INTERRUPTED,
                Error::Drift { .. } => EXIT_FAILURE,
            };
        }
        if cause.downcast_ref::<ArtifactError>().is_some() {
            return EXIT_BAD_INPUT;
        }
    }
    EXIT_FAILURE
}

/// One line for an error and its causes, each cause said once.
///
/// tokio-postgres repeats a cause inside its own message; skipping a cause
/// the line already ends with keeps the output to what a person needs.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
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
