//! Command-line types only: the doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::artifact::Compression;
use crate::error::exit_codes_help;
use crate::mode::{CheckMode, Mode};
use crate::pg;

/// Move PostgreSQL data between environments as one portable, checksummed file.
#[derive(Debug, Parser)]
#[command(name = "seedpack", version, about, long_about, after_help = exit_codes_help())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the database's tables, in foreign-key order, to one artifact
    Dump(DumpArgs),
    /// Verify an artifact, create the tables the target lacks, and replace the tables' contents, in one transaction
    Restore(RestoreArgs),
    /// Check an artifact's structure, checksums and row counts, without a database
    Verify(VerifyArgs),
    /// Show what an artifact holds: tables in restore order, rows, bytes, cycles, sequences
    Inspect(InspectArgs),
    /// Show the restore order, self-references and cycles of a live database
    Plan(PlanArgs),
    /// Write an artifact as a plain SQL script that psql restores into an empty database
    Export(ExportArgs),
    /// List the artifacts applied to a database, newest first
    Status(StatusArgs),
    /// Compare a database's content of an artifact's tables with the artifact
    Check(CheckArgs),
    /// Remove the shadow tables a `restore --jobs` that failed or was killed
    /// left behind (the next restore removes them too); waits for a restore
    /// that is running
    CleanUp(CleanUpArgs),
    /// Restore an artifact into a throwaway local PostgreSQL and check it: a
    /// staging rehearsal without Docker. Needs PostgreSQL's server binaries
    /// (initdb on PATH, pg_config --bindir, /usr/lib/postgresql/*/bin, or
    /// $SEEDPACK_PG_BINDIR)
    Sandbox(SandboxArgs),
    /// Print a shell completion script: seedpack completions bash > /etc/bash_completion.d/seedpack
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per command into a directory
    Man(ManArgs),
}

/// Where seedpack records what it applied.
#[derive(Debug, Args)]
pub struct HistoryOpts {
    /// The history table, created on first use [default: seedpack.history]
    #[arg(long, value_name = "SCHEMA.TABLE")]
    pub history_table: Option<String>,
}

/// How to reach the database.
#[derive(Debug, Args)]
pub struct ConnectOpts {
    /// Connection string, URL (postgres://user@host/db) or key=value form.
    /// Defaults to $SEEDPACK_DSN, then $DATABASE_URL; PGHOST, PGPORT, PGUSER,
    /// PGPASSWORD, PGDATABASE and PGSSLMODE fill what it leaves out
    #[arg(long, value_name = "DSN")]
    pub dsn: Option<String>,
    /// How long to keep retrying a server that is not accepting connections
    /// yet (refused, starting up), with backoff: 15s, 2m. Nothing is retried
    /// once connected
    #[arg(long, value_name = "DURATION", default_value = pg::RETRY_FOR_DEFAULT, value_parser = humantime::parse_duration)]
    pub connect_timeout: std::time::Duration,
}

/// Which columns identify a table's rows.
#[derive(Debug, Args)]
pub struct KeyOpts {
    /// Match TABLE's rows on these columns, a natural key such as code or
    /// email, instead of the key the dump recorded or the primary key
    /// (repeatable)
    #[arg(long = "key", value_name = "TABLE=COLUMN[,COLUMN...]")]
    pub keys: Vec<String>,
}

/// Which tables to cover.
#[derive(Debug, Args)]
pub struct SelectOpts {
    /// Only tables in this schema (repeatable)
    #[arg(long = "schema", value_name = "SCHEMA")]
    pub schemas: Vec<String>,
    /// Only this table, as TABLE or SCHEMA.TABLE; quote names with capitals or dots: '"My.Table"' (repeatable)
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Leave this table out, written as for --table (repeatable)
    #[arg(long = "exclude-table", value_name = "TABLE")]
    pub excluded: Vec<String>,
    /// Also cover the migration tools' bookkeeping tables (schema_migrations,
    /// ar_internal_metadata, _prisma_migrations, flyway_schema_history,
    /// alembic_version, django_migrations, ...), left out by default so a
    /// restore never overwrites the target's migration state. A table named
    /// with --table is covered anyway
    #[arg(long)]
    pub include_migration_tables: bool,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,
    #[command(flatten)]
    pub select: SelectOpts,
    /// Record the key TABLE's rows are matched on when an upsert or
    /// insert-missing applies the artifact: a natural key such as code or
    /// email, with a unique constraint or index on it (repeatable)
    #[arg(long = "key", value_name = "TABLE=COLUMN[,COLUMN...]")]
    pub keys: Vec<String>,
    /// Artifact to write [default: artifacts/<db>-<UTC yyyymmddThhmmssZ>.seedpack].
    /// A <FILE>.sha256 sidecar is written beside it
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A seed version to record in the artifact (and in the target's history
    /// when it is restored), such as v2 or a commit hash
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Write the tables' schema and no rows; restoring it creates what the
    /// target lacks and leaves existing tables' rows alone
    #[arg(long)]
    pub schema_only: bool,
    /// Also carry the GRANTs on the carried objects and the default
    /// privileges of the carried schemas (restore applies them only with
    /// its own --privileges)
    #[arg(long)]
    pub privileges: bool,
    /// How table data is compressed: zstd[:1-19] (level 2 when not given),
    /// gzip[:0-9] (level 4), or none. Every method restores alike; gzip
    /// artifacts are also read by seedpack versions from before zstd
    #[arg(long, value_name = "METHOD[:LEVEL]", default_value_t = Compression::default())]
    pub compress: Compression,
    /// Leave out the planner statistics a PostgreSQL 18 or newer source
    /// has (carried by default, so that a restore into 18 or newer plans
    /// like the source); an ANALYZE between two dumps changes them, so
    /// byte-identical dumps of unchanged data need this
    #[arg(long)]
    pub no_statistics: bool,
    /// Connections reading at once, all in one snapshot, so the artifact is
    /// still consistent; large tables are split by primary-key ranges
    /// [default: the number of CPUs, at most 4]
    #[arg(long, short, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: Option<u32>,
    /// Write rows in the order the server reads them, not by primary key:
    /// cheaper for tables without one, but the artifact no longer
    /// reproduces byte for byte and its content id changes when rows move
    #[arg(long)]
    pub no_order: bool,
    /// No progress bars and no summary; print only the artifact's path
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as JSON (no progress bars)
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Artifact to restore
    #[arg(long, short, value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// Only create the schema objects the target lacks; load no data
    #[arg(long, conflicts_with = "data_only")]
    pub schema_only: bool,
    /// Only load data, into tables that must already exist; create nothing
    #[arg(long)]
    pub data_only: bool,
    /// Create the tables the target lacks even though a migration tool
    /// manages its schema (it has a table such as schema_migrations); without
    /// it such a restore refuses, so the next migration does not find a
    /// table it meant to create
    #[arg(long, conflicts_with_all = ["data_only", "schema_only", "clean"])]
    pub create_missing: bool,
    /// Drop the artifact's tables (with their indexes, constraints, triggers,
    /// owned sequences) and views, and recreate them from the artifact, in the
    /// same transaction. Refuses if anything else depends on them
    #[arg(long, conflicts_with_all = ["data_only", "schema_only"])]
    pub clean: bool,
    /// replace: empty each table and load the artifact. upsert: insert new rows
    /// and update existing ones by key, keep the rest. insert-missing: insert
    /// only rows whose key is absent. upsert and insert-missing match rows on
    /// --key, the key the dump recorded, or the primary key, and need a
    /// unique constraint or index on it
    #[arg(long, value_enum, default_value = "replace")]
    pub mode: Mode,
    /// replace: empty tables with DELETE and load them unfrozen, so that a
    /// transaction older than the restore keeps seeing the old data in every
    /// table after the commit (by default it sees the new data in every
    /// table: TRUNCATE and COPY FREEZE, faster). See README: Concurrent
    /// readers
    #[arg(long)]
    pub mvcc_safe: bool,
    /// Leave one schema object of the artifact out deliberately, as KIND:NAME
    /// the way restore's messages name it (function:public.audit_log(text),
    /// extension:postgis, view:public.report); repeatable. Not tables: leave
    /// those out of the dump (--exclude-table)
    #[arg(long, value_name = "KIND:NAME")]
    pub skip_object: Vec<String>,
    /// Apply the privileges the artifact carries (dump --privileges): those
    /// whose roles the target has; the roles it lacks are named before any
    /// write and their grants left out
    #[arg(long)]
    pub privileges: bool,
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Apply even if the history says this content was already applied in this mode
    #[arg(long)]
    pub force: bool,
    /// Record nothing: no history table, no seedpack objects in the database
    #[arg(long, conflicts_with = "history_table")]
    pub no_history: bool,
    #[command(flatten)]
    pub history: HistoryOpts,
    /// How long to wait for another restore (or a lock on a table) before
    /// giving up, changing nothing: 30s, 2m, 500ms
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Connections building the replaced tables at once: each table is
    /// built beside its target (a shadow table, committed as it finishes),
    /// then all are swapped in by the one transaction, which stays short.
    /// The swapped tables are new objects (new OIDs) and the data is on
    /// disk twice until the commit; tables whose definition could not be
    /// rebuilt exactly load in place, as with 1 (see the README)
    #[arg(long, short, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,
    /// Do not ask for confirmation (required when there is no terminal)
    #[arg(long, short)]
    pub yes: bool,
    /// Verify and check the target, show what would change, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// No progress bars and no summary
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the outcome as JSON (no progress bars); confirmation still
    /// needs a terminal or --yes
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Artifact to check
    #[arg(long, short, value_name = "FILE")]
    pub file: PathBuf,
    /// A sha256sum-style file the whole artifact must match, such as the
    /// .sha256 sidecar CI published with it [default: FILE.sha256, when present]
    #[arg(long, value_name = "SHA256_FILE")]
    pub sha256: Option<PathBuf>,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    /// Print what was checked as JSON
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Artifact to describe
    #[arg(long, short, value_name = "FILE")]
    pub file: PathBuf,
    /// Print the manifest as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,
    #[command(flatten)]
    pub history: HistoryOpts,
    /// Print the history as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CleanUpArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// Print the removed shadow schemas as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Artifact to compare with
    #[arg(long, short, value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// exact: each table holds exactly the artifact's rows (after a
    /// replace). contains: each holds every artifact row, equal under its
    /// key, and maybe rows of its own (after upsert or insert-missing)
    #[arg(long, value_enum, default_value = "exact")]
    pub mode: CheckMode,
    #[command(flatten)]
    pub keys: KeyOpts,
    /// Print the comparison as JSON
    #[arg(long)]
    pub json: bool,
}

/// Formats `seedpack export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// A psql script: psql -v ON_ERROR_STOP=1 --single-transaction -f OUT
    Sql,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Artifact to export
    #[arg(long, short, value_name = "FILE")]
    pub file: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value = "sql")]
    pub format: ExportFormat,
    /// Where to write: a path (gzip-compressed when it ends in .gz), or - for standard output
    #[arg(long, short, value_name = "OUT", default_value = "-")]
    pub output: String,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,
    #[command(flatten)]
    pub select: SelectOpts,
    /// Print the plan as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Artifact to restore
    #[arg(long, short, value_name = "FILE")]
    pub file: PathBuf,
    /// Leave the server running afterwards and print how to stop it
    #[arg(long)]
    pub keep: bool,
    /// Port to listen on (127.0.0.1 only) [default: a free one]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write seedpack.1 and seedpack-COMMAND.1 for every command into DIR
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}
