//! The human form of what a restore reports: the preview before the
//! question, and the summary after the commit.

use std::fmt::Write;

use super::text::columns;
use crate::history::TableCounts;
use crate::pg::ConnectionTarget;
use crate::restore::{RestoreOutcome, Statistics, ANALYZE_MIN_ROWS};

/// The tables a restore would replace, with their row counts now and after.
/// `before` labels the current counts: "rows now" before, "rows before" after.
/// A table the target lacks shows as "(new)".
pub fn restore_preview(target: &ConnectionTarget, tables: &[TableCounts], before: &str) -> String {
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|c| vec![c.table.to_string(), rows_before(c), c.after.to_string()])
        .collect();
    format!(
        "target: host {} port {} database {} user {}\n{}",
        target.host(),
        target.port(),
        target.database(),
        target.user(),
        columns(&["table", before, "rows after"], &rows)
    )
}

pub fn restore_summary(outcome: &RestoreOutcome, target: &ConnectionTarget) -> String {
    let mut out = match outcome.dry_run {
        true => restore_preview(target, &outcome.tables, "rows now"),
        false => changes(outcome, target),
    };
    let m = &outcome.manifest;
    let data = if outcome.loads_data {
        format!("{} tables with {} rows", m.tables.len(), m.total_rows())
    } else {
        "no data (schema only)".to_owned()
    };
    if outcome.dry_run {
        let _ = writeln!(
            out,
            "\ndry run: checks passed; would create {} schema objects and load {data} (content id {}); nothing was written",
            outcome.created, m.content_id
        );
    } else {
        let _ = writeln!(
            out,
            "\nrestored in one transaction: created {} schema objects, loaded {data} (content id {})",
            outcome.created, m.content_id
        );
        if let Some(line) = statistics(&outcome.statistics) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The target and each table's rows before and after, and what changed.
fn changes(outcome: &RestoreOutcome, target: &ConnectionTarget) -> String {
    let rows: Vec<Vec<String>> = outcome
        .tables
        .iter()
        .map(|c| {
            vec![
                c.table.to_string(),
                rows_before(c),
                c.inserted.to_string(),
                c.updated.to_string(),
                c.deleted.to_string(),
                c.after.to_string(),
            ]
        })
        .collect();
    let headers = [
        "table",
        "rows before",
        "inserted",
        "updated",
        "deleted",
        "rows after",
    ];
    format!(
        "target: host {} port {} database {} user {} (mode {})\n{}",
        target.host(),
        target.port(),
        target.database(),
        target.user(),
        outcome.mode.as_str(),
        columns(&headers, &rows)
    )
}

/// What the restore did for the planner, when it did something.
fn statistics(statistics: &Statistics) -> Option<String> {
    match statistics {
        Statistics::Carried(relations) => Some(format!(
            "planner statistics set as the source had them on {relations} relations"
        )),
        Statistics::Analyzed(tables) if *tables > 0 => Some(format!(
            "analyzed {tables} tables of {ANALYZE_MIN_ROWS} rows or more"
        )),
        Statistics::Refused { reason, analyzed } => Some(format!(
            "the server refused the artifact's planner statistics ({reason}); analyzed \
             {analyzed} tables of {ANALYZE_MIN_ROWS} rows or more instead"
        )),
        _ => None,
    }
}

/// A table's rows before a restore; "(new)" for one the restore creates.
fn rows_before(counts: &TableCounts) -> String {
    counts
        .before
        .map_or_else(|| "(new)".to_owned(), |n| n.to_string())
}
