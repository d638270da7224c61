//! Statements that name tables, built in one place from quoted identifiers.
//!
//! Every function here takes catalog names and returns SQL text; the only
//! text spliced in is an identifier through `quote_ident`/`QualifiedName`,
//! or a definition the server itself printed (`pg_get_constraintdef`).

use crate::ident::{quote_ident, quote_literal, QualifiedName};

fn column_list<'a>(columns: impl IntoIterator<Item = &'a str>) -> String {
    columns
        .into_iter()
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a COPY out reads: a table's stored columns, all rows or one part.
#[derive(Debug, Clone, Copy)]
pub struct CopyOut<'a> {
    pub table: &'a QualifiedName,
    pub columns: &'a [&'a str],
    /// Only the table's own rows, not its inheritance children's.
    pub only: bool,
    /// In a stable order, so unchanged data dumps to the same bytes: by this
    /// primary key, or by the whole row's text when it is empty. `None`: as
    /// the server reads them.
    pub order: Option<&'a [String]>,
    /// Only the rows whose primary key's first column lies within the bounds
    /// set by [`PART_BOUNDS`].
    pub range: Option<KeyRange<'a>>,
}

/// Bounds on a primary key's first column: `lower <= column < upper`, each
/// side present or open.
#[derive(Debug, Clone, Copy)]
pub struct KeyRange<'a> {
    pub column: &'a str,
    /// The column's type as `format_type` prints it.
    pub type_name: &'a str,
    pub lower: bool,
    pub upper: bool,
}

/// Sets the bounds a [`KeyRange`] reads, for this transaction: `$1` lower,
/// `$2` upper, as text. COPY takes no parameters, so the values travel as
/// bind parameters here and are read back by `current_setting`.
pub const PART_BOUNDS: &str = "SELECT set_config('seedpack.part_lower', $1, true), \
                               set_config('seedpack.part_upper', $2, true)";

/// The COPY statement that reads `copy` in text format.
pub fn copy_out(copy: &CopyOut) -> String {
    let only = if copy.only { "ONLY " } else { "" };
    let selected = copy
        .columns
        .iter()
        .map(|c| format!("t.{}", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut conditions = Vec::new();
    if let Some(range) = copy.range {
        let column = format!("t.{}", quote_ident(range.column));
        let bound = |setting: &str| format!("current_setting('{setting}')::{}", range.type_name);
        if range.lower {
            conditions.push(format!("{column} >= {}", bound("seedpack.part_lower")));
        }
        if range.upper {
            conditions.push(format!("{column} < {}", bound("seedpack.part_upper")));
        }
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let order = match copy.order {
        None => String::new(),
        // The alias names the whole row; its text form orders any types.
        Some([]) => " ORDER BY (t.*)::text COLLATE \"C\"".to_owned(),
        Some(key) => format!(
            " ORDER BY {}",
            key.iter()
                .map(|c| format!("t.{}", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "COPY (SELECT {selected} FROM {only}{} AS t{filter}{order}) TO STDOUT",
        copy.table.quoted()
    )
}

/// COPY into a table's stored columns; rows reach partitions through the parent.
/// A table without columns (`CREATE TABLE t ()`) still has rows: no list.
///
/// `freeze` writes the rows already frozen: allowed (and only asked for) when
/// the table was created or truncated in this transaction and is not
/// partitioned. It spares the index builds and foreign-key checks that
/// follow from setting hint bits on every page. Like the TRUNCATE before it,
/// it is not MVCC-safe for transactions that started before the restore.
pub fn copy_in(table: &QualifiedName, columns: &[&str], freeze: bool) -> String {
    let list = if columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", column_list(columns.iter().copied()))
    };
    let options = if freeze { " (FREEZE)" } else { "" };
    format!("COPY {}{list} FROM STDIN{options}", table.quoted())
}

pub fn drop_table(table: &QualifiedName) -> String {
    format!("DROP TABLE {}", table.quoted())
}

/// Lock tables for a consistent dump: readers allowed, DDL kept out.
/// `nowait` for connections joining a dump: waiting behind a session that
/// queued for an exclusive lock after the dump took its own would deadlock.
pub fn lock_for_dump(tables: &[&QualifiedName], nowait: bool) -> String {
    let nowait = if nowait { " NOWAIT" } else { "" };
    format!(
        "LOCK TABLE {} IN ACCESS SHARE MODE{nowait}",
        name_list(tables)
    )
}

/// Start a read-only transaction whose every statement sees one snapshot of
/// the database: what dump, check and plan read in.
pub const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// Start a transaction reading the snapshot another one exported
/// (`pg_export_snapshot`'s id; utility statements take no parameters).
pub fn join_snapshot(snapshot: &str) -> String {
    format!(
        "{BEGIN_SNAPSHOT}; SET TRANSACTION SNAPSHOT {}",
        quote_literal(snapshot)
    )
}

/// Lock tables for a restore, all or none, without waiting (`NOWAIT`):
/// nobody reads half-loaded data, and a restore that would have to wait
/// holds nothing meanwhile that readers would queue behind.
pub fn lock_for_restore(tables: &[&QualifiedName]) -> String {
    format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT",
        name_list(tables)
    )
}

/// Empty tables without firing row triggers. Partitioned tables are emptied
/// with their partitions; plain tables `ONLY`, so inheritance children that
/// are not in the artifact keep their rows.
pub fn truncate(tables: &[(&QualifiedName, bool)]) -> String {
    let list = tables
        .iter()
        .map(|(t, partitioned)| {
            if *partitioned {
                t.quoted()
            } else {
                format!("ONLY {}", t.quoted())
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("TRUNCATE TABLE {list}")
}

/// Empty `tables` row by row, as [`truncate`] would at once: old snapshots
/// still see the deleted rows (`--mvcc-safe`).
pub fn delete_all(tables: &[(&QualifiedName, bool)]) -> String {
    tables
        .iter()
        .map(|(t, partitioned)| {
            let only = if *partitioned { "" } else { "ONLY " };
            format!("DELETE FROM {only}{};", t.quoted())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One query counting each of `tables` (`true`: not its inheritance
/// children), answering `(position, count)` rows.
pub fn count_rows_each(tables: &[(&QualifiedName, bool)]) -> String {
    tables
        .iter()
        .enumerate()
        .map(|(i, (table, only))| {
            format!(
                "SELECT {i}, count(*) FROM {}{}",
                if *only { "ONLY " } else { "" },
                table.quoted()
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

pub fn count_rows(table: &QualifiedName, only: bool) -> String {
    format!(
        "SELECT count(*) FROM {}{}",
        if only { "ONLY " } else { "" },
        table.quoted()
    )
}

/// Whether any row of `table` has all of `columns` non-null, i.e. references
/// something through a MATCH SIMPLE foreign key on those columns.
pub fn any_referencing_row(table: &QualifiedName, columns: &[String]) -> String {
    let condition = columns
        .iter()
        .map(|c| format!("{} IS NOT NULL", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE {condition})",
        table.quoted()
    )
}

/// Change one trigger's (or `rule`'s) firing state on one relation (no
/// recursion into partitions: each relation's triggers are set one by one).
pub fn set_trigger_state(
    relation: &QualifiedName,
    trigger: &str,
    rule: bool,
    state: TriggerState,
) -> String {
    let verb = match state {
        TriggerState::Disabled => "DISABLE",
        TriggerState::Origin => "ENABLE",
        TriggerState::Replica => "ENABLE REPLICA",
        TriggerState::Always => "ENABLE ALWAYS",
    };
    let what = if rule { "RULE" } else { "TRIGGER" };
    format!(
        "ALTER TABLE ONLY {} {verb} {what} {}",
        relation.quoted(),
        quote_ident(trigger)
    )
}

/// Force row-level security on one relation's owner, or stop forcing it.
pub fn force_row_security(relation: &QualifiedName, force: bool) -> String {
    format!(
        "ALTER TABLE ONLY {} {}FORCE ROW LEVEL SECURITY",
        relation.quoted(),
        if force { "" } else { "NO " }
    )
}

/// A trigger's `tgenabled` state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerState {
    Disabled,
    Origin,
    Replica,
    Always,
}

impl TriggerState {
    /// From `pg_trigger.tgenabled`.
    pub fn from_catalog(code: &str) -> Option<Self> {
        match code {
            "D" => Some(Self::Disabled),
            "O" => Some(Self::Origin),
            "R" => Some(Self::Replica),
            "A" => Some(Self::Always),
            _ => None,
        }
    }
}

/// Drop a constraint. Not `ONLY`: on a partitioned table the partitions'
/// clones of a foreign key go with it (and come back with `add_constraint`).
pub fn drop_constraint(relation: &QualifiedName, constraint: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        relation.quoted(),
        quote_ident(constraint)
    )
}

/// Re-add a constraint from the definition `pg_get_constraintdef` printed.
/// Not `ONLY`: a foreign key on a partitioned table is re-added with its
/// partitions' clones.
pub fn add_constraint(relation: &QualifiedName, constraint: &str, definition: &str) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
        relation.quoted(),
        quote_ident(constraint)
    )
}

/// Reset a sequence inside the transaction. `ALTER SEQUENCE ... RESTART`
/// gives the sequence new storage, so the `setval` that follows rolls back
/// with the transaction, which a bare `setval` would not.
pub fn restart_sequence(sequence: &QualifiedName) -> String {
    format!("ALTER SEQUENCE {} RESTART", sequence.quoted())
}

/// The state of a sequence: `$1` last value, `$2` is_called.
pub fn read_sequence(sequence: &QualifiedName) -> String {
    format!("SELECT last_value, is_called FROM {}", sequence.quoted())
}

fn name_list(tables: &[&QualifiedName]) -> String {
    tables
        .iter()
        .map(|t| t.quoted())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds `COMMENT ON CONSTRAINT` on the server from bind parameters
/// ($1 constraint, $2 quoted relation, $3 comment): COMMENT takes no
/// parameters itself, and `format` quotes the literal as the server must.
pub const COMMENT_ON_CONSTRAINT: &str =
    "SELECT pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', $1::text, $2::text, $3::text)";

/// Sets a sequence: $1 quoted name, $2 last value, $3 is_called.
pub const SET_SEQUENCE: &str = "SELECT pg_catalog.setval($1::text::regclass, $2, $3)";

/// A temporary table with `columns` of `table`, typed as there, no rows
/// and no constraints: where `check` loads an artifact's rows to compare.
pub fn create_check_stage(
    stage: &QualifiedName,
    table: &QualifiedName,
    columns: &[&str],
    only: bool,
) -> String {
    let list = if columns.is_empty() {
        "NULL".to_owned()
    } else {
        column_list(columns.iter().copied())
    };
    format!(
        "CREATE TEMPORARY TABLE {} AS SELECT {list} FROM {}{} WITH NO DATA",
        quote_ident(&stage.name),
        if only { "ONLY " } else { "" },
        table.quoted()
    )
}

/// How `check` compares a table with the artifact rows staged beside it.
#[derive(Debug, Clone, Copy)]
pub struct RowComparison<'a> {
    pub table: &'a QualifiedName,
    pub stage: &'a QualifiedName,
    /// The artifact's columns.
    pub columns: &'a [&'a str],
    /// The columns that identify a row (all of them, for a table without a key).
    pub key: &'a [&'a str],
    /// Only the table's own rows, not its inheritance children's.
    pub only: bool,
    /// Also list the table's rows the artifact does not hold.
    pub extra: bool,
}

/// The rows that differ between a table and its staged artifact rows, as
/// (`key` text, `difference`: missing, changed or extra, `differing`: how
/// many in all), the first `$1` of them in key order. Values are compared
/// as text, so types without an equality operator compare too.
pub fn row_differences(c: &RowComparison) -> String {
    let only = if c.only { "ONLY " } else { "" };
    let of = |alias: &str, columns: &[&str]| -> String {
        columns
            .iter()
            .map(|col| format!("{alias}.{}", quote_ident(col)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A key joins on equality, served by its index or a hash join; a table
    // without one joins on its whole row's text, which is NULL-safe and
    // still hashable (IS NOT DISTINCT FROM is neither).
    let keyless = c.key.len() == c.columns.len() && c.key.iter().all(|k| c.columns.contains(k));
    let same_key = |left: &str, right: &str| -> String {
        if keyless {
            return format!(
                "ROW({})::text = ROW({})::text",
                of(left, c.key),
                of(right, c.key)
            );
        }
        c.key
            .iter()
            .map(|k| format!("{left}.{0} = {right}.{0}", quote_ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let table = format!("{only}{}", c.table.quoted());
    let stage = c.stage.quoted();
    let mut differences = format!(
        "SELECT ROW({s_key})::text AS key,
                CASE WHEN t.seedpack_row IS NULL THEN 'missing' ELSE 'changed' END AS difference
         FROM {stage} AS s
         LEFT JOIN (SELECT {x_key_cols}, ROW({x_cols})::text AS seedpack_row FROM {table} AS x) AS t
           ON {join}
         WHERE t.seedpack_row IS DISTINCT FROM ROW({s_cols})::text",
        s_key = of("s", c.key),
        x_key_cols = of("x", c.key),
        x_cols = of("x", c.columns),
        s_cols = of("s", c.columns),
        join = same_key("t", "s"),
    );
    if c.extra {
        differences.push_str(&format!(
            "
         UNION ALL
         SELECT ROW({t_key})::text, 'extra' FROM {table} AS t
         WHERE NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {join})",
            t_key = of("t", c.key),
            join = same_key("s", "t"),
        ));
    }
    format!(
        "SELECT d.key, d.difference, count(*) OVER () AS differing
         FROM ({differences}) AS d
         ORDER BY d.key COLLATE \"C\", d.difference
         LIMIT $1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_out_quotes_orders_and_bounds() {
        let t = QualifiedName::new("app", "Order \"x\"");
        let key = ["id".to_owned()];
        let whole = CopyOut {
            table: &t,
            columns: &["id", "na me"],
            only: true,
            order: Some(&key),
            range: None,
        };
        assert_eq!(
            copy_out(&whole),
            "COPY (SELECT t.\"id\", t.\"na me\" FROM ONLY \"app\".\"Order \"\"x\"\"\" AS t ORDER BY t.\"id\") TO STDOUT"
        );
        let keyless = CopyOut {
            order: Some(&[]),
            only: false,
            ..whole
        };
        assert!(copy_out(&keyless).contains(" AS t ORDER BY (t.*)::text"));
        assert!(copy_out(&CopyOut {
            order: None,
            ..whole
        })
        .ends_with(" AS t) TO STDOUT"));
        let range = |lower, upper| KeyRange {
            column: "id",
            type_name: "bigint",
            lower,
            upper,
        };
        assert_eq!(
            copy_out(&CopyOut { range: Some(range(true, true)), ..whole }),
            "COPY (SELECT t.\"id\", t.\"na me\" FROM ONLY \"app\".\"Order \"\"x\"\"\" AS t \
             WHERE t.\"id\" >= current_setting('seedpack.part_lower')::bigint \
             AND t.\"id\" < current_setting('seedpack.part_upper')::bigint ORDER BY t.\"id\") TO STDOUT"
        );
        let first = copy_out(&CopyOut {
            range: Some(range(false, true)),
            ..whole
        });
        assert!(first.contains("WHERE t.\"id\" < current") && !first.contains("part_lower"));
    }

    #[test]
    fn truncate_keeps_partitions_and_skips_children() {
        let a = QualifiedName::new("s", "a");
        let p = QualifiedName::new("s", "p");
        assert_eq!(
            truncate(&[(&a, false), (&p, true)]),
            "TRUNCATE TABLE ONLY \"s\".\"a\", \"s\".\"p\""
        );
    }

    #[test]
    fn delete_all_keeps_partitions_and_skips_children() {
        let a = QualifiedName::new("s", "a");
        let p = QualifiedName::new("s", "p");
        assert_eq!(
            delete_all(&[(&a, false), (&p, true)]),
            "DELETE FROM ONLY \"s\".\"a\"; DELETE FROM \"s\".\"p\";"
        );
    }
}
