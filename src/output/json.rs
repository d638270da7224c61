//! The `--json` form of what commands report, for programs: dump, restore,
//! verify and plan have a shape of their own here; inspect, status, check
//! and sandbox serialize their results as they are.

use serde::Serialize;

use crate::artifact::{Manifest, MemberCheck};
use crate::dump::DumpOutcome;
use crate::history::{Applied, TableCounts};
use crate::ident::QualifiedName;
use crate::load_order::LoadOrder;
use crate::mode::Mode;
use crate::restore::{RestoreOutcome, Statistics};

#[derive(Debug, Serialize)]
pub struct DumpSummary<'a> {
    pub path: &'a std::path::Path,
    pub sidecar: &'a std::path::Path,
    pub content_id: &'a str,
    pub label: Option<&'a str>,
    pub rows: u64,
    pub bytes: u64,
    pub stored_bytes: u64,
    pub connections: usize,
    pub parts: usize,
    pub tables: Vec<TableSize<'a>>,
    pub warnings: Vec<&'a str>,
    /// Migration bookkeeping tables left out of the artifact.
    pub left_out: &'a [QualifiedName],
}

#[derive(Debug, Serialize)]
pub struct TableSize<'a> {
    pub table: &'a QualifiedName,
    pub rows: u64,
    pub bytes: u64,
    pub stored_bytes: u64,
}

impl<'a> DumpSummary<'a> {
    pub fn new(outcome: &'a DumpOutcome) -> Self {
        let m = &outcome.manifest;
        Self {
            path: &outcome.path,
            sidecar: &outcome.sidecar,
            content_id: &m.content_id,
            label: m.label.as_deref(),
            rows: m.total_rows(),
            bytes: m.total_bytes(),
            stored_bytes: m
                .tables
                .iter()
                .fold(0u64, |sum, t| sum.saturating_add(t.member_bytes)),
            connections: outcome.connections,
            parts: outcome.parts,
            tables: m
                .tables
                .iter()
                .map(|t| TableSize {
                    table: &t.name,
                    rows: t.rows,
                    bytes: t.bytes,
                    stored_bytes: t.member_bytes,
                })
                .collect(),
            warnings: m
                .schema
                .iter()
                .flat_map(|s| &s.warnings)
                .chain(&outcome.warnings)
                .map(String::as_str)
                .collect(),
            left_out: &outcome.left_out,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RestoreSummary<'a> {
    pub content_id: &'a str,
    pub label: Option<&'a str>,
    pub mode: Mode,
    pub dry_run: bool,
    /// Set when nothing was done: the history shows this content applied.
    pub already_applied: Option<&'a Applied>,
    /// Schema objects created (or that a dry run would create).
    pub created_objects: usize,
    pub tables: &'a [TableCounts],
    pub warnings: &'a [String],
    /// Planner statistics: relations set from the artifact, tables analyzed.
    pub statistics_carried: u64,
    pub tables_analyzed: usize,
}

impl<'a> RestoreSummary<'a> {
    pub fn new(outcome: &'a RestoreOutcome) -> Self {
        Self {
            content_id: &outcome.manifest.content_id,
            label: outcome.manifest.label.as_deref(),
            mode: outcome.mode,
            dry_run: outcome.dry_run,
            already_applied: outcome.already_applied.as_ref(),
            created_objects: outcome.created,
            tables: &outcome.tables,
            warnings: &outcome.warnings,
            statistics_carried: match outcome.statistics {
                Statistics::Carried(relations) => relations,
                _ => 0,
            },
            tables_analyzed: match outcome.statistics {
                Statistics::Analyzed(tables)
                | Statistics::Refused {
                    analyzed: tables, ..
                } => tables,
                _ => 0,
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct VerifySummary<'a> {
    pub file: &'a std::path::Path,
    pub content_id: &'a str,
    /// The whole-file checksum file that matched, if one was checked.
    pub sha256_file: Option<&'a std::path::Path>,
    pub tables: Vec<TableVerified<'a>>,
}

#[derive(Debug, Serialize)]
pub struct TableVerified<'a> {
    pub table: &'a str,
    pub stored_bytes: u64,
    pub rows: Option<u64>,
}

impl<'a> VerifySummary<'a> {
    pub fn new(
        file: &'a std::path::Path,
        manifest: &'a Manifest,
        checks: &'a [MemberCheck],
        sha256_file: Option<&'a std::path::Path>,
    ) -> Self {
        Self {
            file,
            content_id: &manifest.content_id,
            sha256_file,
            tables: checks
                .iter()
                .map(|c| TableVerified {
                    table: &c.table,
                    stored_bytes: c.member_bytes,
                    rows: c.rows,
                })
                .collect(),
        }
    }
}

/// The plan as `seedpack plan --json` prints it.
#[derive(Debug, Serialize)]
pub struct PlanReport<'a> {
    pub order: Vec<&'a QualifiedName>,
    pub self_references: &'a [QualifiedName],
    pub cycles: &'a [Vec<QualifiedName>],
    pub foreign_keys: Vec<PlanEdge<'a>>,
    pub left_out: &'a [QualifiedName],
}

#[derive(Debug, Serialize)]
pub struct PlanEdge<'a> {
    pub name: &'a str,
    pub table: &'a QualifiedName,
    pub references: &'a QualifiedName,
    pub deferrable: bool,
    pub needs_deferral: bool,
}

impl<'a> PlanReport<'a> {
    pub fn new(order: &'a LoadOrder) -> Self {
        Self {
            order: order.tables.iter().map(|t| &t.name).collect(),
            self_references: &order.self_references,
            cycles: &order.cycles,
            foreign_keys: order
                .foreign_keys
                .iter()
                .map(|(fk, needs_deferral)| PlanEdge {
                    name: &fk.name,
                    table: &fk.relation,
                    references: &fk.referenced,
                    deferrable: fk.deferrable,
                    needs_deferral: *needs_deferral,
                })
                .collect(),
            left_out: &order.left_out,
        }
    }
}
