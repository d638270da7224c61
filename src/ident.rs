//! Identifier quoting: the one helper through which every identifier reaches SQL.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Quote an identifier for SQL, always, whatever its spelling.
///
/// Quoting every identifier (rather than only those that need it) keeps
/// mixed case, keywords, dots, spaces and quotes safe with one rule.
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Quote a string literal for SQL text that runs with
/// `standard_conforming_strings = on` (every session and script seedpack
/// writes sets it): double the single quotes; backslashes are ordinary.
/// Only for DDL text, which takes no parameters; values sent with data are
/// always bind parameters.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A schema-qualified relation name, as the catalog spells it (unquoted).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// The name quoted for SQL: `"schema"."name"`.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

/// Displays as SQL would need it, so messages name tables unambiguously.
impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.quoted())
    }
}

/// Parse a user-written table name: `table`, `schema.table`, with `"..."`
/// quoting for names holding dots or capitals. Unquoted parts fold to lower
/// case, as PostgreSQL folds them. Returns (schema, table).
pub fn parse_table_name(input: &str) -> Result<(Option<String>, String), String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = input.chars().peekable();
    let mut quoted_part = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted_part = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            current.push('"');
                        }
                        Some('"') => break,
                        Some(other) => current.push(other),
                        None => return Err(format!("unterminated quote in table name {input}")),
                    }
                }
            }
            '.' => {
                parts.push(std::mem::take(&mut current));
                quoted_part = false;
            }
            other if quoted_part => {
                return Err(format!(
                    "unexpected {other:?} after a quoted part in table name {input}"
                ))
            }
            other => current.extend(other.to_lowercase()),
        }
    }
    parts.push(current);
    if parts.iter().any(String::is_empty) {
        return Err(format!("empty part in table name {input:?}"));
    }
    match parts.len() {
        1 => Ok((None, parts.remove(0))),
        2 => {
            let table = parts.pop().unwrap_or_default();
            Ok((parts.pop(), table))
        }
        _ => Err(format!("table name {input:?} has more than two parts")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_identifier_and_doubles_quotes() {
        assert_eq!(quote_ident("users"), "\"users\"");
        assert_eq!(quote_ident("we\"ird.na me"), "\"we\"\"ird.na me\"");
        assert_eq!(QualifiedName::new("a.b", "Ü").quoted(), "\"a.b\".\"Ü\"");
    }

    #[test]
    fn quotes_literals_for_standard_strings() {
        assert_eq!(quote_literal("it's \\ fine"), "'it''s \\ fine'");
    }

    #[test]
    fn parses_user_table_names() {
        assert_eq!(parse_table_name("Users"), Ok((None, "users".into())));
        assert_eq!(
            parse_table_name("app.\"Order.Items\""),
            Ok((Some("app".into()), "Order.Items".into()))
        );
        assert_eq!(parse_table_name("\"a\"\"b\""), Ok((None, "a\"b".into())));
        assert!(parse_table_name("a.b.c").is_err());
        assert!(parse_table_name("\"open").is_err());
        assert!(parse_table_name("a.").is_err());
    }
}
