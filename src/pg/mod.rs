//! Talking to PostgreSQL: connection targets, session settings, and the SQL
//! statements that name tables. `sql`, `merge_sql` and `statistics_sql`
//! (through `crate::ident`) are the only places an identifier is spliced
//! into SQL; values always travel as bind parameters.

mod connect;
mod conninfo;
mod dsn;
pub mod merge_sql;
pub mod shadow_sql;
pub mod sql;
pub mod statistics_sql;
pub mod tls;

pub use connect::{connect, Session};
pub use dsn::{ConnectionTarget, RETRY_FOR_DEFAULT};
