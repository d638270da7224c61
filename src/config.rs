//! Command-line values turned, once, into validated configurations.
//! Core modules take these and never look at `cli` or the environment.

use std::path::PathBuf;
use std::time::Duration;

use crate::artifact::Compression;
use crate::cli::{
    CheckArgs, ConnectOpts, DumpArgs, HistoryOpts, KeyOpts, PlanArgs, RestoreArgs, SandboxArgs,
    SelectOpts, StatusArgs,
};
use crate::env;
use crate::error::Error;
use crate::ident::QualifiedName;
use crate::keys::KeyChoice;
use crate::mode::{CheckMode, Mode};
use crate::pg::ConnectionTarget;
use crate::selection::{TablePattern, TableSelection};

#[derive(Debug)]
pub struct DumpConfig {
    pub target: ConnectionTarget,
    pub selection: TableSelection,
    pub output: Option<PathBuf>,
    /// Write the schema and no rows.
    pub schema_only: bool,
    /// `--privileges`: carry GRANTs and default privileges.
    pub privileges: bool,
    /// A seed version recorded in the manifest and, on restore, in the history.
    pub label: Option<String>,
    pub compression: Compression,
    /// Carry planner statistics from a PostgreSQL 18 or newer source.
    pub statistics: bool,
    /// Connections reading at once (at least 1).
    pub jobs: usize,
    /// `--key`: natural keys to record for merges.
    pub keys: Vec<KeyChoice>,
    /// Rows by primary key (or whole-row text), so dumps reproduce; or as read.
    pub ordered: bool,
    /// `SOURCE_DATE_EPOCH`: the timestamp recorded, so dumps reproduce.
    pub source_date_epoch: Option<u64>,
}

/// What a restore applies of an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreScope {
    /// Create what the target lacks, and load the data.
    All,
    /// Create what the target lacks; leave every table's rows alone.
    SchemaOnly,
    /// Load the data into tables that must already exist.
    DataOnly,
}

#[derive(Debug)]
pub struct RestoreConfig {
    pub target: ConnectionTarget,
    pub file: PathBuf,
    pub scope: RestoreScope,
    /// Drop the artifact's tables and views and recreate them.
    pub clean: bool,
    /// Create missing tables in a database whose schema migrations manage.
    pub create_missing: bool,
    pub mode: Mode,
    /// `--mvcc-safe`: a replace deletes and loads unfrozen (see
    /// `restore::visibility`).
    pub mvcc_safe: bool,
    /// `--skip-object`: schema objects not to create.
    pub skip_objects: Vec<SkipObject>,
    /// `--privileges`: apply the grants the artifact carries.
    pub privileges: bool,
    /// `--key`: the columns rows of a table are matched on when merged.
    pub keys: Vec<KeyChoice>,
    /// The history table, or `None` with `--no-history`.
    pub history: Option<QualifiedName>,
    pub force: bool,
    pub lock_timeout: Duration,
    pub dry_run: bool,
    /// `--jobs`: connections building shadow tables (1: load in place).
    pub jobs: usize,
}

#[derive(Debug)]
pub struct StatusConfig {
    pub target: ConnectionTarget,
    pub history: QualifiedName,
}

#[derive(Debug)]
pub struct CheckConfig {
    pub target: ConnectionTarget,
    pub file: PathBuf,
    pub mode: CheckMode,
    pub keys: Vec<KeyChoice>,
}

/// `--history-table`, parsed as a table name; `seedpack.history` by default.
fn history_table(opts: &HistoryOpts) -> Result<QualifiedName, Error> {
    match &opts.history_table {
        None => Ok(QualifiedName::new("seedpack", "history")),
        Some(written) => {
            let pattern = TablePattern::parse(written)?;
            Ok(QualifiedName::new(
                pattern.schema.unwrap_or_else(|| "seedpack".to_owned()),
                pattern.name,
            ))
        }
    }
}

impl StatusConfig {
    pub fn from_args(args: &StatusArgs) -> Result<Self, Error> {
        Ok(Self {
            target: target(&args.connect)?,
            history: history_table(&args.history)?,
        })
    }
}

impl CheckConfig {
    pub fn from_args(args: &CheckArgs) -> Result<Self, Error> {
        Ok(Self {
            target: target(&args.connect)?,
            file: args.file.clone(),
            mode: args.mode,
            keys: keys(&args.keys)?,
        })
    }
}

#[derive(Debug)]
pub struct PlanConfig {
    pub target: ConnectionTarget,
    pub selection: TableSelection,
}

pub fn target(opts: &ConnectOpts) -> Result<ConnectionTarget, Error> {
    Ok(ConnectionTarget::resolve(opts.dsn.as_deref(), &env::var)?
        .retrying_for(opts.connect_timeout))
}

fn keys(opts: &KeyOpts) -> Result<Vec<KeyChoice>, Error> {
    opts.keys.iter().map(|k| KeyChoice::parse(k)).collect()
}

fn selection(opts: &SelectOpts) -> Result<TableSelection, Error> {
    let parse = |list: &[String]| -> Result<Vec<TablePattern>, Error> {
        list.iter().map(|t| TablePattern::parse(t)).collect()
    };
    Ok(TableSelection {
        schemas: opts.schemas.clone(),
        tables: parse(&opts.tables)?,
        excluded: parse(&opts.excluded)?,
        include_migration_tables: opts.include_migration_tables,
    })
}

impl DumpConfig {
    pub fn from_args(args: &DumpArgs) -> Result<Self, Error> {
        let source_date_epoch = match env::var(env::SOURCE_DATE_EPOCH) {
            Some(v) => Some(v.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "SOURCE_DATE_EPOCH {v:?} is not a number of seconds"
                ))
            })?),
            None => None,
        };
        Ok(Self {
            target: target(&args.connect)?,
            selection: selection(&args.select)?,
            output: args.output.clone(),
            schema_only: args.schema_only,
            privileges: args.privileges,
            label: args.label.clone(),
            compression: args.compress,
            statistics: !args.no_statistics,
            jobs: args.jobs.map_or_else(default_jobs, |n| n as usize),
            keys: args
                .keys
                .iter()
                .map(|k| KeyChoice::parse(k))
                .collect::<Result<_, _>>()?,
            ordered: !args.no_order,
            source_date_epoch,
        })
    }
}

/// One connection per CPU, at most 4: past that the server, not the
/// client, is usually what limits a dump, and each connection is a backend.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// A schema object a restore leaves out (`--skip-object KIND:NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipObject {
    /// As messages name the kind: `function`, `materialized view`.
    pub kind: String,
    /// As messages name the object, quotes optional.
    pub name: String,
    /// As written, for messages.
    pub written: String,
}

impl SkipObject {
    /// `KIND:NAME`; a kind may be written with `-` or `_` for spaces.
    pub fn parse(written: &str) -> Result<Self, Error> {
        let usage = |why: &str| Error::Usage(format!("--skip-object {written:?}: {why}"));
        let (kind, name) = written
            .split_once(':')
            .ok_or_else(|| usage("write KIND:NAME, such as function:public.audit(text)"))?;
        let kind = kind.trim().to_lowercase().replace(['-', '_'], " ");
        if kind == "table" || kind == "partition" {
            return Err(usage(
                "tables are left out of the dump, not the restore (dump --exclude-table)",
            ));
        }
        if name.trim().is_empty() {
            return Err(usage("no object name after the ':'"));
        }
        Ok(Self {
            kind,
            name: name.trim().replace('"', ""),
            written: written.to_owned(),
        })
    }

    /// Whether it names the object of `kind` (label) and `name`.
    pub fn matches(&self, kind: &str, name: &str) -> bool {
        self.kind == kind && self.name == name.replace('"', "")
    }
}

impl RestoreConfig {
    pub fn from_args(args: &RestoreArgs) -> Result<Self, Error> {
        Ok(Self {
            target: target(&args.connect)?,
            file: args.file.clone(),
            scope: match (args.schema_only, args.data_only) {
                (true, _) => RestoreScope::SchemaOnly,
                (_, true) => RestoreScope::DataOnly,
                _ => RestoreScope::All,
            },
            clean: args.clean,
            create_missing: args.create_missing,
            mode: args.mode,
            keys: keys(&args.keys)?,
            history: if args.no_history {
                None
            } else {
                Some(history_table(&args.history)?)
            },
            force: args.force,
            lock_timeout: args.lock_timeout,
            jobs: args.jobs as usize,
            mvcc_safe: args.mvcc_safe,
            skip_objects: args
                .skip_object
                .iter()
                .map(|s| SkipObject::parse(s))
                .collect::<Result<_, _>>()?,
            privileges: args.privileges,
            dry_run: args.dry_run,
        })
    }
}

impl PlanConfig {
    pub fn from_args(args: &PlanArgs) -> Result<Self, Error> {
        Ok(Self {
            target: target(&args.connect)?,
            selection: selection(&args.select)?,
        })
    }
}

#[derive(Debug)]
pub struct SandboxConfig {
    pub file: PathBuf,
    pub keep: bool,
    pub port: Option<u16>,
    /// `SEEDPACK_PG_BINDIR`: where the server binaries are, if not found by search.
    pub bindir: Option<PathBuf>,
}

impl SandboxConfig {
    pub fn from_args(args: &SandboxArgs) -> Self {
        Self {
            file: args.file.clone(),
            keep: args.keep,
            port: args.port,
            bindir: env::var_os(env::SEEDPACK_PG_BINDIR).map(PathBuf::from),
        }
    }
}
