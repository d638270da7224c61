//! How a restore that failed midway says so: as what happened to the
//! target (rolled back, its old data kept) and what to change.

use crate::pg;

/// "out of shared memory" from the lock table, which the restore's count
/// before writing did not foresee: said as what to change.
pub(super) fn lock_table_full(error: anyhow::Error) -> anyhow::Error {
    let full = error.chain().any(|cause| {
        cause
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.as_db_error())
            .is_some_and(|db| {
                db.code() == &tokio_postgres::error::SqlState::OUT_OF_MEMORY
                    && db
                        .hint()
                        .is_some_and(|h| h.contains("max_locks_per_transaction"))
            })
    });
    if !full {
        return error;
    }
    anyhow::anyhow!(
        "the server's lock table filled up during the restore ({error}); it was rolled back, \
         so the target keeps its old data: raise max_locks_per_transaction (a restart applies \
         it) and restore again"
    )
}

/// The connection closed, broke (an I/O error), or the server ended the
/// session (class 08 connection exception, 57P operator intervention).
fn is_connection_lost(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || code.starts_with("57P")
        }
        None => std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// An error that is the connection going away (a network cut, the server
/// stopped) says so, whatever step it cut short: the server rolls back a
/// transaction whose client is gone, so the target keeps its old data.
pub(super) fn connection_lost(
    error: anyhow::Error,
    target: &pg::ConnectionTarget,
) -> anyhow::Error {
    let lost = error.chain().any(|cause| {
        cause
            .downcast_ref::<tokio_postgres::Error>()
            .is_some_and(is_connection_lost)
    });
    if !lost {
        return error;
    }
    anyhow::anyhow!(
        "lost the connection to {} during the restore ({}); the server rolls back a \
         transaction whose client is gone, so the target keeps its old data",
        target.endpoint(),
        error
    )
}
