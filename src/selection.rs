//! Which tables a dump or plan covers: `--schema`, `--table`, `--exclude-table`.

use crate::catalog::Table;
use crate::error::Error;
use crate::ident::parse_table_name;

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
        self.name == table.name.name && self.schema.as_ref().is_none_or(|s| *s == table.name.schema)
    }
}

/// The user's choice of tables. Empty lists mean "everything".
#[derive(Debug, Clone, Default)]
pub struct TableSelection {
    pub schemas: Vec<String>,
    pub tables: Vec<TablePattern>,
    pub excluded: Vec<TablePattern>,
}

impl TableSelection {
    /// Keep the chosen tables, in their given order. A `--table` or
    /// `--schema` that matches nothing is a usage error: a typo must not
    /// quietly produce an artifact without the table.
    pub fn apply(&self, all: Vec<Table>) -> Result<Vec<Table>, Error> {
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
        Ok(all
            .into_iter()
            .filter(|t| self.schemas.is_empty() || self.schemas.contains(&t.name.schema))
            .filter(|t| self.tables.is_empty() || self.tables.iter().any(|p| p.matches(t)))
            .filter(|t| !self.excluded.iter().any(|p| p.matches(t)))
            .collect())
    }

    /// Whether the user named tables, so only their own sequences belong.
    pub fn names_tables(&self) -> bool {
        !self.tables.is_empty() || !self.excluded.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::QualifiedName;

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
            names(&sel.apply(all()).unwrap()),
            ["\"a\".\"x\"", "\"a\".\"Y\""]
        );
        let sel = TableSelection {
            tables: vec![TablePattern::parse("x").unwrap()],
            excluded: vec![TablePattern::parse("b.x").unwrap()],
            ..Default::default()
        };
        assert_eq!(names(&sel.apply(all()).unwrap()), ["\"a\".\"x\""]);
        let sel = TableSelection {
            tables: vec![TablePattern::parse("\"Y\"").unwrap()],
            ..Default::default()
        };
        assert_eq!(names(&sel.apply(all()).unwrap()), ["\"a\".\"Y\""]);
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
