//! The human form of what commands report: summaries, previews and
//! descriptions, as text. (`json` is the form for programs.)

use std::fmt::Write;

use crate::artifact::{Manifest, MemberCheck};
use crate::check::{CheckReport, Difference, State as CheckState};
use crate::dump::DumpOutcome;
use crate::history::Applied;
use crate::ident::QualifiedName;
use crate::load_order::LoadOrder;
use crate::sandbox::SandboxOutcome;

/// `1.2 MiB`-style sizes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Left-aligned text columns; numbers right-aligned.
pub(super) fn columns(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let numeric = i > 0 && cell.chars().next().is_some_and(|c| c.is_ascii_digit());
            if numeric {
                let _ = write!(text, "{cell:>w$}  ");
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(
        &mut out,
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    for row in rows {
        line(&mut out, row);
    }
    out
}

pub fn dump_summary(outcome: &DumpOutcome) -> String {
    let m = &outcome.manifest;
    let rows: Vec<Vec<String>> = m
        .tables
        .iter()
        .map(|t| {
            vec![
                t.name.to_string(),
                t.rows.to_string(),
                human_bytes(t.bytes),
                human_bytes(t.member_bytes),
            ]
        })
        .collect();
    let mut out = columns(&["table", "rows", "data", "stored"], &rows);
    let stored = m
        .tables
        .iter()
        .fold(0u64, |sum, t| sum.saturating_add(t.member_bytes));
    let _ = writeln!(
        out,
        "\nwrote {} ({} tables, {} rows, {} of data, {} stored)",
        outcome.path.display(),
        m.tables.len(),
        m.total_rows(),
        human_bytes(m.total_bytes()),
        human_bytes(stored)
    );
    let _ = writeln!(
        out,
        "read over {} connection{} in {} part{}",
        outcome.connections,
        if outcome.connections == 1 { "" } else { "s" },
        outcome.parts,
        if outcome.parts == 1 { "" } else { "s" },
    );
    let _ = writeln!(out, "checksum {}", outcome.sidecar.display());
    let _ = writeln!(out, "content id {}", m.content_id);
    left_out_section(&mut out, &outcome.left_out);
    out
}

/// The migration bookkeeping tables a selection left out, if any.
fn left_out_section(out: &mut String, left_out: &[QualifiedName]) {
    if !left_out.is_empty() {
        let names: Vec<String> = left_out.iter().map(|t| t.to_string()).collect();
        let _ = writeln!(
            out,
            "left out migration bookkeeping: {} (--include-migration-tables carries them)",
            names.join(", ")
        );
    }
}

/// The one line a restore prints when the history says it is already done.
pub fn already_applied(applied: &Applied) -> String {
    format!(
        "already applied: content id {} (mode {}{}) was applied at {} by {}; nothing to do (--force applies it again)",
        applied.content_id,
        applied.mode,
        applied.label.as_ref().map(|l| format!(", label {l}")).unwrap_or_default(),
        applied.finished_at,
        applied.applied_by
    )
}

/// The history, newest first.
pub fn status(table: &QualifiedName, applied: &[Applied]) -> String {
    if applied.is_empty() {
        return format!("nothing applied yet (no rows in {table})\n");
    }
    let rows: Vec<Vec<String>> = applied
        .iter()
        .map(|a| {
            let rows: u64 = a
                .tables
                .iter()
                .fold(0u64, |sum, t| sum.saturating_add(t.after));
            vec![
                a.finished_at.clone(),
                a.label.clone().unwrap_or_else(|| "-".into()),
                a.mode.to_string(),
                a.content_id[..12.min(a.content_id.len())].to_owned(),
                rows.to_string(),
                a.artifact.clone(),
                format!("{} ({})", a.applied_by, a.client),
            ]
        })
        .collect();
    columns(
        &[
            "applied (UTC)",
            "label",
            "mode",
            "content id",
            "rows",
            "artifact",
            "by",
        ],
        &rows,
    )
}

/// One line per table: equal, differs or missing.
pub fn check(report: &CheckReport) -> String {
    let rows: Vec<Vec<String>> = report
        .tables
        .iter()
        .map(|t| {
            let state = match t.state {
                CheckState::Equal => "equal",
                CheckState::Differs => "differs",
                CheckState::Missing => "missing",
            };
            vec![
                t.table.to_string(),
                state.to_owned(),
                t.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut out = columns(&["table", "state", "detail"], &rows);
    for table in report.tables.iter().filter(|t| !t.differences.is_empty()) {
        let _ = writeln!(out, "\nfirst rows of {} that differ, by key", table.table);
        for row in &table.differences {
            let difference = match row.difference {
                Difference::Missing => "missing",
                Difference::Changed => "changed",
                Difference::Extra => "extra",
            };
            let _ = writeln!(out, "  {difference:<8} {}", row.key);
        }
    }
    let _ = writeln!(out, "content id {}", report.content_id);
    out
}

pub fn verify_summary(
    path: &str,
    checks: &[MemberCheck],
    manifest: &Manifest,
    sidecar: Option<&str>,
) -> String {
    let mut out = String::new();
    let rows = checks
        .iter()
        .filter_map(|c| c.rows)
        .fold(0u64, u64::saturating_add);
    let _ = writeln!(
        out,
        "{path}: ok ({} tables, {rows} rows, every checksum, row count and COPY line verified)",
        checks.len()
    );
    match sidecar {
        Some(sidecar) => {
            let _ = writeln!(out, "whole-file checksum matches {sidecar}");
        }
        None => {
            let _ = writeln!(
                out,
                "no .sha256 sidecar beside it; whole-file checksum not checked"
            );
        }
    }
    let _ = writeln!(out, "content id {}", manifest.content_id);
    out
}

pub fn inspect(manifest: &Manifest) -> String {
    let m = manifest;
    let mut out = inspect_header(m);
    let _ = writeln!(
        out,
        "totals       {} tables, {} rows, {} of data\n",
        m.tables.len(),
        m.total_rows(),
        human_bytes(m.total_bytes())
    );
    let rows: Vec<Vec<String>> = m
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            vec![
                format!("{:>3}", i + 1),
                t.name.to_string(),
                t.rows.to_string(),
                human_bytes(t.bytes),
                human_bytes(t.member_bytes),
                t.data_sha256[..16].to_owned(),
            ]
        })
        .collect();
    out.push_str(&columns(
        &[
            "#",
            "table (restore order)",
            "rows",
            "data",
            "stored",
            "data sha256",
        ],
        &rows,
    ));
    cycles_section(&mut out, &m.self_references, &m.cycles);
    match &m.schema {
        Some(schema) => {
            let _ = writeln!(
                out,
                "\nschema: {} objects{}",
                schema.objects.len(),
                if m.schema_only {
                    " (schema only: no rows)"
                } else {
                    ""
                }
            );
            for warning in &schema.warnings {
                let _ = writeln!(out, "  not carried: {warning}");
            }
        }
        None => out.push_str("\nschema: not carried (data only)\n"),
    }
    if !m.sequences.is_empty() {
        out.push_str("\nsequences\n");
        for s in &m.sequences {
            let _ = writeln!(
                out,
                "  {} last_value {} is_called {}",
                s.name, s.last_value, s.is_called
            );
        }
    }
    out
}

/// Where an artifact comes from, how it is stored, and what identifies it.
fn inspect_header(m: &Manifest) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "database     {}", m.database);
    if let Some(label) = &m.label {
        let _ = writeln!(out, "label        {label}");
    }
    let _ = writeln!(out, "created      {}", m.created_at);
    let _ = writeln!(out, "server       PostgreSQL {}", m.server_version);
    let _ = writeln!(
        out,
        "seedpack     {} (format {})",
        m.seedpack_version, m.format_version
    );
    let _ = writeln!(out, "content id   {}", m.content_id);
    let _ = writeln!(out, "compression  {}", m.compression.name());
    if let Some(statistics) = &m.statistics {
        let _ = writeln!(
            out,
            "statistics   planner statistics of {} relations ({})",
            statistics.relations,
            human_bytes(statistics.bytes)
        );
    }
    out
}

pub fn plan(ordered: &LoadOrder) -> String {
    let mut out = String::from("restore order\n");
    for (i, t) in ordered.tables.iter().enumerate() {
        let _ = writeln!(out, "  {:>3}  {}", i + 1, t.name);
    }
    cycles_section(&mut out, &ordered.self_references, &ordered.cycles);
    if !ordered.left_out.is_empty() {
        out.push('\n');
        left_out_section(&mut out, &ordered.left_out);
    }
    let deferred: Vec<_> = ordered.foreign_keys.iter().filter(|(_, d)| *d).collect();
    if !deferred.is_empty() {
        out.push_str("\nforeign keys no load order satisfies (restore drops and re-adds them)\n");
        for (fk, _) in deferred {
            let _ = writeln!(
                out,
                "  {} on {} -> {}{}",
                fk.name,
                fk.relation,
                fk.referenced,
                if fk.deferrable { " (deferrable)" } else { "" }
            );
        }
    }
    out
}

fn cycles_section(
    out: &mut String,
    self_references: &[QualifiedName],
    cycles: &[Vec<QualifiedName>],
) {
    if !self_references.is_empty() {
        out.push_str("\nself-references\n");
        for t in self_references {
            let _ = writeln!(out, "  {t}");
        }
    }
    if !cycles.is_empty() {
        out.push_str("\ncycles\n");
        for cycle in cycles {
            let names: Vec<String> = cycle.iter().map(|t| t.to_string()).collect();
            let _ = writeln!(out, "  {}", names.join(" <-> "));
        }
    }
}

/// What `sandbox` did, and where the sandbox is (or that it is gone).
pub fn sandbox(outcome: &SandboxOutcome) -> String {
    let mut out = format!(
        "restored {} tables ({} rows) into a throwaway PostgreSQL {}\n\n",
        outcome.tables, outcome.rows, outcome.server_version
    );
    out.push_str(&check(&outcome.check));
    match &outcome.kept {
        Some(kept) => {
            let _ = writeln!(out, "\nsandbox running: {}", outcome.dsn);
            let _ = writeln!(out, "files in {}", kept.directory.display());
            let _ = writeln!(out, "stop it with: {}", kept.stop_command);
        }
        None => {
            let _ = writeln!(
                out,
                "\nthe sandbox was stopped and deleted (--keep leaves it running)"
            );
        }
    }
    out
}
