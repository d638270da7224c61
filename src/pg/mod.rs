//! Talking to PostgreSQL: connection targets, session settings, and the SQL
//! statements that name tables. `ident` and `sql` are the only places an
//! identifier is spliced into SQL; values always travel as bind parameters.

mod connect;
mod dsn;
mod dsn_options;
mod ident;
pub mod sql;
pub mod tls;

pub use connect::{connect, Session};
pub use dsn::ConnectionTarget;
pub use ident::{parse_table_name, quote_ident, quote_literal, QualifiedName};
