//! `gatehouse audit verify|tail|export|head` against real database files,
//! including files tampered with behind gatehouse's back.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gatehouse_core::audit::{AuditKind, AuditRecord};
use gatehouse_core::{Action, Severity, Timestamp, ToolClass};
use gatehouse_store::{AuditEntry, AuditStore, SqliteStore};
use serde_json::json;

fn gatehouse(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("GATEHOUSE_HOME")
        .output()
        .unwrap_or_else(|e| panic!("cannot run gatehouse: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&SqliteStore::path_in(dir)).unwrap_or_else(|e| panic!("open: {e}"))
}

/// 2026-11-21T07:30:00.000Z
const T0: i64 = 1_795_246_200_000;

fn decision(i: i64, tool: &str, action: Action) -> AuditRecord {
    let mut r = AuditRecord::new(Timestamp(T0 + i * 1000), AuditKind::Decision);
    r.host = Some("claude-code".into());
    r.session = Some(if i % 2 == 0 { "repo/main" } else { "repo/dev" }.into());
    r.cwd = Some("/w".into());
    r.tool = tool.into();
    r.class = Some(ToolClass::infer(tool));
    r.input = if tool == "Bash" {
        json!({"command": format!("echo {i}")})
    } else {
        json!({"file_path": format!("/w/f{i}")})
    };
    r.decision = Some(action);
    if action == Action::Deny {
        r.rules = vec!["FS-RM-RF".into()];
        r.severity = Some(Severity::High);
        r.message = Some("recursive delete".into());
    }
    r
}

/// Five records: #1 Bash allow, #2 Read allow, #3 Bash deny, #4 Read allow, #5 Bash allow.
fn five(dir: &Path) -> Vec<AuditEntry> {
    let s = store(dir);
    let recs = [
        decision(1, "Bash", Action::Allow),
        decision(2, "Read", Action::Allow),
        decision(3, "Bash", Action::Deny),
        decision(4, "Read", Action::Allow),
        decision(5, "Bash", Action::Allow),
    ];
    recs.iter()
        .map(|r| s.append(r).unwrap_or_else(|e| panic!("append: {e}")))
        .collect()
}

fn tamper(dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(SqliteStore::path_in(dir))
        .unwrap_or_else(|e| panic!("raw open: {e}"));
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("tamper {sql}: {e}"));
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

#[test]
fn verify_intact_log_exits_zero_with_head() {
    let dir = tmp();
    let entries = five(dir.path());
    let out = gatehouse(dir.path(), &["audit", "verify"]);
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(
        stdout(&out),
        format!("ok: 5 records, chain intact, head #5:{}\n", entries[4].hash)
    );
}

/// Each way of damaging the file, and the line `audit verify` must print.
const TAMPERS: &[(&str, &str, &str)] = &[
    (
        "modified field",
        "UPDATE audit_log SET decision = 'allow' WHERE seq = 3",
        "record #3: modified (its contents no longer match its hash)\n",
    ),
    (
        "modified input",
        "UPDATE audit_log SET input = '{\"command\":\"echo 99\"}' WHERE seq = 2",
        "record #2: modified (its contents no longer match its hash)\n",
    ),
    (
        "deleted row",
        "DELETE FROM audit_log WHERE seq = 2",
        "record #2: missing (deleted)\n",
    ),
    (
        "swapped rows",
        "UPDATE audit_log SET seq = -1 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = -1;",
        "record #2: reordered (it was written as record #4)\n",
    ),
    (
        "inserted row",
        "INSERT INTO audit_log SELECT 6, v, time, kind, host, session, host_session, agent, cwd,
                tool, class, input, 'allow', rules, severity, message, approval_id, actor,
                channel, reason, outcome, hash, hash FROM audit_log WHERE seq = 5",
        "record #6: inserted (it lies beyond the head, which ends at #5)\n",
    ),
    (
        "truncated tail",
        "DELETE FROM audit_log WHERE seq >= 4",
        "record #4: missing (truncated: the log ends at #3 but its head records #5)\n",
    ),
    (
        "head rewound",
        "UPDATE audit_head SET seq = 4",
        "record #5: inserted (it lies beyond the head, which ends at #4)\n",
    ),
];

#[test]
fn verify_names_the_first_bad_record_for_every_kind_of_tampering() {
    for (what, sql, expected) in TAMPERS {
        let dir = tmp();
        five(dir.path());
        tamper(dir.path(), sql);
        let out = gatehouse(dir.path(), &["audit", "verify"]);
        assert_eq!(code(&out), 1, "{what}: {out:?}");
        assert_eq!(stdout(&out), *expected, "{what}");
    }
}

#[test]
fn verify_with_saved_head_catches_a_consistent_cut() {
    let dir = tmp();
    five(dir.path());
    let head = stdout(&gatehouse(dir.path(), &["audit", "head"]));
    let head = head.trim();
    assert!(head.starts_with("5:"), "{head}");
    // Cut the tail and rewrite the head to match: only the saved head shows it.
    tamper(
        dir.path(),
        "DELETE FROM audit_log WHERE seq = 5;
         UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4);",
    );
    assert_eq!(code(&gatehouse(dir.path(), &["audit", "verify"])), 0);
    let out = gatehouse(dir.path(), &["audit", "verify", "--expect", head]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "record #5: missing (truncated: the log ends at #4 but the saved head records #5)\n"
    );
    let out = gatehouse(dir.path(), &["audit", "verify", "--expect", "5:zz"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not SEQ:HASH"));
}

#[test]
fn missing_log_is_reported_not_created() {
    let dir = tmp();
    let out = gatehouse(dir.path(), &["audit", "verify"]);
    assert_eq!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no audit log at"));
    assert!(!SqliteStore::path_in(dir.path()).exists());
    let out = gatehouse(dir.path(), &["audit", "export", "--format", "csv"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "seq,time,kind,host,session,host_session,agent,cwd,tool,class,decision,rules,severity,message,approval_id,actor,channel,reason,outcome,input,hash,prev\n"
    );
}

#[test]
fn export_jsonl_is_exact() {
    let dir = tmp();
    let e = five(dir.path());
    let out = gatehouse(
        dir.path(),
        &["audit", "export", "--format", "jsonl", "--decision", "deny"],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(
        stdout(&out),
        format!(
            concat!(
                r#"{{"seq":3,"time":"2026-11-21T07:30:03.000Z","kind":"decision","host":"claude-code","#,
                r#""session":"repo/dev","host_session":null,"agent":null,"cwd":"/w","tool":"Bash","class":"exec","#,
                r#""decision":"deny","rules":["FS-RM-RF"],"severity":"high","message":"recursive delete","#,
                r#""approval_id":null,"actor":null,"channel":null,"reason":null,"outcome":null,"#,
                r#""input":{{"command":"echo 3"}},"hash":"{}","prev":"{}"}}"#,
                "\n"
            ),
            e[2].hash, e[1].hash
        )
    );
}

#[test]
fn export_csv_is_exact() {
    let dir = tmp();
    let e = five(dir.path());
    let out = gatehouse(
        dir.path(),
        &["audit", "export", "--format", "csv", "--tool", "Read"],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    let expected = format!(
        "seq,time,kind,host,session,host_session,agent,cwd,tool,class,decision,rules,severity,message,approval_id,actor,channel,reason,outcome,input,hash,prev\n\
         2,2026-11-21T07:30:02.000Z,decision,claude-code,repo/main,,,/w,Read,read,allow,,,,,,,,,\"{{\"\"file_path\"\":\"\"/w/f2\"\"}}\",{},{}\n\
         4,2026-11-21T07:30:04.000Z,decision,claude-code,repo/main,,,/w,Read,read,allow,,,,,,,,,\"{{\"\"file_path\"\":\"\"/w/f4\"\"}}\",{},{}\n",
        e[1].hash, e[0].hash, e[3].hash, e[2].hash
    );
    assert_eq!(stdout(&out), expected);
}

#[test]
fn export_filters_combine() {
    let dir = tmp();
    five(dir.path());
    let seqs = |args: &[&str]| -> Vec<u64> {
        let mut full = vec!["audit", "export"];
        full.extend_from_slice(args);
        let out = gatehouse(dir.path(), &full);
        assert_eq!(code(&out), 0, "{args:?}: {out:?}");
        stdout(&out)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["seq"].as_u64())
                    .unwrap_or_else(|| panic!("not a JSON line: {l}"))
            })
            .collect()
    };
    assert_eq!(seqs(&[]), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(&["--session", "repo/dev"]), vec![1, 3, 5]);
    assert_eq!(
        seqs(&[
            "--session",
            "repo/dev",
            "--tool",
            "Bash",
            "--decision",
            "allow"
        ]),
        vec![1, 5]
    );
    assert_eq!(seqs(&["--rule", "FS-RM-RF"]), vec![3]);
    assert_eq!(seqs(&["--since", "2026-11-21T07:30:04Z"]), vec![4, 5]);
    assert_eq!(seqs(&["--kind", "resolution"]), Vec::<u64>::new());
    assert_eq!(seqs(&["--since", "2026-11-21T07:30:04.500Z"]), vec![5]);
    let out = gatehouse(dir.path(), &["audit", "export", "--decision", "maybe"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not one of defer, allow, ask, deny"));
    let out = gatehouse(dir.path(), &["audit", "export", "--since", "last tuesday"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither an RFC 3339 time"));
}

#[test]
fn since_as_an_age_counts_back_from_now() {
    let dir = tmp();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let s = store(dir.path());
    for (i, age_ms) in [(1, 3 * 3_600_000), (2, 60_000)] {
        let mut r = decision(i, "Bash", Action::Allow);
        r.time = Timestamp(now - age_ms);
        s.append(&r).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = gatehouse(
        dir.path(),
        &["audit", "export", "--since", "2h", "--format", "csv"],
    );
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].starts_with("2,"), "{lines:?}");
}

#[test]
fn export_redacts_secrets_left_by_other_writers() {
    let dir = tmp();
    let s = store(dir.path());
    let mut r = decision(1, "Bash", Action::Allow);
    // Written without redaction, as an older or foreign writer might.
    r.input = json!({"command": "curl -H 'Authorization: Bearer sekr3t-value-123' x", "api_key": "k-123"});
    r.reason = Some("ok, token=abcd1234".into());
    s.append(&r).unwrap_or_else(|e| panic!("{e}"));
    let out = stdout(&gatehouse(dir.path(), &["audit", "export"]));
    assert!(
        !out.contains("sekr3t-value-123") && !out.contains("k-123") && !out.contains("abcd1234"),
        "{out}"
    );
    assert!(
        out.contains(r#""command":"curl -H 'Authorization: Bearer [REDACTED]' x""#),
        "{out}"
    );
    assert!(out.contains(r#""api_key":"[REDACTED]""#), "{out}");
    assert!(out.contains(r#""reason":"ok, token=[REDACTED]""#), "{out}");
    let csv = stdout(&gatehouse(
        dir.path(),
        &["audit", "export", "--format", "csv"],
    ));
    assert!(
        !csv.contains("sekr3t-value-123") && !csv.contains("k-123"),
        "{csv}"
    );
}

#[test]
fn tail_prints_the_newest_records_as_text() {
    let dir = tmp();
    five(dir.path());
    let out = gatehouse(dir.path(), &["audit", "tail", "-n", "2"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "#4 2026-11-21T07:30:04.000Z decision allow Read {\"file_path\":\"/w/f4\"} session=repo/main\n\
         #5 2026-11-21T07:30:05.000Z decision allow Bash echo 5 session=repo/dev\n"
    );
    let out = gatehouse(dir.path(), &["audit", "tail", "--decision", "deny"]);
    assert_eq!(
        stdout(&out),
        "#3 2026-11-21T07:30:03.000Z decision deny Bash echo 3 [FS-RM-RF] session=repo/dev\n"
    );
}

#[test]
fn tail_follow_prints_records_appended_later() {
    let dir = tmp();
    five(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "audit", "tail", "-n", "1", "--follow", "--json", "--tool", "Bash",
        ])
        .env("GATEHOUSE_HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let Some(out) = child.stdout.take() else {
        panic!("no stdout");
    };
    let mut lines = BufReader::new(out).lines();
    let mut next_seq = || -> Option<u64> {
        let line = lines.next()?.ok()?;
        serde_json::from_str::<serde_json::Value>(&line).ok()?["seq"].as_u64()
    };
    assert_eq!(next_seq(), Some(5));
    let s = store(dir.path());
    // A Read (filtered out) then a Bash: only the Bash shows, in order.
    s.append(&decision(6, "Read", Action::Allow))
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(300));
    s.append(&decision(7, "Bash", Action::Deny))
        .unwrap_or_else(|e| panic!("{e}"));
    let got = next_seq();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, Some(7));
}

#[test]
fn gatehouse_home_selects_the_log() {
    let dir = tmp();
    five(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["audit", "verify"])
        .env("GATEHOUSE_HOME", dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("ok: 5 records"));
}

/// `--db` with a PostgreSQL connection string: the same verify and export.
/// Skips loudly when PostgreSQL is unreachable, fails under `CI=true`.
#[test]
fn verify_and_export_work_against_postgres() {
    let base = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".into());
    let mut admin =
        match postgres::Client::connect(&format!("{base} connect_timeout=3"), postgres::NoTls) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true but PostgreSQL at {base:?} is unreachable: {e}")
            }
            Err(e) => {
                eprintln!(
                    "SKIPPING verify_and_export_work_against_postgres: {base:?} unreachable ({e})"
                );
                return;
            }
        };
    let schema = format!("t_cli_{}", std::process::id());
    let store = gatehouse_store::PostgresStore::connect_in_schema(&base, &schema)
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 1..=3 {
        store
            .append(&decision(i, "Bash", Action::Allow))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let url = format!("{base} options='-c search_path={schema}'");
    let run = |args: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .args(["--db", &url])
            .output()
            .unwrap_or_else(|e| panic!("cannot run gatehouse: {e}"))
    };
    let ok = run(&["audit", "verify"]);
    let exported = run(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--session",
        "repo/dev",
    ]);
    let _ = admin.batch_execute(&format!(
        "UPDATE {schema}.audit_log SET tool = 'Read' WHERE seq = 2"
    ));
    let damaged = run(&["audit", "verify"]);
    let _ = admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
    assert_eq!(code(&ok), 0, "{ok:?}");
    assert!(
        stdout(&ok).starts_with("ok: 3 records, chain intact"),
        "{ok:?}"
    );
    let lines: Vec<String> = stdout(&exported).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].starts_with("1,") && lines[2].starts_with("3,"),
        "{lines:?}"
    );
    assert_eq!(code(&damaged), 1, "{damaged:?}");
    assert_eq!(
        stdout(&damaged),
        "record #2: modified (its contents no longer match its hash)\n"
    );
}
