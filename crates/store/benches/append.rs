//! Audit append costs on the SQLite store, as a hook and the daemon pay them.
//!
//! - `append/single_full_sync`: one durable append on an open store (the
//!   per-decision cost with `synchronous=FULL`: one WAL fsync).
//! - `append/batch_100`: 100 records in one transaction (the daemon's batched
//!   path); throughput in records/s.
//! - `hook/open_only`: open a connection to an existing database (pragmas,
//!   schema check) and close it; no write.
//! - `hook/open_append_close`: what one hook process does for its record,
//!   with no other connection open (the usual case without a daemon).
//! - `verify/10k`: walk and re-hash a 10,000-record chain.
//!
//! Run: `cargo bench -p gatehouse-store --bench append`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse_core::audit::{AuditKind, AuditRecord};
use gatehouse_core::{Action, Timestamp, ToolClass};
use gatehouse_store::{AuditStore, SqliteStore};

fn record(i: i64) -> AuditRecord {
    let mut r = AuditRecord::new(Timestamp(1_795_246_200_000 + i), AuditKind::Decision);
    r.host = Some("claude-code".into());
    r.session = Some("gatehouse/main".into());
    r.host_session = Some("2f1c9e0a-8d7b-4c55-a1f3-9b8e7d6c5b4a".into());
    r.cwd = Some("/home/dev/src/gatehouse".into());
    r.tool = "Bash".into();
    r.class = Some(ToolClass::Exec);
    r.input = serde_json::json!({
        "command": "cargo test -p gatehouse-store -- --nocapture",
        "description": "Run the store tests"
    });
    r.decision = Some(Action::Allow);
    r.rules = vec!["EXEC-CARGO".into()];
    r
}

fn open(dir: &std::path::Path) -> SqliteStore {
    match SqliteStore::open(&SqliteStore::path_in(dir)) {
        Ok(s) => s,
        Err(e) => panic!("open: {e}"),
    }
}

fn append(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    let mut group = c.benchmark_group("append");
    let mut i = 0;
    group.throughput(Throughput::Elements(1));
    group.bench_function("single_full_sync", |b| {
        b.iter(|| {
            i += 1;
            black_box(store.append(&record(i)).map(|e| e.seq).ok())
        })
    });
    let batch: Vec<AuditRecord> = (0..100).map(record).collect();
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("batch_100", |b| {
        b.iter(|| black_box(store.append_batch(&batch).map(|e| e.len()).ok()))
    });
    group.finish();
}

fn hook(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    drop(open(tmp.path()));
    let mut group = c.benchmark_group("hook");
    group.bench_function("open_only", |b| b.iter(|| black_box(open(tmp.path()))));
    group.bench_function("open_append_close", |b| {
        b.iter(|| {
            let s = open(tmp.path());
            black_box(s.append(&record(7)).map(|e| e.seq).ok())
        })
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = open(tmp.path());
    let records: Vec<AuditRecord> = (0..10_000).map(record).collect();
    for chunk in records.chunks(1000) {
        if let Err(e) = store.append_batch(chunk) {
            panic!("fill: {e}");
        }
    }
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("10k", |b| {
        b.iter(|| black_box(store.verify().ok().map(|v| v.is_ok())))
    });
    group.finish();
}

criterion_group!(benches, append, hook, verify);
criterion_main!(benches);
