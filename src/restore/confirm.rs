//! The question a restore asks before it writes, as a trait: the restore
//! engine says what it is about to do; whoever runs it answers (a prompt on
//! the terminal, or `--yes`, or a sandbox that always agrees).

use std::future::Future;

use anyhow::Result;

use crate::history::TableCounts;
use crate::pg::ConnectionTarget;

/// What a restore is about to do to a target's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    DropAndRecreate,
    CreateSchema,
    Replace,
    Upsert,
    InsertMissing,
}

/// Everything the question shows: where, what, and each table's rows now
/// and after (`before` is `None` for a table the restore creates).
#[derive(Debug)]
pub struct Request<'a> {
    pub target: &'a ConnectionTarget,
    pub action: Action,
    pub tables: &'a [TableCounts],
    /// What the restore will do at a cost worth knowing (an exclusive lock).
    pub notes: &'a [String],
}

/// Answers a restore's question. `Ok` goes ahead; an error (a refusal,
/// exit 3) rolls back, having written nothing.
pub trait Confirm {
    fn confirm(&self, request: &Request<'_>) -> impl Future<Output = Result<()>>;
}

/// Always goes ahead: `--yes`, and restores nobody watches (`sandbox`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Agree;

impl Confirm for Agree {
    async fn confirm(&self, _: &Request<'_>) -> Result<()> {
        Ok(())
    }
}
