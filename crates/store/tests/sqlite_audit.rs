//! What only the SQLite backend has to get right: the file itself (location,
//! permissions, WAL), lenient reading of columns tampered to the wrong type,
//! schema versions, and appenders in separate processes. The behaviour every
//! backend shares is in `contract.rs`.

use std::path::Path;

use gatehouse_core::audit::{AuditKind, AuditRecord, ChainFault};
use gatehouse_core::{Action, Severity, Timestamp, ToolClass};
use gatehouse_store::{AuditStore, SqliteStore, StoreError};
use serde_json::json;

fn record(i: i64) -> AuditRecord {
    let mut r = AuditRecord::new(Timestamp(1_000 + i), AuditKind::Decision);
    r.tool = if i % 2 == 0 {
        "Bash".into()
    } else {
        "Read".into()
    };
    r.class = Some(if i % 2 == 0 {
        ToolClass::Exec
    } else {
        ToolClass::Read
    });
    r.session = Some(format!("s{}", i % 3));
    r.input = json!({"command": format!("echo {i}"), "n": i, "f": 0.1});
    r.decision = Some(if i % 4 == 0 {
        Action::Deny
    } else {
        Action::Allow
    });
    r.rules = if i % 4 == 0 {
        vec!["FS-RM-RF".into()]
    } else {
        vec![]
    };
    r.severity = (i % 4 == 0).then_some(Severity::High);
    r
}

fn open(dir: &Path) -> SqliteStore {
    match SqliteStore::open(&SqliteStore::path_in(dir)) {
        Ok(s) => s,
        Err(e) => panic!("open: {e}"),
    }
}

fn fill(store: &SqliteStore, n: i64) {
    for i in 1..=n {
        if let Err(e) = store.append(&record(i)) {
            panic!("append {i}: {e}");
        }
    }
}

fn raw(dir: &Path) -> rusqlite::Connection {
    match rusqlite::Connection::open(SqliteStore::path_in(dir)) {
        Ok(c) => c,
        Err(e) => panic!("raw open: {e}"),
    }
}

fn fault(store: &SqliteStore) -> ChainFault {
    match store.verify() {
        Ok(Err(f)) => f,
        Ok(Ok(s)) => panic!("expected damage, verified {} records", s.records),
        Err(e) => panic!("verify failed to run: {e}"),
    }
}

fn verified_count(store: &SqliteStore) -> u64 {
    match store.verify() {
        Ok(Ok(s)) => s.records,
        Ok(Err(f)) => panic!("chain damaged: {f}"),
        Err(e) => panic!("verify failed to run: {e}"),
    }
}

#[test]
fn open_creates_private_dir_and_wal_database() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("a/b");
    let store = open(&dir);
    assert_eq!(store.path(), dir.join("gatehouse.db"));
    assert!(store.path().is_file());
    let mode: String = raw(&dir)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap_or_default();
    assert_eq!(mode, "wal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .ok()
        };
        assert_eq!(m(&dir), Some(0o700));
        assert_eq!(m(store.path()), Some(0o600));
        fill(&store, 1);
        assert_eq!(m(&dir.join("gatehouse.db-wal")), Some(0o600));
        assert_eq!(m(&dir.join("gatehouse.db-shm")), Some(0o600));
    }
}

/// Regression: every hook process used to be the last connection, so its
/// close checkpointed and deleted the WAL (extra fsyncs on every tool call).
#[test]
fn closing_the_only_connection_leaves_the_wal_for_later() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 1);
    drop(store);
    let wal = tmp.path().join("gatehouse.db-wal");
    let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(len > 0, "WAL was checkpointed away on close");
    assert_eq!(verified_count(&open(tmp.path())), 1);
}

/// Regression: with one short-lived connection per append (a hook per tool
/// call), the WAL was re-checkpointed by every process but never restarted,
/// growing without bound and costing every append two extra syncs.
#[test]
fn wal_stays_small_when_every_append_opens_its_own_connection() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for i in 0..400 {
        let store = open(tmp.path());
        if let Err(e) = store.append(&record(i)) {
            panic!("append {i}: {e}");
        }
    }
    let wal = tmp.path().join("gatehouse.db-wal");
    let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(len < 1024 * 1024, "WAL grew to {len} bytes");
    assert_eq!(verified_count(&open(tmp.path())), 400);
}

/// A verify in progress must not hold up appends through the same store.
#[test]
fn appends_proceed_while_a_verify_walks_the_log() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = std::sync::Arc::new(open(tmp.path()));
    let batch: Vec<AuditRecord> = (0..5000).map(record).collect();
    store.append_batch(&batch).unwrap_or_else(|e| panic!("{e}"));
    let verifier = {
        let store = store.clone();
        std::thread::spawn(move || {
            store
                .verify()
                .map(|v| v.map(|s| s.records).ok())
                .ok()
                .flatten()
        })
    };
    for i in 0..5 {
        store.append(&record(i)).unwrap_or_else(|e| panic!("{e}"));
    }
    let seen = verifier.join().ok().flatten();
    // The walk saw one consistent snapshot: all, some or none of the new records.
    assert!(seen.is_some_and(|n| (5000..=5005).contains(&n)), "{seen:?}");
    assert_eq!(verified_count(&store), 5005);
}

#[test]
fn open_existing_refuses_to_create() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = tmp.path().join("gatehouse.db");
    assert!(matches!(
        SqliteStore::open_existing(&path),
        Err(StoreError::Open { .. })
    ));
    assert!(!path.exists());
}

#[test]
fn tampered_column_type_is_reported_as_modified() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 3);
    let _ = raw(tmp.path()).execute("UPDATE audit_log SET time = 'yesterday' WHERE seq = 2", []);
    assert_eq!(
        fault(&store).to_string(),
        "record #2: modified (time holds the text \"yesterday\", not an integer)"
    );
    let _ = raw(tmp.path()).execute(
        "UPDATE audit_log SET time = 1002, decision = 'maybe' WHERE seq = 2",
        [],
    );
    assert_eq!(
        fault(&store).to_string(),
        "record #2: modified (decision holds \"maybe\")"
    );
}

#[test]
fn schema_from_the_future_is_refused() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    drop(open(tmp.path()));
    let _ = raw(tmp.path()).execute_batch("PRAGMA user_version = 99");
    match SqliteStore::open(&SqliteStore::path_in(tmp.path())) {
        Err(StoreError::SchemaTooNew { found: 99, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// Environment variable that turns [`child_appender`] into a real appender.
const CHILD_DIR: &str = "GATEHOUSE_STORE_TEST_CHILD_DIR";
const CHILD_APPENDS: i64 = 40;

#[test]
fn concurrent_processes_form_one_chain() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    // Every child opens the fresh database itself: migrations race too.
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_appender",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, tmp.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn: {e}"))
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(verified_count(&open(tmp.path())), 4 * CHILD_APPENDS as u64);
}

/// Not a test on its own: the body of one appender process for
/// `concurrent_processes_form_one_chain`, which runs it with `--ignored`.
#[test]
#[ignore = "helper process for concurrent_processes_form_one_chain"]
fn child_appender() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        panic!("{CHILD_DIR} is not set: this helper only runs as a child process");
    };
    let dir = std::path::PathBuf::from(dir);
    for i in 0..CHILD_APPENDS {
        // A fresh open per append, like a hook process.
        let store = open(&dir);
        if let Err(e) = store.append(&record(i)) {
            panic!("child append {i}: {e}");
        }
    }
}

#[test]
fn an_append_waits_for_another_writer_instead_of_failing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = open(tmp.path());
    fill(&store, 1);
    let blocker = raw(tmp.path());
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        blocker.execute_batch("COMMIT").expect("release it");
    });
    // Another connection, as a second hook process would have.
    let other = open(tmp.path());
    other
        .append(&record(2))
        .expect("waits for the lock, then appends");
    releaser.join().expect("releaser");
    assert_eq!(verified_count(&store), 2);
}
