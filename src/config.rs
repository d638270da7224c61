//! Command-line values turned, once, into validated configurations.
//! Core modules take these and never look at `cli` or the environment.

use std::path::PathBuf;

use crate::cli::{ConnectOpts, DumpArgs, PlanArgs, RestoreArgs, SelectOpts};
use crate::error::Error;
use crate::pg::ConnectionTarget;
use crate::selection::{TablePattern, TableSelection};

#[derive(Debug)]
pub struct DumpConfig {
    pub target: ConnectionTarget,
    pub selection: TableSelection,
    pub output: Option<PathBuf>,
    /// Write the schema and no rows.
    pub schema_only: bool,
    pub compress_level: u32,
    pub quiet: bool,
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
    pub yes: bool,
    pub dry_run: bool,
    pub quiet: bool,
}

#[derive(Debug)]
pub struct PlanConfig {
    pub target: ConnectionTarget,
    pub selection: TableSelection,
    pub json: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn target(opts: &ConnectOpts) -> Result<ConnectionTarget, Error> {
    ConnectionTarget::resolve(opts.dsn.as_deref(), &env)
}

fn selection(opts: &SelectOpts) -> Result<TableSelection, Error> {
    let parse = |list: &[String]| -> Result<Vec<TablePattern>, Error> {
        list.iter().map(|t| TablePattern::parse(t)).collect()
    };
    Ok(TableSelection {
        schemas: opts.schemas.clone(),
        tables: parse(&opts.tables)?,
        excluded: parse(&opts.excluded)?,
    })
}

impl DumpConfig {
    pub fn from_args(args: &DumpArgs) -> Result<Self, Error> {
        let source_date_epoch = match env("SOURCE_DATE_EPOCH") {
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
            compress_level: args.compress_level,
            quiet: args.quiet,
            source_date_epoch,
        })
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
            yes: args.yes,
            dry_run: args.dry_run,
            quiet: args.quiet,
        })
    }
}

impl PlanConfig {
    pub fn from_args(args: &PlanArgs) -> Result<Self, Error> {
        Ok(Self {
            target: target(&args.connect)?,
            selection: selection(&args.select)?,
            json: args.json,
        })
    }
}
