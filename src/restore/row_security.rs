//! Tables that force row-level security on their owner: for the restore's
//! transaction they are switched to `NO FORCE` (an owner's right) so that
//! the load and the row counts see every row, and forced again before the
//! commit, so nobody outside the transaction ever sees them unforced. A
//! role that bypasses row-level security (a superuser, `BYPASSRLS`) needs
//! none of it. `ALTER TABLE` takes an exclusive lock: in the merge modes
//! too, such a table's readers wait for the commit.

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::ident::QualifiedName;
use crate::pg::sql;

/// Of tables $1/$2 (schemas, names) and their partitions, those that force
/// row-level security on their owner, when this role does not bypass it
/// (`pg_partition_tree` lists nothing for a table that is not partitioned).
const FORCED: &str = "
SELECT n.nspname, c.relname
FROM unnest($1::text[], $2::text[]) AS u(nspname, relname)
JOIN pg_catalog.pg_namespace un ON un.nspname = u.nspname
JOIN pg_catalog.pg_class t ON t.relnamespace = un.oid AND t.relname = u.relname
CROSS JOIN LATERAL (SELECT t.oid AS relid
                    UNION SELECT relid FROM pg_catalog.pg_partition_tree(t.oid)) AS p
JOIN pg_catalog.pg_class c ON c.oid = p.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relforcerowsecurity
  AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
ORDER BY 1, 2";

/// The tables among `tables` (and their partitions) that force row-level
/// security on this role.
pub(super) async fn forced(
    client: &Client,
    tables: &[&QualifiedName],
) -> Result<Vec<QualifiedName>> {
    let schemas: Vec<&str> = tables.iter().map(|t| t.schema.as_str()).collect();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    Ok(client
        .query(FORCED, &[&schemas, &names])
        .await
        .context("cannot read which tables force row-level security")?
        .iter()
        .map(|row| {
            QualifiedName::new(
                row.get::<_, String>("nspname"),
                row.get::<_, String>("relname"),
            )
        })
        .collect())
}

/// Count a forced table's rows before any write: `NO FORCE` for the count
/// only, inside a savepoint rolled back at once (which releases the lock
/// the `ALTER TABLE` took).
pub(super) async fn count_unforced(
    client: &Client,
    table: &QualifiedName,
    only: bool,
) -> Result<i64> {
    client
        .batch_execute(&format!(
            "SAVEPOINT seedpack_count; {}",
            sql::force_row_security(table, false)
        ))
        .await
        .with_context(|| {
            format!("cannot count rows of {table}, which forces row-level security")
        })?;
    let count = client
        .query_one(&sql::count_rows(table, only), &[])
        .await
        .with_context(|| format!("cannot count rows of {table}"))?
        .get(0);
    client
        .batch_execute("ROLLBACK TO SAVEPOINT seedpack_count; RELEASE SAVEPOINT seedpack_count")
        .await?;
    Ok(count)
}

/// Switch the forced tables among `tables` (and their partitions) to
/// `NO FORCE`; returns them, for [`force_again`].
pub(super) async fn unforce(
    client: &Client,
    tables: &[&QualifiedName],
) -> Result<Vec<QualifiedName>> {
    let forced = forced(client, tables).await?;
    for table in &forced {
        client
            .batch_execute(&sql::force_row_security(table, false))
            .await
            .with_context(|| {
                format!("cannot lift forced row-level security on {table} for the load")
            })?;
    }
    Ok(forced)
}

/// Force row-level security again on `tables`.
pub(super) async fn force_again(client: &Client, tables: &[QualifiedName]) -> Result<()> {
    for table in tables {
        client
            .batch_execute(&sql::force_row_security(table, true))
            .await
            .with_context(|| format!("cannot force row-level security on {table} again"))?;
    }
    Ok(())
}
