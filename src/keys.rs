//! Which columns identify a row: `--key TABLE=COL[,COL...]` as the user
//! wrote it, the key a dump recorded in the manifest, or the primary key.
//!
//! Seeds are matched on natural keys (`code`, `slug`, `email`): the ids a
//! seed database generated mean nothing in production, whose sequences
//! gave the same ids to rows of its own.

use crate::artifact::TableEntry;
use crate::error::Error;
use crate::selection::TablePattern;

/// One `--key TABLE=COL[,COL...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChoice {
    pub table: TablePattern,
    pub columns: Vec<String>,
}

impl KeyChoice {
    /// Parse `TABLE=COL[,COL...]`; table names as `--table` takes them,
    /// column names as the catalog spells them (no folding, no quotes).
    pub fn parse(written: &str) -> Result<Self, Error> {
        let usage = || {
            Error::Usage(format!(
                "--key {written:?}: expected TABLE=COLUMN[,COLUMN...], such as country=code"
            ))
        };
        let (table, columns) = written.rsplit_once('=').ok_or_else(usage)?;
        let columns: Vec<String> = columns.split(',').map(|c| c.trim().to_owned()).collect();
        if table.trim().is_empty() || columns.iter().any(String::is_empty) {
            return Err(usage());
        }
        Ok(Self {
            table: TablePattern::parse(table.trim())?,
            columns,
        })
    }
}

/// The columns that identify `entry`'s rows: the user's `--key` for it,
/// else the key the dump recorded, else the primary key; each must be a
/// column the artifact holds. Empty when the table has none of them.
pub fn match_key(choices: &[KeyChoice], entry: &TableEntry) -> Result<Vec<String>, Error> {
    let chosen = choices
        .iter()
        .rev()
        .find(|c| c.table.matches_name(&entry.name))
        .map(|c| c.columns.clone());
    let key = chosen
        .or_else(|| Some(entry.match_key.clone()).filter(|k| !k.is_empty()))
        .unwrap_or_else(|| entry.primary_key.clone());
    if let Some(missing) = key
        .iter()
        .find(|k| !entry.columns.iter().any(|c| &c.name == *k))
    {
        return Err(Error::Usage(format!(
            "key of table {}: the artifact holds no column {missing:?}",
            entry.name
        )));
    }
    Ok(key)
}

/// Every `--key` must name a table the artifact holds: a typo must not
/// quietly fall back to the primary key.
pub fn check_choices(choices: &[KeyChoice], entries: &[TableEntry]) -> Result<(), Error> {
    for choice in choices {
        if !entries.iter().any(|e| choice.table.matches_name(&e.name)) {
            return Err(Error::Usage(format!(
                "--key {}: the artifact holds no such table",
                choice.table.written
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{ColumnEntry, TableKind};
    use crate::ident::QualifiedName;

    fn entry(primary_key: &[&str], recorded: &[&str]) -> TableEntry {
        TableEntry {
            name: QualifiedName::new("public", "country"),
            kind: TableKind::Table,
            columns: ["id", "code", "name"]
                .iter()
                .map(|c| ColumnEntry {
                    name: (*c).into(),
                    type_name: "text".into(),
                })
                .collect(),
            primary_key: primary_key.iter().map(|c| (*c).into()).collect(),
            match_key: recorded.iter().map(|c| (*c).into()).collect(),
            rows: 0,
            bytes: 0,
            data_sha256: String::new(),
            member: String::new(),
            member_bytes: 0,
            member_sha256: String::new(),
            partitions: Vec::new(),
        }
    }

    #[test]
    fn the_users_key_then_the_recorded_one_then_the_primary_key() {
        let choice = KeyChoice::parse("public.country=code,name").unwrap();
        assert_eq!(choice.columns, ["code", "name"]);
        assert_eq!(
            match_key(&[choice], &entry(&["id"], &["code"])).unwrap(),
            ["code", "name"]
        );
        assert_eq!(
            match_key(&[], &entry(&["id"], &["code"])).unwrap(),
            ["code"]
        );
        assert_eq!(match_key(&[], &entry(&["id"], &[])).unwrap(), ["id"]);
        let other = KeyChoice::parse("region=code").unwrap();
        assert_eq!(match_key(&[other], &entry(&["id"], &[])).unwrap(), ["id"]);
    }

    #[test]
    fn bad_keys_are_usage_errors() {
        for written in ["country", "=code", "country=", "country=a,,b"] {
            assert!(KeyChoice::parse(written).is_err(), "{written}");
        }
        let choice = KeyChoice::parse("country=slug").unwrap();
        assert!(match_key(&[choice], &entry(&["id"], &[])).is_err());
        let typo = KeyChoice::parse("contry=code").unwrap();
        assert!(check_choices(&[typo], &[entry(&["id"], &[])]).is_err());
    }
}
