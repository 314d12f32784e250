//! Every way the hook can fail ends in a block the host honours: for Claude
//! Code exit 2 with a one-line reason on stderr (exit 1 or a crash would let
//! the call through), for the JSON-deny hosts an explicit deny.

#[path = "hook_support.rs"]
mod support;

use support::{Sandbox, claude};

fn assert_claude_blocked(run: &support::Run, why: &str) {
    assert_eq!(run.code, 2, "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "nothing on stdout");
    assert!(run.stderr.starts_with("gatehouse: "), "{}", run.stderr);
    assert!(
        run.stderr.contains(why),
        "expected {why:?} in {:?}",
        run.stderr
    );
    assert!(run.stderr.ends_with("(fail closed)\n"), "{:?}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {:?}", run.stderr);
}

#[test]
fn empty_stdin_blocks() {
    let sb = Sandbox::new();
    assert_claude_blocked(
        &sb.hook("claude-code", &[], b""),
        "payload on stdin is empty",
    );
    assert_claude_blocked(
        &sb.hook("claude-code", &[], b"  \n"),
        "payload on stdin is empty",
    );
}

#[test]
fn malformed_json_blocks() {
    let sb = Sandbox::new();
    let run = sb.hook("claude-code", &[], br#"{"hook_event_name":"PreToolUse","#);
    assert_claude_blocked(&run, "malformed claude-code hook payload");
}

#[test]
fn missing_required_field_blocks() {
    let sb = Sandbox::new();
    let run = sb.hook(
        "claude-code",
        &[],
        br#"{"session_id":"s","hook_event_name":"PreToolUse","tool_input":{"command":"ls"}}"#,
    );
    assert_claude_blocked(&run, "missing field `tool_name`");
}

#[test]
fn invalid_utf8_blocks() {
    let sb = Sandbox::new();
    let mut payload = claude("PreToolUse", "Bash", r#"{"command":"ls"}"#).into_bytes();
    payload.insert(40, 0xff);
    assert_claude_blocked(&sb.hook("claude-code", &[], &payload), "not valid UTF-8");
}

#[test]
fn payload_over_the_limit_blocks() {
    let sb = Sandbox::new();
    let big = "x".repeat(4 * 1024 * 1024);
    let payload = claude(
        "PreToolUse",
        "Bash",
        &format!(r#"{{"command":"echo {big}"}}"#),
    );
    assert_claude_blocked(
        &sb.hook("claude-code", &[], payload.as_bytes()),
        "larger than the 4194304 byte limit",
    );
}

#[test]
fn missing_policy_file_blocks() {
    let sb = Sandbox::new();
    let payload = claude("PreToolUse", "Bash", r#"{"command":"ls"}"#);
    let run = sb.run(
        &[
            "hook",
            "claude-code",
            "--policy",
            "/nonexistent/policy.yaml",
        ],
        payload.as_bytes(),
        &[],
    );
    assert_claude_blocked(
        &run,
        "cannot load the policy: cannot read policy file /nonexistent/policy.yaml",
    );
    // GATEHOUSE_POLICY is honoured the same way.
    let run = sb.run(
        &["hook", "claude-code"],
        payload.as_bytes(),
        &[("GATEHOUSE_POLICY", "/nonexistent/env-policy.yaml")],
    );
    assert_claude_blocked(&run, "/nonexistent/env-policy.yaml");
}

#[test]
fn panic_blocks() {
    let sb = Sandbox::new();
    let payload = claude("PreToolUse", "Bash", r#"{"command":"ls"}"#);
    let policy = sb.policy();
    let run = sb.run(
        &[
            "hook",
            "claude-code",
            "--policy",
            policy.to_str().expect("utf-8"),
        ],
        payload.as_bytes(),
        &[("GATEHOUSE_TEST_PANIC", "1")],
    );
    assert_claude_blocked(&run, "internal error (GATEHOUSE_TEST_PANIC is set");
}

#[test]
fn unwritable_audit_log_blocks() {
    let sb = Sandbox::new();
    // The data dir is a file: the audit log cannot be created.
    std::fs::write(sb.data(), "not a directory").expect("write");
    let payload = claude("PreToolUse", "Bash", r#"{"command":"echo hi"}"#);
    assert_claude_blocked(
        &sb.hook("claude-code", &[], payload.as_bytes()),
        "cannot write the audit log",
    );
}

#[test]
fn unsupported_event_blocks() {
    let sb = Sandbox::new();
    let payload = claude("UserPromptSubmit", "Bash", r#"{"command":"ls"}"#);
    assert_claude_blocked(
        &sb.hook("claude-code", &[], payload.as_bytes()),
        "unsupported claude-code hook event",
    );
}

#[test]
fn other_hosts_block_in_their_own_way() {
    let sb = Sandbox::new();
    for host in ["codex", "gemini"] {
        let run = sb.hook(host, &[], b"not json");
        assert_eq!(run.code, 2, "{host}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{host}");
        assert!(
            run.stderr
                .contains(&format!("malformed {host} hook payload")),
            "{host}: {}",
            run.stderr
        );
    }
    let run = sb.hook("cursor", &[], b"not json");
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with(
            "{\"permission\":\"deny\",\"user_message\":\"gatehouse: malformed cursor hook payload"
        ),
        "{}",
        run.stdout
    );
    let run = sb.hook("copilot", &["--event", "preToolUse"], b"not json");
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("{\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"gatehouse: malformed copilot hook payload"), "{}", run.stdout);
    let policy = sb.policy();
    let run = sb.run(
        &[
            "hook",
            "cursor",
            "--policy",
            policy.to_str().expect("utf-8"),
        ],
        b"{}",
        &[("GATEHOUSE_TEST_PANIC", "1")],
    );
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("{\"permission\":\"deny\""),
        "{}",
        run.stdout
    );
}

#[test]
fn unknown_host_is_a_usage_error_that_still_blocks() {
    let sb = Sandbox::new();
    let run = sb.run(&["hook", "vim"], b"{}", &[]);
    assert_eq!(
        run.code, 2,
        "clap's usage error is exit 2, which Claude Code reads as a block"
    );
}

#[test]
fn invalid_policy_file_blocks_with_its_location() {
    let sb = Sandbox::new();
    std::fs::write(
        sb.policy(),
        "version: 1\nrules:\n  - name: x\n    match: { tool: exec }\n    action: perhaps\n",
    )
    .expect("write");
    let payload = claude("PreToolUse", "Bash", r#"{"command":"ls"}"#);
    let run = sb.hook("claude-code", &[], payload.as_bytes());
    assert_claude_blocked(&run, "cannot load the policy");
    assert!(
        run.stderr.contains("policy.yaml:"),
        "names the file: {}",
        run.stderr
    );
    assert!(sb.audit().is_empty(), "nothing decided, nothing recorded");
}
