//! What the database holds, read from pg_catalog into plain data.
//!
//! A *table* here is what a dump stores and a restore loads: an ordinary or
//! partitioned table that is not itself a partition. Its *relations* are the
//! table and, for a partitioned table, every partition below it: triggers and
//! foreign keys live on relations.

mod checks;
mod read;
mod statistics;

pub use read::{
    foreign_keys, leaves, list_tables, qualified, relations, same_columns, sequence_state,
    sequences_for, tables_called, tables_named, triggers, unique_keys, user_schemas,
};

pub use checks::{unvalidated_checks, UnvalidatedCheck};
pub use statistics::{statistics, STATISTICS_VERSION};

use crate::ident::QualifiedName;
use crate::pg::sql::TriggerState;

/// seedpack's own schema: its history and nothing of the application's.
/// Never dumped, compared or cleaned.
pub const OWN_SCHEMA: &str = "seedpack";

/// How every history table's comment starts, wherever `--history-table`
/// put it, so that no dump carries one.
pub const HISTORY_COMMENT: &str = "seedpack history:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// As `format_type` prints it, schema-qualified where needed.
    pub type_name: String,
    pub not_null: bool,
    pub has_default: bool,
    /// A stored generated column: never copied, the server computes it.
    pub generated: bool,
    pub identity: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub oid: u32,
    pub name: QualifiedName,
    pub partitioned: bool,
    /// A plain table with inheritance children (partitions do not count):
    /// its own rows are read, emptied and counted `ONLY`.
    pub has_children: bool,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
}

impl Table {
    /// Columns whose values are stored in an artifact: all but generated ones.
    pub fn stored_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| !c.generated)
    }
}

/// A partition of a partitioned table that holds rows itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The partitioned table (root) it belongs to.
    pub table_oid: u32,
    pub name: QualifiedName,
    /// The session reads it directly as it reads the table: an ordinary
    /// table, selectable, with no row security of its own.
    pub readable: bool,
    /// Its partition constraint, ancestors' bounds included, as the server
    /// prints it.
    pub bound: String,
}

/// A table or one of its partitions.
#[derive(Debug, Clone)]
pub struct Relation {
    pub oid: u32,
    pub name: QualifiedName,
    /// The table (partition root) it belongs to.
    pub table_oid: u32,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    /// The relation the constraint is defined on.
    pub relation: QualifiedName,
    pub relation_oid: u32,
    /// Partition roots of the referencing and referenced relations.
    pub table_oid: u32,
    pub referenced_oid: u32,
    pub referenced: QualifiedName,
    pub columns: Vec<String>,
    /// The referenced table's columns, in the same order.
    pub referenced_columns: Vec<String>,
    /// As `pg_get_constraintdef` prints it: re-adding it restores it exactly.
    pub definition: String,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub comment: Option<String>,
}

/// A trigger, or a rewrite rule: both fire on the load's writes (a
/// `DELETE` that empties a table fires `ON DELETE` rules, a merge's
/// `INSERT` and `UPDATE` theirs), so both are disabled for it and put back.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub relation: QualifiedName,
    pub name: String,
    pub state: TriggerState,
    pub rule: bool,
}
