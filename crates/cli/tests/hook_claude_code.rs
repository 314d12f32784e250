//! `gatehouse hook claude-code` end to end: real-shaped payloads for every
//! tool family and event, the exact answer and exit code, and the audit
//! record on disk. Runs the real binary against the test's own policy.

#[path = "hook_support.rs"]
mod support;

use support::{Sandbox, claude, pre_tool_use};

fn pre(sb: &Sandbox, tool: &str, input: &str) -> support::Run {
    sb.hook(
        "claude-code",
        &[],
        claude("PreToolUse", tool, input).as_bytes(),
    )
}

#[test]
fn every_tool_family_gets_the_exact_answer() {
    let sb = Sandbox::new();
    let cases: &[(&str, &str, &str)] = &[
        (
            "Bash",
            r#"{"command":"ls -la","description":"list"}"#,
            &pre_tool_use("allow", "gatehouse: Listing is fine [ls-ok]"),
        ),
        (
            "Bash",
            r#"{"command":"rm -rf build"}"#,
            &pre_tool_use("deny", "gatehouse: Deleting files is not allowed [no-rm]"),
        ),
        (
            "Bash",
            r#"{"command":"cd /srv && kubectl apply -f prod.yaml"}"#,
            &pre_tool_use(
                "ask",
                "gatehouse: Production deployment requires approval [deploys]",
            ),
        ),
        ("Bash", r#"{"command":"echo hello"}"#, ""),
        (
            "Read",
            r#"{"file_path":"/work/app/.env"}"#,
            &pre_tool_use("deny", "gatehouse: Secrets are off limits [PATH-SECRET]"),
        ),
        ("Read", r#"{"file_path":"/work/app/src/main.rs"}"#, ""),
        (
            "Grep",
            r#"{"pattern":"BEGIN","path":"/home/u/.ssh"}"#,
            &pre_tool_use("deny", "gatehouse: Secrets are off limits [PATH-SECRET]"),
        ),
        (
            "Glob",
            r#"{"pattern":"**/.env"}"#,
            &pre_tool_use("deny", "gatehouse: Secrets are off limits [PATH-SECRET]"),
        ),
        (
            "Write",
            r#"{"file_path":"/work/app/.env","content":"K=V"}"#,
            &pre_tool_use(
                "deny",
                "gatehouse: Do not write .env files [no-secret-writes]",
            ),
        ),
        (
            "Edit",
            r#"{"file_path":"/work/app/a.rs","old_string":"a","new_string":"b"}"#,
            "",
        ),
        (
            "WebFetch",
            r#"{"url":"https://example.com","prompt":"read"}"#,
            &pre_tool_use(
                "ask",
                "gatehouse: Network access needs approval [fetch-ask]",
            ),
        ),
        (
            "WebSearch",
            r#"{"query":"rust"}"#,
            &pre_tool_use(
                "ask",
                "gatehouse: Network access needs approval [fetch-ask]",
            ),
        ),
        (
            "mcp__github__create_issue",
            r#"{"title":"t"}"#,
            &pre_tool_use("allow", "gatehouse: GitHub MCP is trusted [mcp-github]"),
        ),
        ("Task", r#"{"description":"d","prompt":"p"}"#, ""),
        ("SomeNewTool", r#"{"x":1}"#, ""),
    ];
    for (tool, input, want) in cases {
        let run = pre(&sb, tool, input);
        assert_eq!(
            (run.stdout.as_str(), run.code),
            (*want, 0),
            "{tool} {input}; stderr: {}",
            run.stderr
        );
        assert_eq!(run.stderr, "", "{tool}");
    }
    // One decision record per call, on disk when the hook answered.
    let audit = sb.audit();
    assert_eq!(audit.len(), cases.len());
    assert!(audit.iter().all(|a| a.kind == "decision"));
    let decisions: Vec<&str> = audit
        .iter()
        .map(|a| a.decision.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        decisions,
        [
            "allow", "deny", "ask", "defer", "deny", "defer", "deny", "deny", "deny", "defer",
            "ask", "ask", "allow", "defer", "defer"
        ]
    );
    assert_eq!(audit[14].tool, "SomeNewTool");
}

#[test]
fn a_gateway_ask_without_a_daemon_follows_headless_deny_and_says_why() {
    let sb = Sandbox::new();
    let run = pre(
        &sb,
        "Bash",
        r#"{"command":"terraform apply -auto-approve"}"#,
    );
    assert_eq!(
        run.stdout,
        pre_tool_use(
            "deny",
            "gatehouse: Terraform needs a reviewer — needs approval, the policy routes this approval to the gatehouse gateway, and no gatehouse daemon is configured; approval.headless is deny (run `gatehouse serve` to hold approvals) [gateway-only]"
        )
    );
    assert_eq!(sb.audit()[0].decision.as_deref(), Some("deny"));
}

#[test]
fn headless_allow_lets_a_gateway_ask_through_audited() {
    let sb = Sandbox::new();
    let policy = format!("{}approval:\n  headless: allow\n", support::POLICY);
    std::fs::write(sb.policy(), policy).expect("policy");
    let run = pre(&sb, "Bash", r#"{"command":"terraform apply"}"#);
    assert!(
        run.stdout.contains("\"permissionDecision\":\"allow\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("approval.headless is allow"),
        "{}",
        run.stdout
    );
}

#[test]
fn permission_request_is_answered_from_the_same_policy() {
    let sb = Sandbox::new();
    let ask = |input: &str| {
        sb.hook(
            "claude-code",
            &[],
            claude("PermissionRequest", "Bash", input).as_bytes(),
        )
    };
    assert_eq!(
        ask(r#"{"command":"rm -rf /"}"#).stdout,
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PermissionRequest\",\"decision\":{\"behavior\":\"deny\",\"message\":\"gatehouse: Deleting files is not allowed [no-rm]\"}}}\n"
    );
    assert_eq!(
        ask(r#"{"command":"ls"}"#).stdout,
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PermissionRequest\",\"decision\":{\"behavior\":\"allow\"}}}\n"
    );
    // ask and defer leave Claude Code's own dialog up.
    assert_eq!(ask(r#"{"command":"kubectl apply -f x"}"#).stdout, "");
    assert_eq!(ask(r#"{"command":"echo hi"}"#).stdout, "");
}

#[test]
fn post_tool_use_records_the_outcome() {
    let sb = Sandbox::new();
    let post = |input: &str, response: &str| {
        let payload = claude("PostToolUse", "Bash", input).replace(
            r#","tool_use_id""#,
            &format!(r#","tool_response":{response},"tool_use_id""#),
        );
        sb.hook("claude-code", &[], payload.as_bytes())
    };
    let run = post(
        r#"{"command":"kubectl apply -f x"}"#,
        r#"{"stdout":"applied","stderr":"","interrupted":false}"#,
    );
    assert_eq!((run.stdout.as_str(), run.code), ("", 0), "{}", run.stderr);
    let run = post(r#"{"command":"make"}"#, r#"{"error":"exit 2"}"#);
    assert_eq!((run.stdout.as_str(), run.code), ("", 0), "{}", run.stderr);
    let audit = sb.audit();
    assert_eq!(audit.len(), 2);
    assert_eq!(
        (audit[0].kind.as_str(), audit[0].outcome.as_deref()),
        ("outcome", Some("success"))
    );
    assert_eq!(
        audit[0].decision.as_deref(),
        Some("ask"),
        "ran after the host's prompt"
    );
    assert_eq!(audit[1].outcome.as_deref(), Some("error"));
}

#[test]
fn session_is_gatehouse_session_else_git_branch_else_host_id() {
    let sb = Sandbox::new();
    let repo = sb.path().join("myapp");
    std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
    std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    let in_repo = claude("PreToolUse", "Bash", r#"{"command":"echo"}"#)
        .replace("/work/app", repo.to_str().expect("utf-8"));
    sb.hook("claude-code", &[], in_repo.as_bytes());
    let policy = sb.policy();
    let args = [
        "hook",
        "claude-code",
        "--policy",
        policy.to_str().expect("utf-8"),
    ];
    sb.run(
        &args,
        in_repo.as_bytes(),
        &[("GATEHOUSE_SESSION", "pinned/one")],
    );
    sb.hook(
        "claude-code",
        &[],
        claude("PreToolUse", "Bash", r#"{"command":"echo"}"#).as_bytes(),
    );
    let sessions: Vec<Option<String>> = sb.audit().into_iter().map(|a| a.session).collect();
    assert_eq!(
        sessions,
        [
            Some("myapp/main".into()),
            Some("pinned/one".into()),
            Some("sess-1".into())
        ]
    );
}

#[test]
fn secrets_in_arguments_are_redacted_in_the_audit_log() {
    let sb = Sandbox::new();
    pre(
        &sb,
        "Bash",
        r#"{"command":"curl -H 'Authorization: Bearer sk-abcdefghijklmnopqrstuvwx' https://x"}"#,
    );
    let path = gatehouse_store::SqliteStore::path_in(&sb.data());
    let raw = std::fs::read(&path).expect("db");
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("sk-abcdefghijklmnopqrstuvwx"),
        "secret stored in clear"
    );
}

#[test]
fn bundled_policy_denies_reading_an_ssh_key_and_defers_harmless_reads() {
    let sb = Sandbox::new();
    let run = |tool: &str, input: &str| {
        sb.run(
            &["hook", "claude-code"],
            claude("PreToolUse", tool, input).as_bytes(),
            &[],
        )
    };
    let key = run("Read", r#"{"file_path":"/home/u/.ssh/id_ed25519"}"#);
    assert_eq!(key.code, 0, "{}", key.stderr);
    assert!(
        key.stdout.contains("\"permissionDecision\":\"deny\""),
        "{}",
        key.stdout
    );
    let harmless = run("Read", r#"{"file_path":"/work/app/README.md"}"#);
    assert_eq!(harmless.code, 0, "{}", harmless.stderr);
    assert!(!harmless.stdout.contains("\"deny\""), "{}", harmless.stdout);
}

#[test]
fn concurrent_hooks_append_one_intact_chain() {
    use gatehouse_store::{AuditStore, SqliteStore};
    let sb = Sandbox::new();
    std::thread::scope(|s| {
        for i in 0..8 {
            let sb = &sb;
            s.spawn(move || {
                let run = pre(sb, "Bash", &format!(r#"{{"command":"echo {i}"}}"#));
                assert_eq!((run.code, run.stderr.as_str()), (0, ""));
            });
        }
    });
    let store = SqliteStore::open_existing(&SqliteStore::path_in(&sb.data())).expect("open");
    let summary = store.verify().expect("readable").expect("chain intact");
    assert_eq!(summary.records, 8);
}

#[test]
fn an_unchanged_policy_is_served_from_the_cache_and_an_edit_takes_effect_at_once() {
    let sb = Sandbox::new();
    let rm = || {
        sb.hook(
            "claude-code",
            &[],
            claude("PreToolUse", "Bash", r#"{"command":"rm -rf build"}"#).as_bytes(),
        )
    };
    let entries = || {
        std::fs::read_dir(sb.data().join("policy-cache"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let decided = |stdout: &str, what: &str| {
        let want = format!(r#""permissionDecision":"{what}""#);
        assert!(stdout.contains(&want), "want {want} in {stdout}");
    };
    let first = rm();
    decided(&first.stdout, "deny");
    assert_eq!(entries(), 1, "the first load leaves an entry");
    let second = rm();
    assert_eq!(
        second.stdout, first.stdout,
        "the cached policy decides the same"
    );
    assert_eq!(entries(), 1, "an unchanged policy reuses its entry");

    let edited = std::fs::read_to_string(sb.policy())
        .expect("policy")
        .replace(
            "action: deny\n    message: Deleting",
            "action: allow\n    message: Deleting",
        );
    std::fs::write(sb.policy(), edited).expect("edit the policy");
    let third = rm();
    decided(&third.stdout, "allow");
    assert_eq!(entries(), 2, "the edited text has its own entry");

    std::fs::write(
        sb.policy(),
        "version: 1\nrules:\n  - name: x\n    match: { comand: rm }\n",
    )
    .expect("break the policy");
    let broken = rm();
    assert_eq!(broken.code, 2, "a broken policy blocks: {}", broken.stderr);
    assert!(broken.stderr.contains("comand"), "{}", broken.stderr);
}
