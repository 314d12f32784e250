//! [`StoreError`]: why a storage operation failed, and what to do about it.

use std::path::PathBuf;

/// A failure of the audit store. Messages say what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory for the database could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or set up.
    #[error("cannot open the audit database {path}: {source}")]
    Open {
        /// The database file or URL.
        path: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was written by a newer gatehouse.
    #[error(
        "the audit database {path} has schema version {found}, newer than this gatehouse supports ({supported}); upgrade gatehouse"
    )]
    SchemaTooNew {
        /// The database file or URL.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this build understands.
        supported: i64,
    },
    /// A database operation failed.
    #[error("audit store: {context}: {source}")]
    Database {
        /// Which operation.
        context: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored record cannot be read back.
    #[error(
        "audit store: record #{seq} cannot be read back ({detail}); run `gatehouse audit verify`"
    )]
    Corrupt {
        /// The record.
        seq: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// Records exist but the head that chains new ones to them does not.
    #[error(
        "audit store: the chain head is missing although records exist, so new records cannot be chained; run `gatehouse audit verify`"
    )]
    HeadMissing,
}
