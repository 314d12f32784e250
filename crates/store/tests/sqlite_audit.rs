//! The SQLite audit store on a real file: appends, queries, verification of
//! tampered databases, and concurrent writers (threads and processes).

use std::path::Path;

use gatehouse_core::audit::{AuditKind, AuditRecord, ChainFault};
use gatehouse_core::{Action, Severity, Timestamp, ToolClass};
use gatehouse_store::{AuditQuery, AuditStore, SqliteStore, StoreError};
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
    }
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
fn appends_chain_and_round_trip() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    let a = store.append(&record(1)).unwrap_or_else(|e| panic!("{e}"));
    let b = store.append(&record(2)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((a.seq, b.seq), (1, 2));
    assert_eq!(b.prev, a.hash);
    let head = store.head().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(head.map(|h| (h.seq, h.hash)), Some((2, b.hash)));
    // Reopen: what comes back is exactly what went in.
    drop(store);
    let store = open(tmp.path());
    let all = store
        .query(&AuditQuery::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all, vec![a, b]);
    assert_eq!(verified_count(&store), 2);
}

#[test]
fn batch_appends_consecutively() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 2);
    let batch: Vec<AuditRecord> = (3..=10).map(record).collect();
    let entries = store.append_batch(&batch).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (3..=10).collect::<Vec<_>>()
    );
    assert!(
        store
            .append_batch(&[])
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
    assert_eq!(verified_count(&store), 10);
}

#[test]
fn queries_filter_and_page() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 12);
    let seqs = |q: AuditQuery| -> Vec<u64> {
        store
            .query(&q)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|e| e.seq)
            .collect()
    };
    assert_eq!(
        seqs(AuditQuery {
            after: 9,
            ..Default::default()
        }),
        vec![10, 11, 12]
    );
    assert_eq!(
        seqs(AuditQuery {
            after: 2,
            limit: Some(2),
            ..Default::default()
        }),
        vec![3, 4]
    );
    assert_eq!(
        seqs(AuditQuery {
            limit: Some(3),
            newest: true,
            ..Default::default()
        }),
        vec![10, 11, 12]
    );
    assert_eq!(
        seqs(AuditQuery {
            decision: Some(Action::Deny),
            ..Default::default()
        }),
        vec![4, 8, 12]
    );
    assert_eq!(
        seqs(AuditQuery {
            rule: Some("FS-RM-RF".into()),
            ..Default::default()
        }),
        vec![4, 8, 12]
    );
    assert_eq!(
        seqs(AuditQuery {
            session: Some("s1".into()),
            ..Default::default()
        }),
        vec![1, 4, 7, 10]
    );
    assert_eq!(
        seqs(AuditQuery {
            tool: Some("Read".into()),
            after: 6,
            ..Default::default()
        }),
        vec![7, 9, 11]
    );
    assert_eq!(
        seqs(AuditQuery {
            since: Some(Timestamp(1_010)),
            ..Default::default()
        }),
        vec![10, 11, 12]
    );
    assert_eq!(
        seqs(AuditQuery {
            until: Some(Timestamp(1_003)),
            ..Default::default()
        }),
        vec![1, 2]
    );
    assert_eq!(
        seqs(AuditQuery {
            kind: Some(AuditKind::Resolution),
            ..Default::default()
        }),
        Vec::<u64>::new()
    );
}

#[test]
fn tampered_field_is_reported_as_modified() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 5);
    let n = raw(tmp.path())
        .execute("UPDATE audit_log SET decision = 'allow' WHERE seq = 4", [])
        .unwrap_or_default();
    assert_eq!(n, 1);
    assert_eq!(
        fault(&store).to_string(),
        "record #4: modified (its contents no longer match its hash)"
    );
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
fn deleted_row_is_reported_missing() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 5);
    let _ = raw(tmp.path()).execute("DELETE FROM audit_log WHERE seq = 2", []);
    assert_eq!(fault(&store), ChainFault::Missing { seq: 2, through: 2 });
}

#[test]
fn swapped_rows_are_reported_reordered() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 5);
    let _ = raw(tmp.path()).execute_batch(
        "UPDATE audit_log SET seq = -2 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = -2;",
    );
    assert_eq!(
        fault(&store),
        ChainFault::Reordered {
            seq: 2,
            written_as: 3
        }
    );
}

#[test]
fn inserted_row_is_reported() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 3);
    // A copy of row 3 appended as row 4, head untouched.
    let _ = raw(tmp.path()).execute(
        "INSERT INTO audit_log SELECT 4, v, time, kind, host, session, host_session, agent, cwd,
                tool, class, input, decision, rules, severity, message, approval_id, actor,
                channel, reason, outcome, prev, hash FROM audit_log WHERE seq = 3",
        [],
    );
    assert_eq!(
        fault(&store).to_string(),
        "record #4: inserted (it lies beyond the head, which ends at #3)"
    );
}

#[test]
fn truncated_tail_is_reported() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 6);
    let _ = raw(tmp.path()).execute("DELETE FROM audit_log WHERE seq > 4", []);
    assert_eq!(fault(&store), ChainFault::Truncated { last: 4, head: 6 });
}

#[test]
fn missing_head_blocks_appends_and_fails_verification() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    fill(&store, 2);
    let _ = raw(tmp.path()).execute("DELETE FROM audit_head", []);
    assert!(matches!(
        store.append(&record(3)),
        Err(StoreError::HeadMissing)
    ));
    assert_eq!(fault(&store).kind(), "head-mismatch");
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

#[test]
fn concurrent_threads_with_own_connections_form_one_chain() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    drop(open(tmp.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let dir = tmp.path().to_path_buf();
            std::thread::spawn(move || {
                let store = open(&dir);
                for i in 0..25 {
                    if let Err(e) = store.append(&record(t * 100 + i)) {
                        panic!("thread {t} append {i}: {e}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().is_ok(), "an appender thread panicked");
    }
    assert_eq!(verified_count(&open(tmp.path())), 100);
}

#[test]
fn concurrent_threads_sharing_one_store_form_one_chain() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = std::sync::Arc::new(open(tmp.path()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let batch = vec![record(t * 100 + i), record(t * 100 + i + 50)];
                    if let Err(e) = store.append_batch(&batch) {
                        panic!("thread {t} batch {i}: {e}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().is_ok(), "an appender thread panicked");
    }
    assert_eq!(verified_count(&store), 80);
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
