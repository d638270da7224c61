//! The schema section of a manifest: the DDL of what an artifact holds, as
//! plain data, in the order it must run.

use serde::{Deserialize, Serialize};

use crate::pg::QualifiedName;

/// The DDL an artifact carries, and what it could not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSection {
    /// In creation order: all pre-data objects first, then all post-data ones.
    pub objects: Vec<SchemaObject>,
    /// Objects the dump saw but cannot carry, each a sentence naming it.
    pub warnings: Vec<String>,
}

/// One object's DDL: one or more statements, its comments included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaObject {
    pub kind: ObjectKind,
    /// Its identity as SQL: a schema name; a quoted qualified name (types,
    /// relations); a quoted name with argument types (functions).
    pub name: String,
    /// The artifact table it is or belongs to: created exactly when that
    /// table is. Objects without one are created when the target lacks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<QualifiedName>,
    pub sql: String,
}

/// What kind of object, which decides when it runs and how a restore tells
/// whether the target already has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Schema,
    Extension,
    Type,
    Function,
    Sequence,
    Table,
    Partition,
    SequenceOwner,
    Constraint,
    Index,
    ForeignKey,
    Trigger,
    View,
    MaterializedView,
}

/// Before the data (the shapes data goes into) or after it (what checks,
/// indexes or reacts to data, which is faster to build once it is loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    PreData,
    PostData,
}

impl ObjectKind {
    pub fn phase(self) -> Phase {
        match self {
            Self::Schema
            | Self::Extension
            | Self::Type
            | Self::Function
            | Self::Sequence
            | Self::Table
            | Self::Partition
            | Self::SequenceOwner => Phase::PreData,
            Self::Constraint
            | Self::Index
            | Self::ForeignKey
            | Self::Trigger
            | Self::View
            | Self::MaterializedView => Phase::PostData,
        }
    }
}

impl SchemaSection {
    pub fn phase(&self, phase: Phase) -> impl Iterator<Item = &SchemaObject> {
        self.objects.iter().filter(move |o| o.kind.phase() == phase)
    }
}
