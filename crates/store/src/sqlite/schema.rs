//! The audit tables in SQLite and their migrations.
//!
//! `PRAGMA user_version` holds the audit schema version, so an up-to-date
//! database costs one header read on open, not a migration run. Other
//! components sharing the file (the daemon's tables) manage their own tables
//! and must not use `user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Migrations in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
/// Append only: never edit a migration that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: the log and its head.
    "
    CREATE TABLE audit_log (
        seq          INTEGER PRIMARY KEY,  -- 1, 2, 3... without gaps
        v            INTEGER NOT NULL,     -- canonical encoding version
        time         INTEGER NOT NULL,     -- ms since the Unix epoch
        kind         TEXT NOT NULL,
        host         TEXT,
        session      TEXT,
        host_session TEXT,
        agent        TEXT,
        cwd          TEXT,
        tool         TEXT NOT NULL,
        class        TEXT,
        input        TEXT NOT NULL,        -- canonical JSON, secrets redacted
        decision     TEXT,
        rules        TEXT NOT NULL,        -- JSON array of rule labels
        severity     TEXT,
        message      TEXT,
        approval_id  TEXT,
        actor        TEXT,
        channel      TEXT,
        reason       TEXT,
        outcome      TEXT,
        prev         BLOB NOT NULL,        -- hash of the previous record
        hash         BLOB NOT NULL         -- SHA-256(prev || seq || encoding)
    );
    CREATE INDEX audit_log_time ON audit_log(time);
    CREATE INDEX audit_log_session ON audit_log(session);
    -- The head lives apart from the log so that cutting off the tail shows.
    CREATE TABLE audit_head (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        seq  INTEGER NOT NULL,
        hash BLOB NOT NULL
    );
    ",
];

/// The schema version this build writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Brings the audit schema up to [`CURRENT`]; a no-op (one pragma read) when it is.
pub(crate) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let version = user_version(conn, path)?;
    if version == CURRENT {
        return Ok(());
    }
    check_not_newer(version, path)?;
    // IMMEDIATE: two processes opening a fresh database must not both migrate.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(open_err(path))?;
    let version = user_version(&tx, path)?;
    check_not_newer(version, path)?;
    let start = usize::try_from(version).unwrap_or(0);
    for migration in MIGRATIONS.iter().skip(start) {
        tx.execute_batch(migration).map_err(open_err(path))?;
    }
    tx.pragma_update(None, "user_version", CURRENT)
        .map_err(open_err(path))?;
    tx.commit().map_err(open_err(path))
}

fn user_version(conn: &Connection, path: &str) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(open_err(path))
}

fn check_not_newer(version: i64, path: &str) -> Result<(), StoreError> {
    if version > CURRENT {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found: version,
            supported: CURRENT,
        });
    }
    Ok(())
}

pub(crate) fn open_err(path: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Open {
        path: path.to_owned(),
        source: Box::new(e),
    }
}
