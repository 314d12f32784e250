//! `gatehouse check` and `gatehouse policy lint|test|schema` through the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn gatehouse(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .current_dir(dir)
        // Keep the user's own policy and session out of the test.
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("HOME", dir)
        .env_remove("GATEHOUSE_POLICY")
        .env_remove("GATEHOUSE_SESSION")
        .output()
        .unwrap_or_else(|e| panic!("cannot run gatehouse: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

const POLICY: &str = r#"version: 1
default: allow
rules:
  - name: no-rm
    match: { tool: exec, command: "rm *" }
    action: deny
    message: no deleting
  - name: high-value-refund
    match: { tool: send_refund, args: { amount: { gt: 1000 } } }
    action: ask
    approvers: 2
  - id: PATH-ENV-FILE
    name: env
    match: { tool: read, path: "**/.env" }
    severity: high
tests:
  - call: { command: "sudo bash -c 'rm -rf /tmp/x'" }
    expect: deny
    expect_rules: no-rm
  - call: { tool: send_refund, input: { amount: 9500 } }
    expect: ask
  - call: { command: "ls" }
    expect: allow
"#;

/// `gatehouse check --policy my.yaml --json ARGS` against [`POLICY`]; must succeed.
fn check_json(args: &[&str]) -> serde_json::Value {
    let dir = tmp();
    std::fs::write(dir.path().join("my.yaml"), POLICY).unwrap_or_else(|e| panic!("{e}"));
    let mut all = vec!["check", "--policy", "my.yaml", "--json"];
    all.extend_from_slice(args);
    let out = gatehouse(&all, dir.path());
    assert!(out.status.success(), "{out:?}");
    json(&out)
}

#[test]
fn check_json_unwraps_wrappers_and_names_the_rule() {
    let v = check_json(&["--", "sudo bash -c 'rm -rf /tmp/x'"]);
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["rules"], serde_json::json!(["no-rm"]));
    assert_eq!(v["message"], "no deleting");
    let commands = v["commands"].as_array().cloned().unwrap_or_default();
    assert!(
        commands.contains(&serde_json::json!(["rm", "-rf", "/tmp/x"])),
        "{commands:?}"
    );
}

#[test]
fn check_tool_input_infers_the_class() {
    let v = check_json(&["--tool", "send_refund", "--input", r#"{"amount": 9500}"#]);
    assert_eq!(v["decision"], "ask");
    assert_eq!(v["approvers"], 2);
    let v = check_json(&[
        "--tool",
        "read",
        "--input",
        r#"{"file_path": "/home/u/app/.env"}"#,
    ]);
    assert_eq!(v["decision"], "ask");
    assert_eq!(v["rules"], serde_json::json!(["PATH-ENV-FILE"]));
    assert_eq!(v["severity"], "high");
}

#[test]
fn check_human_output_uses_the_bundled_policy_by_default() {
    let dir = tmp();
    let out = gatehouse(&["check", "kubectl apply -f prod.yaml"], dir.path());
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("decision: ask"), "{text}");
    assert!(text.contains("EXEC-PROD-DEPLOY"), "{text}");
    assert!(
        text.contains("commands: kubectl apply -f prod.yaml"),
        "{text}"
    );
}

#[test]
fn check_with_a_broken_policy_fails_with_a_position() {
    let dir = tmp();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "version: 1\nrules:\n  - name: x\n    match: {comand: rm}\n    action: deny\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = gatehouse(&["check", "--policy", "bad.yaml", "ls"], dir.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:4:13: error: unknown match key `comand`"),
        "{err}"
    );
}

#[test]
fn check_needs_something_to_check() {
    let dir = tmp();
    let out = gatehouse(&["check"], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to check"));
    let out = gatehouse(
        &["check", "--tool", "x", "--input", "{not json"],
        dir.path(),
    );
    assert!(!out.status.success());
}

#[test]
fn lint_exit_codes_and_positions() {
    let dir = tmp();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, POLICY).unwrap_or_else(|e| panic!("{e}"));
    let out = gatehouse(&["policy", "lint", "good.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    std::fs::write(
        dir.path().join("warn.yaml"),
        "version: 1\ncolour: red\nrules:\n  - name: a\n    match: {command: \"rm *\"}\n    action: deny\n  - name: a\n    match: {command: \"rm -rf build/*\"}\n    action: allow\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = gatehouse(&["policy", "lint", "warn.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("warn.yaml:2:1: warning: unknown key `colour`"),
        "{text}"
    );
    assert!(
        text.contains("warn.yaml:7:5: warning: duplicate rule name `a`"),
        "{text}"
    );
    assert!(text.contains("never takes effect"), "{text}");

    std::fs::write(
        dir.path().join("bad.yaml"),
        "version: 1\nrules:\n  - name: a\n    match: {tool: exec}\n    action: perhaps\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = gatehouse(&["policy", "lint", "bad.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).contains("bad.yaml:5:13: error:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn policy_test_runs_file_tests_and_reports_failures() {
    let dir = tmp();
    std::fs::write(dir.path().join("my.yaml"), POLICY).unwrap_or_else(|e| panic!("{e}"));
    let out = gatehouse(&["policy", "test", "my.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("3 passed, 0 failed"),
        "{}",
        stdout(&out)
    );

    let failing = format!("{POLICY}  - call: {{ command: \"rm x\" }}\n    expect: allow\n");
    std::fs::write(dir.path().join("fail.yaml"), failing).unwrap_or_else(|e| panic!("{e}"));
    let out = gatehouse(&["policy", "test", "fail.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("FAIL exec `rm x`"), "{text}");
    assert!(text.contains("expected: allow"), "{text}");
    assert!(text.contains("actual:   deny by no-rm"), "{text}");
}

#[test]
fn policy_test_without_a_file_runs_the_bundled_packs() {
    let dir = tmp();
    let out = gatehouse(&["policy", "test"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("bundled:gate.yaml:"), "{text}");
    assert!(text.contains("bundled:detections.yaml:"), "{text}");
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.ends_with(" 0 failed")),
        "{text}"
    );
}

#[test]
fn policy_schema_prints_the_committed_schema() {
    let dir = tmp();
    let out = gatehouse(&["policy", "schema"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let committed = include_str!("../../policy/policy.schema.json");
    assert_eq!(stdout(&out), committed);
    let v = json(&out);
    assert_eq!(v["title"], "gatehouse policy");
}
