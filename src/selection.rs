//! Which tables a dump or plan covers: `--schema`, `--table`,
//! `--exclude-table`, and the migration tools' bookkeeping tables, left out
//! unless asked for (`--include-migration-tables`, or named by `--table`).

use crate::catalog::Table;
use crate::error::Error;
use crate::ident::{parse_table_name, QualifiedName};

/// The tables migration tools record applied migrations in, by name in any
/// schema: Rails, Ecto, dbmate and golang-migrate (`schema_migrations`),
/// Rails (`ar_internal_metadata`), goose, Prisma, Flyway, Knex, Alembic,
/// Django, sqlx, Diesel and Atlas. A seed that carried one would overwrite
/// the target's migration state.
pub const MIGRATION_TABLES: [&str; 12] = [
    "schema_migrations",
    "ar_internal_metadata",
    "goose_db_version",
    "_prisma_migrations",
    "flyway_schema_history",
    "knex_migrations",
    "knex_migrations_lock",
    "alembic_version",
    "django_migrations",
    "_sqlx_migrations",
    "__diesel_schema_migrations",
    "atlas_schema_revisions",
];

/// Whether `table` is a migration tool's bookkeeping table.
pub fn is_migration_table(table: &QualifiedName) -> bool {
    MIGRATION_TABLES.contains(&table.name.as_str())
}

/// A table name as the user wrote it, parsed: schema optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePattern {
    pub schema: Option<String>,
    pub name: String,
    pub written: String,
}

impl TablePattern {
    pub fn parse(written: &str) -> Result<Self, Error> {
        let (schema, name) = parse_table_name(written).map_err(Error::Usage)?;
        Ok(Self {
            schema,
            name,
            written: written.to_owned(),
        })
    }

    fn matches(&self, table: &Table) -> bool {
        self.matches_name(&table.name)
    }

    /// Whether this pattern names `table` (any schema when it names none).
    pub fn matches_name(&self, table: &QualifiedName) -> bool {
        self.name == table.name && self.schema.as_ref().is_none_or(|s| *s == table.schema)
    }
}

/// The user's choice of tables. Empty lists mean "everything".
#[derive(Debug, Clone, Default)]
pub struct TableSelection {
    pub schemas: Vec<String>,
    pub tables: Vec<TablePattern>,
    pub excluded: Vec<TablePattern>,
    /// Cover migration bookkeeping tables too.
    pub include_migration_tables: bool,
}

/// The tables a selection covers, and the migration tables it left out.
#[derive(Debug)]
pub struct Selected {
    pub tables: Vec<Table>,
    pub left_out: Vec<QualifiedName>,
}

impl TableSelection {
    /// Keep the chosen tables, in their given order. A `--table` or
    /// `--schema` that matches nothing is a usage error: a typo must not
    /// quietly produce an artifact without the table.
    pub fn apply(&self, all: Vec<Table>) -> Result<Selected, Error> {
        for schema in &self.schemas {
            if !all.iter().any(|t| t.name.schema == *schema) {
                return Err(Error::Usage(format!("no table found in schema {schema:?}")));
            }
        }
        for pattern in &self.tables {
            if !all.iter().any(|t| pattern.matches(t)) {
                return Err(Error::Usage(format!(
                    "no table matches --table {}",
                    pattern.written
                )));
            }
        }
        let chosen = all
            .into_iter()
            .filter(|t| self.schemas.is_empty() || self.schemas.contains(&t.name.schema))
            .filter(|t| self.tables.is_empty() || self.tables.iter().any(|p| p.matches(t)))
            .filter(|t| !self.excluded.iter().any(|p| p.matches(t)));
        let (left_out, tables): (Vec<Table>, Vec<Table>) = chosen.partition(|t| {
            is_migration_table(&t.name)
                && !self.include_migration_tables
                && !self.tables.iter().any(|p| p.matches(t))
        });
        Ok(Selected {
            tables,
            left_out: left_out.into_iter().map(|t| t.name).collect(),
        })
    }

    /// Whether schemas are dumped whole (no `--table`): every function and
    /// type in them travels, not only what the tables use.
    pub fn whole_schemas(&self) -> bool {
        self.tables.is_empty()
    }

    /// Whether the user named tables, so only their own sequences belong.
    pub fn names_tables(&self) -> bool {
        !self.tables.is_empty() || !self.excluded.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(schema: &str, name: &str) -> Table {
        Table {
            oid: 0,
            name: QualifiedName::new(schema, name),
            partitioned: false,
            has_children: false,
            columns: Vec::new(),
            primary_key: Vec::new(),
        }
    }

    fn names(tables: &[Table]) -> Vec<String> {
        tables.iter().map(|t| t.name.to_string()).collect()
    }

    #[test]
    fn filters_by_schema_table_and_exclusion() {
        let all = || vec![table("a", "x"), table("a", "Y"), table("b", "x")];
        let sel = TableSelection {
            schemas: vec!["a".into()],
            ..Default::default()
        };
        assert_eq!(
            names(&sel.apply(all()).unwrap().tables),
            ["\"a\".\"x\"", "\"a\".\"Y\""]
        );
        let sel = TableSelection {
            tables: vec![TablePattern::parse("x").unwrap()],
            excluded: vec![TablePattern::parse("b.x").unwrap()],
            ..Default::default()
        };
        assert_eq!(names(&sel.apply(all()).unwrap().tables), ["\"a\".\"x\""]);
        let sel = TableSelection {
            tables: vec![TablePattern::parse("\"Y\"").unwrap()],
            ..Default::default()
        };
        assert_eq!(names(&sel.apply(all()).unwrap().tables), ["\"a\".\"Y\""]);
    }

    #[test]
    fn migration_tables_are_left_out_unless_asked_for() {
        let all = || {
            vec![
                table("public", "schema_migrations"),
                table("public", "users"),
                table("atlas_schema_revisions", "atlas_schema_revisions"),
            ]
        };
        let default = TableSelection::default().apply(all()).unwrap();
        assert_eq!(names(&default.tables), ["\"public\".\"users\""]);
        assert_eq!(default.left_out.len(), 2);
        let included = TableSelection {
            include_migration_tables: true,
            ..Default::default()
        };
        assert_eq!(included.apply(all()).unwrap().tables.len(), 3);
        let named = TableSelection {
            tables: vec![TablePattern::parse("schema_migrations").unwrap()],
            ..Default::default()
        };
        let named = named.apply(all()).unwrap();
        assert_eq!(names(&named.tables), ["\"public\".\"schema_migrations\""]);
        assert!(named.left_out.is_empty());
    }

    #[test]
    fn unmatched_names_are_usage_errors() {
        let sel = TableSelection {
            tables: vec![TablePattern::parse("nope").unwrap()],
            ..Default::default()
        };
        assert!(matches!(
            sel.apply(vec![table("a", "x")]),
            Err(Error::Usage(_))
        ));
    }
}
