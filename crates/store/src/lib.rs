//! Storage behind one trait per concern, SQLite embedded by default.
//!
//! - [`AuditStore`]: the append-only, hash-chained audit log
//!   ([`SqliteStore`] in `<data_dir>/gatehouse.db`; [`PostgresStore`] for
//!   replicas sharing one log). One contract test suite runs against both.
//! - [`daemon_store`]: the daemon's approvals, grants, tokens and lockdown,
//!   in the same file.

mod audit;
mod error;
pub mod export;
pub mod postgres;
mod query;
mod row;
pub mod sqlite;
/// Dashboard users (password hash, TOTP secret) and their login sessions.
pub mod users;

pub use crate::postgres::PostgresStore;
pub use audit::{AuditEntry, AuditQuery, AuditStore, Verification};
pub use error::StoreError;
pub use sqlite::SqliteStore;

/// The daemon's tables: held approvals, session grants, API tokens, lockdown.
pub mod daemon_store;
