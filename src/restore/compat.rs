//! Whether a target table can take an artifact table's data. Pure.

use crate::artifact::TableEntry;
use crate::catalog::Table;
use crate::error::Error;

/// Check every column the artifact holds against the target table, and
/// every target column the artifact lacks. The first problem is returned,
/// naming table and column.
pub fn check_columns(entry: &TableEntry, target: &Table) -> Result<(), Error> {
    let problem = |column: &str, detail: String| Error::IncompatibleColumn {
        table: entry.name.to_string(),
        column: column.to_owned(),
        detail,
    };
    for column in &entry.columns {
        let Some(found) = target.columns.iter().find(|c| c.name == column.name) else {
            return Err(problem(&column.name, "is missing from the target".into()));
        };
        if found.generated {
            return Err(problem(
                &column.name,
                "is a generated column in the target, but the artifact holds its values".into(),
            ));
        }
        if found.type_name != column.type_name {
            return Err(problem(
                &column.name,
                format!(
                    "has type {} in the target but {} in the artifact",
                    found.type_name, column.type_name
                ),
            ));
        }
    }
    for column in &target.columns {
        let in_artifact = entry.columns.iter().any(|c| c.name == column.name);
        if !in_artifact
            && !column.generated
            && column.not_null
            && !column.has_default
            && !column.identity
        {
            return Err(problem(
                &column.name,
                "is NOT NULL without a default in the target and absent from the artifact".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::ColumnEntry;
    use crate::catalog::Column;
    use crate::ident::QualifiedName;

    fn entry(columns: &[(&str, &str)]) -> TableEntry {
        TableEntry {
            name: QualifiedName::new("public", "t"),
            kind: crate::artifact::TableKind::Table,
            columns: columns
                .iter()
                .map(|(n, t)| ColumnEntry {
                    name: (*n).into(),
                    type_name: (*t).into(),
                })
                .collect(),
            primary_key: vec![],
            match_key: vec![],
            rows: 0,
            bytes: 0,
            data_sha256: String::new(),
            member: String::new(),
            member_bytes: 0,
            member_sha256: String::new(),
            partitions: Vec::new(),
        }
    }

    fn column(name: &str, type_name: &str) -> Column {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            not_null: false,
            has_default: false,
            generated: false,
            identity: false,
        }
    }

    fn table(columns: Vec<Column>) -> Table {
        Table {
            oid: 1,
            name: QualifiedName::new("public", "t"),
            partitioned: false,
            has_children: false,
            columns,
            primary_key: vec![],
        }
    }

    fn detail(r: Result<(), Error>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn same_columns_pass_and_extra_nullable_columns_are_fine() {
        let e = entry(&[("id", "integer")]);
        let t = table(vec![column("id", "integer"), column("note", "text")]);
        assert!(check_columns(&e, &t).is_ok());
    }

    #[test]
    fn names_the_missing_or_changed_column() {
        let e = entry(&[("id", "integer"), ("name", "text")]);
        let t = table(vec![column("id", "integer")]);
        assert!(detail(check_columns(&e, &t)).contains("column name is missing"));
        let t = table(vec![column("id", "bigint"), column("name", "text")]);
        assert!(detail(check_columns(&e, &t)).contains("has type bigint in the target but integer"));
    }

    #[test]
    fn refuses_required_columns_the_artifact_lacks() {
        let e = entry(&[("id", "integer")]);
        let mut required = column("code", "text");
        required.not_null = true;
        let t = table(vec![column("id", "integer"), required]);
        assert!(detail(check_columns(&e, &t)).contains("column code is NOT NULL"));
    }
}
