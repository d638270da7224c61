//! The schema section of a manifest: the DDL of what an artifact holds, as
//! plain data, in the order it must run.

use serde::{Deserialize, Serialize};

use crate::ident::QualifiedName;

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
    /// A table outside the artifact it needs (a foreign key's referenced
    /// table): created only where the target has that table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<QualifiedName>,
    /// The newest PostgreSQL feature its DDL uses, when newer than 13.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Requirement>,
    /// Roles its DDL names (a policy's `TO`): the target must have them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Only a superuser can create it (a function in an untrusted language
    /// such as C, a base type, an operator class).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superuser: bool,
}

/// A feature a statement needs and the first major that has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// As `server_version_num`: 180000 for PostgreSQL 18.
    pub server_version_num: u32,
    pub feature: String,
}

/// Markers the server's deparsers print for features newer than
/// PostgreSQL 13, with the major that introduced each.
const FEATURES: [(&str, u32, &str); 6] = [
    (" VIRTUAL", 180000, "virtual generated columns"),
    ("NOT ENFORCED", 180000, "NOT ENFORCED constraints"),
    (
        "WITHOUT OVERLAPS",
        180000,
        "temporal keys (WITHOUT OVERLAPS)",
    ),
    ("NULLS NOT DISTINCT", 150000, "NULLS NOT DISTINCT"),
    (
        "BEGIN ATOMIC",
        140000,
        "SQL-standard function bodies (BEGIN ATOMIC)",
    ),
    ("multirange", 140000, "multirange types"),
];

impl SchemaObject {
    /// An object with its requirement found in its DDL. Comment statements
    /// are not looked at: a comment may say anything.
    pub fn new(kind: ObjectKind, name: String, table: Option<QualifiedName>, sql: String) -> Self {
        let ddl: String = sql
            .split('\n')
            .filter(|line| !line.starts_with("COMMENT ON "))
            .collect::<Vec<_>>()
            .join("\n");
        let requires = FEATURES
            .iter()
            .filter(|(marker, _, _)| ddl.contains(marker))
            .max_by_key(|(_, version, _)| *version)
            .map(|(_, version, feature)| Requirement {
                server_version_num: *version,
                feature: (*feature).to_owned(),
            });
        Self {
            kind,
            name,
            table,
            sql,
            needs: None,
            requires,
            roles: Vec::new(),
            superuser: false,
        }
    }

    /// The same object, which only a superuser can create when `superuser`.
    pub fn for_superuser(mut self, superuser: bool) -> Self {
        self.superuser = superuser;
        self
    }

    /// The same object, naming `roles`.
    pub fn naming_roles(mut self, roles: Vec<String>) -> Self {
        self.roles = roles;
        self
    }

    /// The same object, needing `table`, which the artifact does not hold.
    pub fn needing(self, table: QualifiedName) -> Self {
        Self {
            needs: Some(table),
            ..self
        }
    }
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
    Operator,
    OperatorClass,
    OperatorFamily,
    Cast,
    Transform,
    Collation,
    Conversion,
    TextSearchParser,
    TextSearchTemplate,
    TextSearchDictionary,
    TextSearchConfiguration,
    AccessMethod,
    Sequence,
    Table,
    Partition,
    SequenceOwner,
    Constraint,
    Index,
    ForeignKey,
    Trigger,
    /// A rule on a table (`CREATE RULE`); a view's rules go with the view.
    Rule,
    /// A row-level security policy, or a table's row security switched on.
    Policy,
    /// An extended statistics object, or a table's replica identity.
    Statistics,
    View,
    MaterializedView,
    /// Privileges granted on one object (or by default in one schema) to
    /// one grantee, applied only by `restore --privileges`.
    Grant,
    /// Created last, so that none fires on the restore's own DDL.
    EventTrigger,
}

/// Before the data (the shapes data goes into) or after it (what checks,
/// indexes or reacts to data, which is faster to build once it is loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    PreData,
    PostData,
}

impl ObjectKind {
    /// As messages name it: `foreign key`, `materialized view`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Schema => "schema",
            Self::Extension => "extension",
            Self::Type => "type",
            Self::Function => "function",
            Self::Operator => "operator",
            Self::OperatorClass => "operator class",
            Self::OperatorFamily => "operator family",
            Self::Cast => "cast",
            Self::Transform => "transform",
            Self::Collation => "collation",
            Self::Conversion => "conversion",
            Self::TextSearchParser => "text search parser",
            Self::TextSearchTemplate => "text search template",
            Self::TextSearchDictionary => "text search dictionary",
            Self::TextSearchConfiguration => "text search configuration",
            Self::AccessMethod => "access method",
            Self::Sequence => "sequence",
            Self::Table => "table",
            Self::Partition => "partition",
            Self::SequenceOwner => "sequence owner",
            Self::Constraint => "constraint",
            Self::Index => "index",
            Self::ForeignKey => "foreign key",
            Self::Trigger => "trigger",
            Self::Rule => "rule",
            Self::Policy => "policy",
            Self::Statistics => "statistics",
            Self::View => "view",
            Self::MaterializedView => "materialized view",
            Self::Grant => "grant",
            Self::EventTrigger => "event trigger",
        }
    }

    pub fn phase(self) -> Phase {
        match self {
            Self::Schema
            | Self::Extension
            | Self::Type
            | Self::Function
            | Self::Operator
            | Self::OperatorClass
            | Self::OperatorFamily
            | Self::Cast
            | Self::Transform
            | Self::Collation
            | Self::Conversion
            | Self::TextSearchParser
            | Self::TextSearchTemplate
            | Self::TextSearchDictionary
            | Self::TextSearchConfiguration
            | Self::AccessMethod
            | Self::Sequence
            | Self::Table
            | Self::Partition
            | Self::SequenceOwner => Phase::PreData,
            Self::Constraint
            | Self::Index
            | Self::ForeignKey
            | Self::Trigger
            | Self::Rule
            | Self::Policy
            | Self::Statistics
            | Self::View
            | Self::MaterializedView
            | Self::Grant
            | Self::EventTrigger => Phase::PostData,
        }
    }
}

impl SchemaSection {
    pub fn phase(&self, phase: Phase) -> impl Iterator<Item = &SchemaObject> {
        self.objects.iter().filter(move |o| o.kind.phase() == phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(sql: &str) -> SchemaObject {
        SchemaObject::new(ObjectKind::Table, "public.t".into(), None, sql.into())
    }

    #[test]
    fn finds_the_newest_feature_a_statement_needs() {
        assert_eq!(object("CREATE TABLE public.t (a int);").requires, None);
        let both = object(
            "CREATE TABLE public.t (a int, b int GENERATED ALWAYS AS (a) VIRTUAL, UNIQUE NULLS NOT DISTINCT (a));",
        );
        let requirement = both.requires.expect("a requirement");
        assert_eq!(requirement.server_version_num, 180000);
        assert_eq!(requirement.feature, "virtual generated columns");
    }

    #[test]
    fn labels_are_the_serialized_names_in_words() {
        for kind in [
            ObjectKind::ForeignKey,
            ObjectKind::OperatorClass,
            ObjectKind::TextSearchConfiguration,
            ObjectKind::MaterializedView,
            ObjectKind::Schema,
        ] {
            let serialized = serde_json::to_value(kind).unwrap();
            assert_eq!(serialized.as_str().unwrap().replace('_', " "), kind.label());
        }
    }

    #[test]
    fn comments_do_not_count() {
        let commented = object(
            "CREATE TABLE public.t (a int);\nCOMMENT ON TABLE public.t IS 'NOT ENFORCED anywhere';",
        );
        assert_eq!(commented.requires, None);
    }
}
