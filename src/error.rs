//! Typed errors that callers and tests branch on, and the exit status each
//! maps to.
//!
//! Orchestration code uses `anyhow` with context; the conditions below are the
//! ones whose exit status differs from a plain failure. The output layer walks
//! an error's chain and takes the status of the first typed condition in it.

/// How seedpack ends: the one definition of its exit codes, from which
/// `--help`'s text and the README's table are taken (a unit test holds the
/// README to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success, or nothing to do.
    Success,
    /// The database, the network or the file system said no, or a check failed.
    Failure,
    /// Bad usage or bad input: a damaged artifact, a bad DSN.
    BadInput,
    /// The target refused: declined, incompatible, referenced.
    Refused,
    /// Interrupted (Ctrl-C, SIGTERM); 130 as shells report SIGINT.
    Interrupted,
}

impl ExitStatus {
    pub const ALL: [Self; 5] = [
        Self::Success,
        Self::Failure,
        Self::BadInput,
        Self::Refused,
        Self::Interrupted,
    ];

    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::BadInput => 2,
            Self::Refused => 3,
            Self::Interrupted => 130,
        }
    }

    /// A few words, for `--help`.
    pub fn summary(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::BadInput => "bad usage or bad input (damaged artifact, bad DSN)",
            Self::Refused => {
                "the target refused (declined, incompatible schema, rows outside the artifact referencing it)"
            }
            Self::Interrupted => "interrupted (Ctrl-C, SIGTERM)",
        }
    }

    /// Every case, for the README's table.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Success => {
                "success, a dry run whose checks passed, or an artifact the history shows as already applied"
            }
            Self::Failure => {
                "failure: cannot connect (refused, DNS, bad password, no such database), a database error, \
                 a foreign key the restored data breaks, a lock not granted within `--lock-timeout`; `check` \
                 (or `sandbox`'s check) found a difference; `sandbox` found no PostgreSQL server binaries"
            }
            Self::BadInput => {
                "bad usage or bad input: unknown option, bad DSN, unreadable, damaged or truncated artifact, \
                 a `--table` that matches nothing"
            }
            Self::Refused => {
                "the target refused: confirmation declined or impossible (no terminal, no `--yes`), \
                 creating tables in a schema that migrations manage without `--create-missing`, a table \
                 missing under `--data-only`, a sequence missing, the server's lock table too small \
                 for the restore's one transaction (naming the `max_locks_per_transaction` that fits), \
                 a role a policy names missing, an extension the role cannot create, an incompatible \
                 column, rows outside the artifact referencing it, objects outside the artifact depending on what `--clean` would \
                 drop, a table without a key in `upsert` or `insert-missing` mode"
            }
            Self::Interrupted => {
                "interrupted (Ctrl-C, SIGTERM); a restore rolls back, a dump leaves no file, a sandbox's server stops"
            }
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status.code())
    }
}

/// The exit codes as `--help` lists them.
pub fn exit_codes_help() -> String {
    let codes: Vec<String> = ExitStatus::ALL
        .iter()
        .map(|s| format!("{} {}", s.code(), s.summary()))
        .collect();
    format!("Exit codes: {}.", codes.join(", "))
}

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

    /// A signal (Ctrl-C, SIGTERM) stopped the command; `outcome` says what
    /// state was left.
    #[error("interrupted ({signal}): {outcome}")]
    Interrupted {
        signal: &'static str,
        outcome: &'static str,
    },
}

impl Error {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Usage(_) | Self::BadDsn(_) => ExitStatus::BadInput,
            Self::Refused(_)
            | Self::MissingTable { .. }
            | Self::IncompatibleColumn { .. }
            | Self::ReferencedFromOutside { .. } => ExitStatus::Refused,
            Self::Interrupted { .. } => ExitStatus::Interrupted,
            Self::Drift { .. } => ExitStatus::Failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_exit_code_as_defined() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md");
        for status in ExitStatus::ALL {
            let row = format!("| {} | {} |", status.code(), status.detail());
            assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
        }
    }

    #[test]
    fn help_names_every_code() {
        let help = exit_codes_help();
        assert!(
            help.starts_with("Exit codes: 0 success, 1 failure, 2 bad usage"),
            "{help}"
        );
        assert!(help.contains("130 interrupted (Ctrl-C, SIGTERM)"), "{help}");
    }
}
