//! `gatehouse user add|list|remove` against a temporary GATEHOUSE_HOME.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(home: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gatehouse");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("output")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn user_add_prints_the_totp_enrolment_once_and_stores_no_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("data");
    let add = [
        "user",
        "add",
        "alice",
        "--role",
        "approver",
        "--password-stdin",
    ];
    let out = run(&home, &add, "correct horse battery staple\n");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("otpauth://totp/gatehouse:alice?secret="),
        "{stdout}"
    );
    assert!(stdout.contains("issuer=gatehouse"), "{stdout}");
    assert!(
        stdout.contains('█') || stdout.contains('▀'),
        "a QR code: {stdout}"
    );
    let mut db = std::fs::read(home.join("gatehouse.db")).expect("db");
    db.extend(std::fs::read(home.join("gatehouse.db-wal")).unwrap_or_default());
    assert!(
        db.windows(5).any(|w| w == b"alice"),
        "the user is in the files searched"
    );
    let needle = b"correct horse battery staple";
    assert!(
        !db.windows(needle.len()).any(|w| w == needle),
        "password stored in clear"
    );

    let again = run(&home, &add, "correct horse battery staple\n");
    assert!(!again.status.success(), "a second alice is refused");
    assert!(text(&again).contains("exists already"), "{}", text(&again));

    let list = run(&home, &["user", "list"], "");
    assert!(String::from_utf8_lossy(&list.stdout).contains("alice\tapprover"));
    let removed = run(&home, &["user", "remove", "alice"], "");
    assert!(removed.status.success(), "{}", text(&removed));
    let gone = run(&home, &["user", "remove", "alice"], "");
    assert!(!gone.status.success());
}

#[test]
fn weak_passwords_agent_roles_and_missing_terminals_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("data");
    let weak = run(
        &home,
        &["user", "add", "bob", "--role", "admin", "--password-stdin"],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(text(&weak).contains("at least 12"), "{}", text(&weak));
    let agent = run(
        &home,
        &["user", "add", "bot", "--role", "agent", "--password-stdin"],
        "long enough password\n",
    );
    assert!(!agent.status.success());
    assert!(
        text(&agent).contains("approver or admin"),
        "{}",
        text(&agent)
    );
    // No --password-stdin and no terminal: refuse rather than read a pipe silently.
    let piped = run(&home, &["user", "add", "carol", "--role", "admin"], "pw\n");
    assert!(!piped.status.success());
    assert!(
        text(&piped).contains("--password-stdin"),
        "{}",
        text(&piped)
    );
}
