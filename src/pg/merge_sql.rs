//! The statements `upsert` and `insert-missing` run: staging an artifact
//! table, translating foreign-key values from the seed's to the target's,
//! merging on a key, and filling references afterwards. Identifiers come
//! quoted through `crate::ident`; nothing here takes a value but as a
//! bind parameter.

use crate::ident::{quote_ident, QualifiedName};

fn list(alias: Option<&str>, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| match alias {
            Some(alias) => format!("{alias}.{}", quote_ident(c)),
            None => quote_ident(c),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `a.k1 = b.k1 AND ...` over pairs of columns: plain equality, so that the
/// key's unique index and hash joins serve it (a NULL key matches nothing,
/// as it conflicts with nothing in a unique index).
fn same(left: &str, left_columns: &[&str], right: &str, right_columns: &[&str]) -> String {
    left_columns
        .iter()
        .zip(right_columns)
        .map(|(l, r)| format!("{left}.{} = {right}.{}", quote_ident(l), quote_ident(r)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A temporary table shaped like `table`'s `columns` (no constraints,
/// generated columns as plain ones), dropped at commit.
pub fn create_stage(stage: &QualifiedName, table: &QualifiedName, columns: &[&str]) -> String {
    format!(
        "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM ONLY {} WITH NO DATA",
        quote_ident(&stage.name),
        list(None, columns),
        table.quoted()
    )
}

/// A temporary table for the keys of the rows a merge inserted or changed.
pub fn create_touched(touched: &QualifiedName, stage: &QualifiedName, key: &[&str]) -> String {
    format!(
        "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA",
        quote_ident(&touched.name),
        list(None, key),
        stage.quoted()
    )
}

/// The seed's values of `parent`'s kept columns (`seed_0`...) beside the
/// target's (`target_0`...), row for row, matched through the key.
fn mapping(parent: &Side, kept: &[&str]) -> String {
    let seed: Vec<String> = kept
        .iter()
        .enumerate()
        .map(|(i, c)| format!("ps.{} AS seed_{i}", quote_ident(c)))
        .collect();
    let target: Vec<String> = kept
        .iter()
        .enumerate()
        .map(|(i, c)| format!("p.{} AS target_{i}", quote_ident(c)))
        .collect();
    format!(
        "SELECT {}, {} FROM {} AS ps JOIN {} AS p ON {}",
        seed.join(", "),
        target.join(", "),
        parent.stage.quoted(),
        parent.table.quoted(),
        same("ps", parent.key, "p", parent.key)
    )
}

/// A merged table: itself, its stage, its key.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub table: &'a QualifiedName,
    pub stage: &'a QualifiedName,
    pub key: &'a [&'a str],
}

/// Rewrite a child's staged foreign-key `columns` from the seed's values of
/// `parent`'s `kept` columns to the target's.
pub fn translate_stage(child: &Side, columns: &[&str], parent: &Side, kept: &[&str]) -> String {
    let values: Vec<String> = (0..columns.len())
        .map(|i| format!("m.target_{i}"))
        .collect();
    let matched: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("s.{} = m.seed_{i}", quote_ident(c)))
        .collect();
    format!(
        "UPDATE {} AS s SET ({}) = ROW({}) FROM ({}) AS m WHERE {}",
        child.stage.quoted(),
        list(None, columns),
        values.join(", "),
        mapping(parent, kept),
        matched.join(" AND ")
    )
}

/// What one table's merge inserts and updates.
#[derive(Debug, Clone, Copy)]
pub struct MergeRows<'a> {
    pub side: Side<'a>,
    pub touched: &'a QualifiedName,
    /// Columns inserted (the artifact's, less the target's own key values).
    pub insert: &'a [&'a str],
    /// Inserted empty, filled later.
    pub empty: &'a [&'a str],
    /// Columns a matched row gets the seed's values of (upsert); none:
    /// matched rows are left alone (insert-missing).
    pub update: &'a [&'a str],
}

/// Merge the staged rows on the key; the keys of rows inserted or changed
/// go into the touched table, whose count is the statement's row count.
/// Rows the target has are updated first, and only rows it lacks are
/// inserted, so a sequence default is drawn for new rows only; `ON
/// CONFLICT` covers rows another session inserts meanwhile.
pub fn merge_rows(m: &MergeRows) -> String {
    let selected: Vec<String> = m
        .insert
        .iter()
        .map(|c| match m.empty.contains(c) {
            true => "NULL".to_owned(),
            false => format!("s.{}", quote_ident(c)),
        })
        .collect();
    let table = m.side.table.quoted();
    let stage = m.side.stage.quoted();
    let returned = list(Some("t"), m.side.key);
    let (updated, action) = if m.update.is_empty() {
        (String::new(), "DO NOTHING".to_owned())
    } else {
        let excluded = list(Some("EXCLUDED"), m.update);
        let staged = list(Some("s"), m.update);
        let current = list(Some("t"), m.update);
        (
            format!(
                "updated AS (
             UPDATE {table} AS t SET ({columns}) = ROW({staged}) FROM {stage} AS s
             WHERE {same_key} AND ROW({current})::text IS DISTINCT FROM ROW({staged})::text
             RETURNING {returned}),
         ",
                columns = list(None, m.update),
                same_key = same("t", m.side.key, "s", m.side.key),
            ),
            format!(
                "DO UPDATE SET ({}) = ROW({excluded}) WHERE ROW({current})::text IS DISTINCT FROM ROW({excluded})::text",
                list(None, m.update),
            ),
        )
    };
    let from_updated = match updated.is_empty() {
        true => String::new(),
        false => " UNION ALL SELECT * FROM updated".to_owned(),
    };
    format!(
        "WITH {updated}inserted AS (
             INSERT INTO {table} AS t ({insert}) OVERRIDING SYSTEM VALUE
             SELECT {selected} FROM {stage} AS s
             WHERE NOT EXISTS (SELECT 1 FROM {table} AS x WHERE {absent})
             ON CONFLICT ({key}) {action}
             RETURNING {returned})
         INSERT INTO {touched} SELECT * FROM inserted{from_updated}",
        insert = list(None, m.insert),
        selected = selected.join(", "),
        absent = same("x", m.side.key, "s", m.side.key),
        key = list(None, m.side.key),
        touched = m.touched.quoted(),
    )
}

/// Set a child's foreign-key `columns` to the seed's values, translated
/// through `parent` when `kept` is given, where they differ: on the rows
/// the artifact holds, or (`touched_only`) on those the merge touched. The
/// keys of rows it changes join the touched ones.
pub fn fill_references(
    child: &Side,
    touched: &QualifiedName,
    columns: &[&str],
    parent: Option<(&Side, &[&str])>,
    touched_only: bool,
) -> String {
    let (join, values): (String, Vec<String>) = match parent {
        Some((parent, kept)) => {
            let matched: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("s.{} = m.seed_{i}", quote_ident(c)))
                .collect();
            let values = columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("COALESCE(m.target_{i}, s.{})", quote_ident(c)))
                .collect();
            (
                format!(
                    " LEFT JOIN ({}) AS m ON {}",
                    mapping(parent, kept),
                    matched.join(" AND ")
                ),
                values,
            )
        }
        None => (
            String::new(),
            columns
                .iter()
                .map(|c| format!("s.{}", quote_ident(c)))
                .collect(),
        ),
    };
    let src_values: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{v} AS value_{i}"))
        .collect();
    let set_values: Vec<String> = (0..columns.len())
        .map(|i| format!("src.value_{i}"))
        .collect();
    let only_touched = match touched_only {
        true => format!(
            " AND EXISTS (SELECT 1 FROM {} AS tc WHERE {})",
            touched.quoted(),
            same("tc", child.key, "t", child.key)
        ),
        false => String::new(),
    };
    format!(
        "WITH filled AS (
             UPDATE {table} AS t SET ({columns}) = ROW({set_values})
             FROM (SELECT {key}, {src_values} FROM {stage} AS s{join}) AS src
             WHERE {same_key}{only_touched}
               AND ROW({current})::text IS DISTINCT FROM ROW({set_values})::text
             RETURNING {returned})
         INSERT INTO {touched} SELECT * FROM filled AS f
         WHERE NOT EXISTS (SELECT 1 FROM {touched} AS tc WHERE {touched_key})",
        table = child.table.quoted(),
        columns = list(None, columns),
        set_values = set_values.join(", "),
        key = list(Some("s"), child.key),
        src_values = src_values.join(", "),
        stage = child.stage.quoted(),
        same_key = same("t", child.key, "src", child.key),
        current = list(Some("t"), columns),
        returned = list(Some("t"), child.key),
        touched = touched.quoted(),
        touched_key = same("tc", child.key, "f", child.key),
    )
}

/// How many rows a merge touched.
pub fn count_touched(touched: &QualifiedName) -> String {
    format!("SELECT count(*) FROM {}", touched.quoted())
}

/// Defer these constraints (`schema`, `name`) to the commit.
pub fn defer(constraints: &[(&str, &str)]) -> String {
    let names: Vec<String> = constraints
        .iter()
        .map(|(schema, name)| format!("{}.{}", quote_ident(schema), quote_ident(name)))
        .collect();
    format!("SET CONSTRAINTS {} DEFERRED", names.join(", "))
}

/// Move `sequence` forward to ($1 last value, $2 is_called) when it is
/// behind, never back; `setval` is not transactional and holds no lock
/// until the commit, so writers using the sequence never wait for the merge.
pub fn sequence_forward(sequence: &QualifiedName) -> String {
    format!(
        "SELECT pg_catalog.setval({literal}::regclass, $1, $2) FROM {table} \
         WHERE (last_value, is_called) < ($1, $2)",
        literal = crate::ident::quote_literal(&sequence.quoted()),
        table = sequence.quoted()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_on_the_key_and_keeps_the_targets_ids() {
        let table = QualifiedName::new("public", "country");
        let stage = QualifiedName::new("pg_temp", "s1");
        let touched = QualifiedName::new("pg_temp", "t1");
        let sql = merge_rows(&MergeRows {
            side: Side {
                table: &table,
                stage: &stage,
                key: &["code"],
            },
            touched: &touched,
            insert: &["code", "name", "region_id"],
            empty: &["region_id"],
            update: &["name", "region_id"],
        });
        assert!(
            sql.contains(
                "INSERT INTO \"public\".\"country\" AS t (\"code\", \"name\", \"region_id\")"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("SELECT s.\"code\", s.\"name\", NULL FROM"),
            "{sql}"
        );
        assert!(
            sql.contains("UPDATE \"public\".\"country\" AS t SET (\"name\", \"region_id\")"),
            "{sql}"
        );
        assert!(sql.contains("WHERE NOT EXISTS (SELECT 1 FROM \"public\".\"country\" AS x WHERE x.\"code\" = s.\"code\")"), "{sql}");
        assert!(
            sql.contains("ON CONFLICT (\"code\") DO UPDATE SET (\"name\", \"region_id\")"),
            "{sql}"
        );
        assert!(sql.contains("RETURNING t.\"code\")"), "{sql}");
    }
}
