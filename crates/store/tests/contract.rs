//! The `AuditStore` contract, run against every backend: SQLite always,
//! PostgreSQL when reachable (required under `CI=true`).
//!
//! PostgreSQL: `GATEHOUSE_TEST_POSTGRES_URL`, default
//! `host=127.0.0.1 port=5432 user=postgres dbname=test`. Each test gets its
//! own schema, dropped afterwards.

use std::sync::Arc;

use gatehouse_core::audit::{AuditKind, AuditRecord, ChainFault};
use gatehouse_core::{Action, Severity, Timestamp, ToolClass};
use gatehouse_store::{AuditQuery, AuditStore, PostgresStore, SqliteStore, StoreError};
use serde_json::json;

/// A place a log lives, and a way around the store to damage it.
trait Backend: Send + Sync {
    fn name(&self) -> &'static str;
    /// A new connection to the same log.
    fn open(&self) -> Box<dyn AuditStore>;
    /// Runs raw SQL against the log's tables, bypassing the store.
    fn tamper(&self, sql: &str);
}

struct Sqlite {
    dir: tempfile::TempDir,
}

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn open(&self) -> Box<dyn AuditStore> {
        match SqliteStore::open(&SqliteStore::path_in(self.dir.path())) {
            Ok(s) => Box::new(s),
            Err(e) => panic!("sqlite open: {e}"),
        }
    }
    fn tamper(&self, sql: &str) {
        let conn = rusqlite::Connection::open(SqliteStore::path_in(self.dir.path()))
            .unwrap_or_else(|e| panic!("sqlite raw open: {e}"));
        conn.execute_batch(sql)
            .unwrap_or_else(|e| panic!("sqlite tamper {sql}: {e}"));
    }
}

struct Postgres {
    url: String,
    schema: String,
}

impl Postgres {
    fn raw(&self) -> postgres::Client {
        let mut c = postgres::Client::connect(&self.url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("postgres raw connect: {e}"));
        c.batch_execute(&format!("SET search_path TO {}", self.schema))
            .unwrap_or_else(|e| panic!("{e}"));
        c
    }
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn open(&self) -> Box<dyn AuditStore> {
        match PostgresStore::connect_in_schema(&self.url, &self.schema) {
            Ok(s) => Box::new(s),
            Err(e) => panic!("postgres connect: {e}"),
        }
    }
    fn tamper(&self, sql: &str) {
        self.raw()
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("postgres tamper {sql}: {e}"));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

fn postgres_url() -> String {
    std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into())
}

/// Every backend available for `test`: SQLite always; PostgreSQL if it
/// answers, else a loud skip (a failure under `CI=true`).
fn backends(test: &str) -> Vec<Arc<dyn Backend>> {
    let mut all: Vec<Arc<dyn Backend>> = vec![Arc::new(Sqlite {
        dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
    })];
    let url = postgres_url();
    let probe = format!("{url} connect_timeout=3");
    match postgres::Client::connect(&probe, postgres::NoTls) {
        Ok(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            all.push(Arc::new(Postgres {
                url,
                schema: format!("t_{test}_{}_{nanos}", std::process::id()),
            }));
        }
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PostgreSQL at {url:?} is unreachable: {e}")
        }
        Err(e) => eprintln!(
            "SKIPPING the PostgreSQL half of {test}: {url:?} unreachable ({e}); set GATEHOUSE_TEST_POSTGRES_URL"
        ),
    }
    all
}

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
    r.input = json!({"command": format!("echo {i}"), "n": i, "f": 0.1, "big": 1e300});
    r.decision = Some(if i % 4 == 0 {
        Action::Deny
    } else {
        Action::Allow
    });
    r.rules = if i % 4 == 0 {
        vec!["FS-RM-RF".into(), "other".into()]
    } else {
        vec![]
    };
    r.severity = (i % 4 == 0).then_some(Severity::High);
    r
}

fn fill(store: &dyn AuditStore, n: i64) {
    for i in 1..=n {
        if let Err(e) = store.append(&record(i)) {
            panic!("append {i}: {e}");
        }
    }
}

fn fault(b: &dyn Backend) -> ChainFault {
    match b.open().verify() {
        Ok(Err(f)) => f,
        Ok(Ok(s)) => panic!(
            "{}: expected damage, verified {} records",
            b.name(),
            s.records
        ),
        Err(e) => panic!("{}: verify failed to run: {e}", b.name()),
    }
}

fn verified(store: &dyn AuditStore) -> u64 {
    match store.verify() {
        Ok(Ok(s)) => s.records,
        Ok(Err(f)) => panic!("chain damaged: {f}"),
        Err(e) => panic!("verify failed to run: {e}"),
    }
}

#[test]
fn empty_log_has_no_head_and_verifies() {
    for b in backends("empty") {
        let s = b.open();
        assert_eq!(s.head().ok().flatten(), None, "{}", b.name());
        assert_eq!(verified(&*s), 0, "{}", b.name());
        assert!(s.query(&AuditQuery::default()).is_ok_and(|v| v.is_empty()));
    }
}

#[test]
fn appends_chain_and_survive_reconnect() {
    for b in backends("roundtrip") {
        let s = b.open();
        let a = s.append(&record(1)).unwrap_or_else(|e| panic!("{e}"));
        let c = s.append(&record(2)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((a.seq, c.seq), (1, 2), "{}", b.name());
        assert_eq!(c.prev, a.hash);
        let head = s.head().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            head.map(|h| (h.seq, h.hash)),
            Some((2, c.hash)),
            "{}",
            b.name()
        );
        drop(s);
        let s = b.open();
        let all = s
            .query(&AuditQuery::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all, vec![a, c], "{}", b.name());
        assert_eq!(verified(&*s), 2);
    }
}

#[test]
fn identical_records_hash_identically_on_every_backend() {
    let hashes: Vec<_> = backends("samehash")
        .iter()
        .map(|b| {
            let s = b.open();
            fill(&*s, 3);
            s.head().ok().flatten().map(|h| h.hash)
        })
        .collect();
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
}

#[test]
fn batches_append_consecutively() {
    for b in backends("batch") {
        let s = b.open();
        fill(&*s, 2);
        let batch: Vec<AuditRecord> = (3..=10).map(record).collect();
        let entries = s.append_batch(&batch).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (3..=10).collect::<Vec<_>>(),
            "{}",
            b.name()
        );
        assert!(s.append_batch(&[]).is_ok_and(|v| v.is_empty()));
        assert_eq!(verified(&*s), 10, "{}", b.name());
    }
}

#[test]
fn large_batches_land_whole_and_in_order() {
    for b in backends("bigbatch") {
        let s = b.open();
        fill(&*s, 1);
        let batch: Vec<AuditRecord> = (2..=451).map(record).collect();
        let entries = s.append_batch(&batch).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries.len(), 450, "{}", b.name());
        assert_eq!(entries.last().map(|e| e.seq), Some(451), "{}", b.name());
        let stored = s
            .query(&AuditQuery {
                after: 1,
                ..AuditQuery::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored, entries, "{}", b.name());
        assert_eq!(verified(&*s), 451, "{}", b.name());
    }
}

#[test]
fn queries_filter_and_page() {
    for b in backends("query") {
        let s = b.open();
        fill(&*s, 12);
        let seqs = |q: AuditQuery| -> Vec<u64> {
            s.query(&q)
                .unwrap_or_else(|e| panic!("{}: {e}", b.name()))
                .into_iter()
                .map(|e| e.seq)
                .collect()
        };
        let q = AuditQuery::default;
        assert_eq!(seqs(AuditQuery { after: 9, ..q() }), vec![10, 11, 12]);
        assert_eq!(
            seqs(AuditQuery {
                after: 2,
                limit: Some(2),
                ..q()
            }),
            vec![3, 4]
        );
        assert_eq!(
            seqs(AuditQuery {
                limit: Some(3),
                newest: true,
                ..q()
            }),
            vec![10, 11, 12]
        );
        assert_eq!(
            seqs(AuditQuery {
                decision: Some(Action::Deny),
                ..q()
            }),
            vec![4, 8, 12]
        );
        assert_eq!(
            seqs(AuditQuery {
                rule: Some("other".into()),
                ..q()
            }),
            vec![4, 8, 12]
        );
        assert_eq!(
            seqs(AuditQuery {
                rule: Some("FS".into()),
                ..q()
            }),
            Vec::<u64>::new()
        );
        assert_eq!(
            seqs(AuditQuery {
                session: Some("s1".into()),
                ..q()
            }),
            vec![1, 4, 7, 10]
        );
        assert_eq!(
            seqs(AuditQuery {
                tool: Some("Read".into()),
                after: 6,
                ..q()
            }),
            vec![7, 9, 11]
        );
        assert_eq!(
            seqs(AuditQuery {
                since: Some(Timestamp(1_010)),
                ..q()
            }),
            vec![10, 11, 12]
        );
        assert_eq!(
            seqs(AuditQuery {
                until: Some(Timestamp(1_003)),
                ..q()
            }),
            vec![1, 2]
        );
        assert_eq!(
            seqs(AuditQuery {
                kind: Some(AuditKind::Admin),
                ..q()
            }),
            Vec::<u64>::new()
        );
    }
}

/// (what, SQL run around the store on a 5-record log, expected fault).
fn tampers() -> Vec<(&'static str, &'static str, ChainFault)> {
    vec![
        (
            "modified field",
            "UPDATE audit_log SET decision = 'allow' WHERE seq = 4",
            ChainFault::Modified {
                seq: 4,
                detail: "its contents no longer match its hash".into(),
            },
        ),
        (
            "unknown value",
            "UPDATE audit_log SET severity = 'apocalyptic' WHERE seq = 2",
            ChainFault::Modified {
                seq: 2,
                detail: "severity holds \"apocalyptic\"".into(),
            },
        ),
        (
            "deleted row",
            "DELETE FROM audit_log WHERE seq = 2",
            ChainFault::Missing { seq: 2, through: 2 },
        ),
        (
            "swapped rows",
            "UPDATE audit_log SET seq = -2 WHERE seq = 2;
             UPDATE audit_log SET seq = 2 WHERE seq = 3;
             UPDATE audit_log SET seq = 3 WHERE seq = -2;",
            ChainFault::Reordered {
                seq: 2,
                written_as: 3,
            },
        ),
        (
            "inserted row",
            "INSERT INTO audit_log SELECT 6, v, time, kind, host, session, host_session, agent,
                cwd, tool, class, input, decision, rules, severity, message, approval_id, actor,
                channel, reason, outcome, prev, hash FROM audit_log WHERE seq = 5",
            ChainFault::Inserted {
                seq: 6,
                detail: "it lies beyond the head, which ends at #5".into(),
            },
        ),
        (
            "truncated tail",
            "DELETE FROM audit_log WHERE seq > 3",
            ChainFault::Truncated { last: 3, head: 5 },
        ),
    ]
}

#[test]
fn every_kind_of_tampering_is_named() {
    for b in backends("tamper") {
        for (what, sql, expected) in tampers() {
            // A fresh log per case: each backend instance holds one log.
            let b = fresh(&b);
            fill(&*b.open(), 5);
            b.tamper(sql);
            assert_eq!(fault(&*b), expected, "{}: {what}", b.name());
        }
    }
}

/// A new, empty log on the same kind of backend as `b`.
fn fresh(b: &Arc<dyn Backend>) -> Arc<dyn Backend> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match b.name() {
        "postgres" => Arc::new(Postgres {
            url: postgres_url(),
            schema: format!("t_fresh_{}_{n}", std::process::id()),
        }),
        _ => Arc::new(Sqlite {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
        }),
    }
}

#[test]
fn missing_head_blocks_appends_and_fails_verification() {
    for b in backends("nohead") {
        let s = b.open();
        fill(&*s, 2);
        b.tamper("DELETE FROM audit_head");
        assert!(
            matches!(s.append(&record(3)), Err(StoreError::HeadMissing)),
            "{}",
            b.name()
        );
        assert_eq!(fault(&*b).kind(), "head-mismatch", "{}", b.name());
    }
}

#[test]
fn concurrent_connections_form_one_chain() {
    for b in backends("concurrent") {
        drop(b.open());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let b = b.clone();
                std::thread::spawn(move || {
                    let s = b.open();
                    for i in 0..20 {
                        let r = if i % 5 == 0 {
                            s.append_batch(&[record(t * 100 + i), record(t * 100 + i + 50)])
                                .map(|_| ())
                        } else {
                            s.append(&record(t * 100 + i)).map(|_| ())
                        };
                        if let Err(e) = r {
                            panic!("thread {t} append {i}: {e}");
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok(), "{}: an appender panicked", b.name());
        }
        assert_eq!(verified(&*b.open()), 4 * 24, "{}", b.name());
    }
}

#[test]
fn one_store_shared_by_threads_forms_one_chain() {
    for b in backends("shared") {
        let s: Arc<dyn AuditStore> = Arc::from(b.open());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        if let Err(e) = s.append(&record(t * 100 + i)) {
                            panic!("thread {t} append {i}: {e}");
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok(), "{}: an appender panicked", b.name());
        }
        assert_eq!(verified(&*s), 40, "{}", b.name());
    }
}
