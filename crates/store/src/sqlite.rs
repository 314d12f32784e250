//! The embedded backend: the audit log in one SQLite file (WAL), shared by the
//! hooks (one short-lived process per tool call) and the daemon.
//!
//! Durability: `synchronous=FULL`, so a record is on disk when `append`
//! returns. Concurrency: every append is one `BEGIN IMMEDIATE` transaction
//! that reads the head and writes record + head, so concurrent writers queue
//! on SQLite's write lock (waiting up to [`BUSY_TIMEOUT`]) and the chain never
//! forks.

mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gatehouse_core::audit::{
    AuditRecord, ChainFault, ChainHead, ChainVerifier, Hash, chain_hash, encode,
};
use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{
    Connection, FileControl, MAIN_DB, OpenFlags, OptionalExtension, Row, Transaction,
    TransactionBehavior,
};

use crate::query::{self, Dialect, Param, seq_param};
use crate::row::{COLUMNS, RawRow};
use crate::{AuditEntry, AuditQuery, AuditStore, StoreError, Verification};

/// How long a writer waits for another process's transaction before failing
/// (and the hook then denying): far above any single append, far below a
/// host's hook timeout.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How a connection waits for another's write lock: short sleeps at first,
/// because a hook holds the lock for well under a millisecond and parallel
/// tool calls (common: an agent reading several files at once) queue on it;
/// SQLite's own busy timeout sleeps 1, 2, 5, 10... ms, which made four
/// parallel hooks take a median 9 ms. Gives up (and the hook then blocks the
/// call) after about [`BUSY_TIMEOUT`].
pub(crate) fn wait_for_lock(retries: i32) -> bool {
    const SHORT: u32 = 200;
    const SHORT_SLEEP: Duration = Duration::from_micros(100);
    const LONG_SLEEP: Duration = Duration::from_millis(1);
    let retries = u32::try_from(retries).unwrap_or(0);
    let waited = SHORT_SLEEP * retries.min(SHORT) + LONG_SLEEP * retries.saturating_sub(SHORT);
    if waited >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(if retries < SHORT {
        SHORT_SLEEP
    } else {
        LONG_SLEEP
    });
    true
}

/// WAL file size above which an append ends with a truncating checkpoint.
///
/// Why not SQLite's auto-checkpoint alone: a hook is a short-lived process,
/// usually the only connection. Each such process rebuilds the WAL index by
/// reading every WAL frame (2–7 µs a frame on a 2-core box; an append adds
/// ~4 frames), and that rebuild forgets which frames were already
/// checkpointed, so a WAL past the auto-checkpoint size is re-checkpointed
/// by every later process and never restarts: it grows without bound and
/// every append pays two more syncs. Truncating it here bounds the rebuild
/// to ~16 frames, for one checkpoint (~0.5 ms) every ~4 appends: measured
/// with `scripts/bench-hook.sh`, 512 KiB cost a hook ~0.14 ms more in
/// rebuilds than 64 KiB, and 16 KiB (a checkpoint every append) ~0.5 ms more.
const WAL_TRUNCATE_BYTES: u64 = 64 * 1024;

/// The audit log in a SQLite database file.
///
/// One connection behind a mutex: cheap to open (what a hook needs) and safe
/// to share between threads (what the daemon needs).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The WAL file (`<path>-wal`), watched to keep it small.
    wal: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// The database's file name inside the data dir.
    pub const FILE_NAME: &'static str = "gatehouse.db";

    /// Where the database lives in `data_dir`: `<data_dir>/gatehouse.db`.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join(SqliteStore::FILE_NAME)
    }

    /// Opens (creating the directory and file if needed, owner-only) the
    /// database at `path`, in WAL mode, migrated to the current schema.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        create_private_file(path)?;
        SqliteStore::open_with_flags(path, OpenFlags::default())
    }

    /// Opens an existing database; fails instead of creating one (for
    /// readers such as `audit verify`, where a missing log is news).
    pub fn open_existing(path: &Path) -> Result<SqliteStore, StoreError> {
        let flags = OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE;
        SqliteStore::open_with_flags(path, flags)
    }

    fn open_with_flags(path: &Path, flags: OpenFlags) -> Result<SqliteStore, StoreError> {
        let shown = path.display().to_string();
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(schema::open_err(&shown))?;
        conn.busy_handler(Some(wait_for_lock))
            .map_err(schema::open_err(&shown))?;
        // journal_mode is persistent: only the first open of a file pays for the switch.
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .map_err(schema::open_err(&shown))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
                .map_err(schema::open_err(&shown))?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(schema::open_err(&shown))?;
        // A hook process is usually the only connection, so closing it would
        // checkpoint the WAL into the database and delete the WAL: two more
        // fsyncs and a file re-creation on every tool call. Appends checkpoint
        // now and then instead (`truncate_wal_if_large`).
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(schema::open_err(&shown))?;
        conn.file_control(Some(MAIN_DB), FileControl::PersistWal(&mut 1))
            .map_err(schema::open_err(&shown))?;
        schema::migrate(&mut conn, &shown)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            wal: PathBuf::from(wal),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checkpoints and truncates the WAL once it passes [`WAL_TRUNCATE_BYTES`].
    /// Never waits: with a reader in the way the checkpoint does what it can
    /// now and a later append finishes it. Failure costs nothing but WAL
    /// size; the records are already durable.
    fn truncate_wal_if_large(&self, conn: &mut Connection) {
        let len = std::fs::metadata(&self.wal).map(|m| m.len()).unwrap_or(0);
        if len <= WAL_TRUNCATE_BYTES {
            return;
        }
        let _ = conn.busy_handler(None::<fn(i32) -> bool>);
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = conn.busy_handler(Some(wait_for_lock));
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no transaction open (rusqlite
        // rolls back on drop), so the connection is still sound.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AuditStore for SqliteStore {
    fn append_batch(&self, records: &[AuditRecord]) -> Result<Vec<AuditEntry>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin append"))?;
        let (mut seq, mut prev) = match read_head(&tx)? {
            Some(Ok(head)) => (head.seq, head.hash),
            Some(Err(_)) => return Err(StoreError::HeadMissing),
            None if log_is_empty(&tx)? => (0, Hash::GENESIS),
            None => return Err(StoreError::HeadMissing),
        };
        let mut entries = Vec::with_capacity(records.len());
        {
            let mut insert = tx
                .prepare_cached(&insert_sql())
                .map_err(sql("prepare insert"))?;
            for record in records {
                seq += 1;
                let hash = chain_hash(&prev, seq, &encode(record));
                let row = RawRow::from_record(record, &prev, &hash);
                insert
                    .execute(rusqlite::params![
                        seq_param(seq),
                        row.v,
                        row.time,
                        row.kind,
                        row.host,
                        row.session,
                        row.host_session,
                        row.agent,
                        row.cwd,
                        row.tool,
                        row.class,
                        row.input,
                        row.decision,
                        row.rules,
                        row.severity,
                        row.message,
                        row.approval_id,
                        row.actor,
                        row.channel,
                        row.reason,
                        row.outcome,
                        row.prev,
                        row.hash,
                    ])
                    .map_err(sql("insert record"))?;
                entries.push(AuditEntry {
                    seq,
                    hash,
                    prev,
                    record: record.clone(),
                });
                prev = hash;
            }
        }
        tx.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            rusqlite::params![seq_param(seq), prev.0.as_slice()],
        )
        .map_err(sql("update head"))?;
        tx.commit().map_err(sql("commit append"))?;
        self.truncate_wal_if_large(&mut conn);
        Ok(entries)
    }

    fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        let conn = self.lock();
        match read_head(&conn)? {
            None => Ok(None),
            Some(Ok(head)) => Ok(Some(head)),
            Some(Err(detail)) => Err(StoreError::Corrupt { seq: 0, detail }),
        }
    }

    fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.lock();
        let (sql_text, params) = query::select(query, &DIALECT);
        let mut stmt = conn
            .prepare_cached(&sql_text)
            .map_err(sql("prepare query"))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(
                params.into_iter().map(sql_value),
            ))
            .map_err(sql("run query"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql("read query"))? {
            let (seq, raw) = read_row(row)?;
            let raw = raw.map_err(|detail| StoreError::Corrupt { seq, detail })?;
            out.push(raw.entry(seq)?);
        }
        if query.newest {
            out.reverse();
        }
        Ok(out)
    }

    fn verify(&self) -> Result<Verification, StoreError> {
        // A connection of its own, so a long walk never holds up appends
        // through this store (the daemon shares one store between threads).
        let mut conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::default() - OpenFlags::SQLITE_OPEN_CREATE,
        )
        .map_err(sql("open for verify"))?;
        conn.busy_handler(Some(wait_for_lock))
            .map_err(sql("open for verify"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(sql("open for verify"))?;
        // One read transaction: head and records from the same snapshot,
        // however many appends happen meanwhile.
        let tx = conn.transaction().map_err(sql("begin verify"))?;
        let head = match read_head(&tx)? {
            None => None,
            Some(Ok(head)) => Some(head),
            Some(Err(detail)) => {
                return Ok(Err(ChainFault::HeadMismatch { seq: 0, detail }));
            }
        };
        let mut verifier = ChainVerifier::new(head);
        {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT seq, {} FROM audit_log ORDER BY seq",
                    COLUMNS.join(", ")
                ))
                .map_err(sql("prepare verify"))?;
            let mut rows = stmt.query([]).map_err(sql("read records"))?;
            while let Some(row) = rows.next().map_err(sql("read records"))? {
                let (seq, raw) = read_row(row)?;
                let link = match raw {
                    Ok(raw) => raw.link(seq),
                    Err(detail) => gatehouse_core::audit::ChainLink {
                        seq,
                        prev: Hash::GENESIS,
                        hash: Hash::GENESIS,
                        record: Err(detail),
                    },
                };
                if let Err(fault) = verifier.push(&link) {
                    return Ok(Err(fault));
                }
            }
        }
        tx.finish().map_err(sql("end verify"))?;
        Ok(verifier.finish())
    }
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::Database {
        context,
        source: Box::new(e),
    }
}

fn insert_sql() -> String {
    let placeholders: Vec<String> = (1..=COLUMNS.len() + 1).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO audit_log (seq, {}) VALUES ({})",
        COLUMNS.join(", "),
        placeholders.join(", ")
    )
}

/// The stored head: `None` if there is none, `Some(Err)` if it is unreadable.
fn read_head(conn: &Connection) -> Result<Option<Result<ChainHead, String>>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(sql("read head"))?;
    Ok(row.map(|(seq, hash)| {
        let seq = u64::try_from(seq).map_err(|_| format!("the head's seq is {seq}"))?;
        let hash = Hash::from_slice(&hash)
            .ok_or_else(|| format!("the head's hash holds {} bytes, not 32", hash.len()))?;
        Ok(ChainHead { seq, hash })
    }))
}

fn log_is_empty(tx: &Transaction<'_>) -> Result<bool, StoreError> {
    tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM audit_log)", [], |r| {
        r.get(0)
    })
    .map_err(sql("check for records"))
}

/// SQLite's spelling of the shared query SQL.
const DIALECT: Dialect = Dialect {
    placeholder: |n| format!("?{n}"),
    rule_contains: |p| {
        format!("EXISTS (SELECT 1 FROM json_each(audit_log.rules) WHERE json_each.value = {p})")
    },
};

fn sql_value(p: Param) -> rusqlite::types::Value {
    match p {
        Param::Int(n) => rusqlite::types::Value::Integer(n),
        Param::Text(s) => rusqlite::types::Value::Text(s),
    }
}

/// One row's seq and columns. Columns are read leniently so that a tampered
/// value (text where a number belongs) becomes a finding, not a crash.
fn read_row(row: &Row<'_>) -> Result<(u64, Result<RawRow, String>), StoreError> {
    let seq: i64 = row.get(0).map_err(sql("read seq"))?;
    // A negative seq can only come from tampering; 0 makes the verifier flag it.
    let seq = u64::try_from(seq).unwrap_or(0);
    Ok((seq, raw_row(row)))
}

fn raw_row(row: &Row<'_>) -> Result<RawRow, String> {
    let col = |i: usize| -> Result<ValueRef<'_>, String> {
        row.get_ref(i + 1)
            .map_err(|e| format!("column {} unreadable: {e}", COLUMNS.get(i).unwrap_or(&"?")))
    };
    let int = |i: usize| -> Result<i64, String> {
        match col(i)? {
            ValueRef::Integer(n) => Ok(n),
            other => Err(wrong_type(i, "an integer", other)),
        }
    };
    let opt_text = |i: usize| -> Result<Option<String>, String> {
        match col(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => String::from_utf8(t.to_vec())
                .map(Some)
                .map_err(|_| wrong_type(i, "UTF-8 text", ValueRef::Text(t))),
            other => Err(wrong_type(i, "text", other)),
        }
    };
    let text = |i: usize| -> Result<String, String> {
        opt_text(i)?.ok_or_else(|| format!("{} is NULL", COLUMNS.get(i).unwrap_or(&"?")))
    };
    let blob = |i: usize| -> Result<Vec<u8>, String> {
        match col(i)? {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(wrong_type(i, "a blob", other)),
        }
    };
    Ok(RawRow {
        v: int(0)?,
        time: int(1)?,
        kind: text(2)?,
        host: opt_text(3)?,
        session: opt_text(4)?,
        host_session: opt_text(5)?,
        agent: opt_text(6)?,
        cwd: opt_text(7)?,
        tool: text(8)?,
        class: opt_text(9)?,
        input: text(10)?,
        decision: opt_text(11)?,
        rules: text(12)?,
        severity: opt_text(13)?,
        message: opt_text(14)?,
        approval_id: opt_text(15)?,
        actor: opt_text(16)?,
        channel: opt_text(17)?,
        reason: opt_text(18)?,
        outcome: opt_text(19)?,
        prev: blob(20)?,
        hash: blob(21)?,
    })
}

fn wrong_type(i: usize, want: &str, got: ValueRef<'_>) -> String {
    let got = match got {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(n) => format!("the integer {n}"),
        ValueRef::Real(x) => format!("the number {x}"),
        ValueRef::Text(t) => format!("the text {:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("a {}-byte blob", b.len()),
    };
    format!("{} holds {got}, not {want}", COLUMNS.get(i).unwrap_or(&"?"))
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// Creates `path` empty and owner-only if it does not exist, before SQLite
/// opens it: the log holds commands and paths, and SQLite gives the WAL and
/// shared-memory files the database file's permissions. An empty file is a
/// valid empty database.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Open {
            path: path.display().to_string(),
            source: Box::new(e),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_wait_gives_up_after_the_busy_timeout() {
        // 200 short sleeps of 100 µs, then 1 ms each: 5 s is reached at 5,180.
        assert!(!wait_for_lock(5_180));
        assert!(!wait_for_lock(i32::MAX));
        assert!(wait_for_lock(0), "the first retry waits");
        assert!(wait_for_lock(5_179), "just under the timeout still waits");
    }
}
