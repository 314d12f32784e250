//! Decision semantics, independent of the shell parser: exec calls here come
//! with a hand-made analysis so the combining rules are tested on their own.

use gatehouse_core::{Action, CallContext, Severity, ToolCall, Via};
use gatehouse_policy::Policy;
use gatehouse_shell::{AccessKind, Analysis, Command, FileAccess, Unresolved, UnresolvedKind};
use serde_json::json;

fn policy(yaml: &str) -> Policy {
    Policy::load(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn ctx() -> CallContext {
    CallContext {
        cwd: Some("/home/u/app".into()),
        home: Some("/home/u".into()),
        session: Some("myapp/main".into()),
        ..CallContext::default()
    }
}

fn analysis(cmds: &[&str]) -> Analysis {
    Analysis {
        commands: cmds
            .iter()
            .map(|c| Command {
                argv: c.split(' ').map(str::to_owned).collect(),
                via: Vec::new(),
            })
            .collect(),
        ..Analysis::default()
    }
}

fn exec(p: &Policy, line: &str, a: &Analysis) -> gatehouse_core::Decision {
    p.evaluate_analyzed(&ToolCall::exec(line), &ctx(), Some(a))
}

const RULES: &str = r#"
version: 1
default: defer
rules:
  - name: allow-git
    match: { tool: exec, command: "git *" }
    action: allow
  - name: ask-push
    match: { command: "git push *" }
    action: ask
    message: pushing needs a look
  - name: no-rm-root
    match: { command: ["rm -rf /", "rm -fr /"] }
    action: deny
    message: never
"#;

#[test]
fn most_restrictive_wins_and_default_applies_when_nothing_matches() {
    let p = policy(RULES);
    let d = exec(&p, "git status", &analysis(&["git status"]));
    assert_eq!(d.action, Action::Allow);
    assert_eq!(d.rule_labels(), "allow-git");
    let d = exec(&p, "git push origin", &analysis(&["git push origin"]));
    assert_eq!(d.action, Action::Ask);
    assert_eq!(d.rule_labels(), "ask-push");
    assert_eq!(d.message.as_deref(), Some("pushing needs a look"));
    let d = exec(&p, "ls", &analysis(&["ls"]));
    assert_eq!(d.action, Action::Defer);
    assert!(d.rules.is_empty());
}

#[test]
fn allow_grants_only_when_it_covers_every_command() {
    let p = policy(RULES);
    let d = exec(
        &p,
        "git status && git log",
        &analysis(&["git status", "git log"]),
    );
    assert_eq!(d.action, Action::Allow);
    let d = exec(&p, "git status && make", &analysis(&["git status", "make"]));
    assert_eq!(d.action, Action::Defer, "{d:?}");
}

#[test]
fn deny_matches_any_command_of_a_compound_line() {
    let p = policy(RULES);
    let d = exec(
        &p,
        "git status; rm -rf /",
        &analysis(&["git status", "rm -rf /"]),
    );
    assert_eq!(d.action, Action::Deny);
    assert_eq!(d.rule_labels(), "no-rm-root");
    assert_eq!(d.commands.len(), 2);
}

#[test]
fn unresolved_shell_raises_to_ask_when_exec_rules_restrict() {
    let p = policy(RULES);
    let mut a = analysis(&["git status"]);
    a.unresolved.push(Unresolved {
        kind: UnresolvedKind::DynamicCommand,
        detail: "$CMD".into(),
    });
    let d = exec(&p, "git status; $CMD", &a);
    assert_eq!(d.action, Action::Ask);
    assert_eq!(
        d.rules.first().map(|r| r.name.as_str()),
        Some("shell-unresolved")
    );
    assert!(d.diagnostics.iter().any(|x| x.contains("$CMD")), "{d:?}");

    let relaxed = policy(
        "version: 1\ndefault: allow\nrules:\n  - name: r\n    match: {tool: read}\n    action: ask\n",
    );
    assert_eq!(exec(&relaxed, "$CMD", &a).action, Action::Allow);

    let strict = policy(&format!("{RULES}unresolved: deny\n"));
    assert_eq!(exec(&strict, "$CMD", &a).action, Action::Deny);
}

#[test]
fn a_command_line_the_analysis_finds_nothing_in_counts_as_unresolved() {
    let p = policy(RULES);
    let d = exec(&p, "something odd", &Analysis::default());
    assert_eq!(d.action, Action::Ask);
    let d = exec(&p, "# just a comment", &Analysis::default());
    assert_eq!(d.action, Action::Defer);
}

#[test]
fn file_accesses_from_the_shell_feed_path_rules_by_kind() {
    let p = policy(
        "version: 1\nrules:\n  - id: PATH-ENV-FILE\n    match: {tool: read, path: \"**/.env\"}\n    severity: high\n",
    );
    let mut a = analysis(&["cat app/.env"]);
    a.files.push(FileAccess {
        path: "app/.env".into(),
        kind: AccessKind::Read,
        by: "cat".into(),
    });
    let d = exec(&p, "cat app/.env", &a);
    assert_eq!(d.action, Action::Ask);
    assert_eq!(d.rule_labels(), "PATH-ENV-FILE");
    assert_eq!(d.severity, Some(Severity::High));
    // Writing is not reading.
    a.files[0].kind = AccessKind::Write;
    assert_eq!(exec(&p, "x > app/.env", &a).action, Action::Defer);
    // Mentioning is not touching.
    assert_eq!(
        exec(&p, "echo .env", &analysis(&["echo .env"])).action,
        Action::Defer
    );
}

#[test]
fn workspace_and_access_conditions() {
    let p = policy(
        "version: 1\nrules:\n  - name: del-out\n    match: {tool: write, access: delete, workspace: outside}\n    action: ask\n",
    );
    let del = |path: &str| {
        let mut a = analysis(&["rm"]);
        a.files.push(FileAccess {
            path: path.into(),
            kind: AccessKind::Delete,
            by: "rm".into(),
        });
        exec(&p, "rm", &a).action
    };
    assert_eq!(del("build"), Action::Defer);
    assert_eq!(del("/home/u/app/x"), Action::Defer);
    assert_eq!(del("../other"), Action::Ask);
    assert_eq!(del("/tmp/x"), Action::Ask);
}

#[test]
fn severity_only_rules_map_through_thresholds() {
    let yaml = |ask_at: &str| {
        format!(
            "version: 1\nseverity: {{block_at: critical, ask_at: {ask_at}}}\nrules:\n  - {{name: c, match: {{tool: a}}, severity: critical}}\n  - {{name: h, match: {{tool: b}}, severity: high}}\n  - {{name: m, match: {{tool: c}}, severity: medium}}\n"
        )
    };
    let p = policy(&yaml("high"));
    let ev = |p: &Policy, tool: &str| p.evaluate(&ToolCall::infer(tool, json!({})), &ctx()).action;
    assert_eq!(ev(&p, "a"), Action::Deny);
    assert_eq!(ev(&p, "b"), Action::Ask);
    assert_eq!(ev(&p, "c"), Action::Allow);
    let p = policy(&yaml("medium"));
    assert_eq!(ev(&p, "c"), Action::Ask);
}

#[test]
fn args_predicates_and_their_safe_side_on_errors() {
    let p = policy(
        "version: 1\ndefault: allow\nrules:\n  - name: big-refund\n    match: {tool: send_refund, args: {amount: {gt: 1000}}}\n    action: ask\n    approvers: 2\n    via: gateway\n    timeout: 15m\n",
    );
    let ev = |input| p.evaluate(&ToolCall::infer("send_refund", input), &ctx());
    let d = ev(json!({"amount": 9500}));
    assert_eq!(d.action, Action::Ask);
    assert_eq!(d.approvers, 2);
    assert_eq!(d.via, Via::Gateway);
    assert_eq!(d.approval_timeout_secs, Some(900));
    assert_eq!(ev(json!({"amount": 10})).action, Action::Allow);
    let d = ev(json!({"amount": "a lot"}));
    assert_eq!(
        d.action,
        Action::Ask,
        "a rule that cannot be evaluated takes its safe side"
    );
    assert!(
        d.diagnostics.iter().any(|x| x.contains("big-refund")),
        "{d:?}"
    );

    let allow = policy(
        "version: 1\ndefault: ask\nrules:\n  - name: small\n    match: {tool: send_refund, args: {amount: {lt: 100}}}\n    action: allow\n",
    );
    let d = allow.evaluate(
        &ToolCall::infer("send_refund", json!({"amount": "?"})),
        &ctx(),
    );
    assert_eq!(
        d.action,
        Action::Ask,
        "an allow that cannot be evaluated does not grant"
    );
}

#[test]
fn session_tool_globs_and_domains() {
    let p = policy(
        r#"
version: 1
rules:
  - name: prod
    match: { tool: exec, command: "deploy *", session: "myapp/main" }
    action: ask
  - name: gh-writes
    match: { tool: "mcp__github__create_*" }
    action: ask
  - name: no-pastebin
    match: { domain: pastebin.com }
    action: deny
  - name: docs
    match: { tool: fetch, domain: [docs.rs, rust-lang.org] }
    action: allow
"#,
    );
    assert_eq!(
        exec(&p, "deploy x", &analysis(&["deploy x"])).action,
        Action::Ask
    );
    let other = CallContext {
        session: Some("myapp/feature".into()),
        ..ctx()
    };
    let d = p.evaluate_analyzed(
        &ToolCall::exec("deploy x"),
        &other,
        Some(&analysis(&["deploy x"])),
    );
    assert_eq!(d.action, Action::Defer);
    let mcp = |t: &str| p.evaluate(&ToolCall::infer(t, json!({})), &ctx()).action;
    assert_eq!(mcp("mcp__github__create_issue"), Action::Ask);
    assert_eq!(mcp("mcp__github__list_issues"), Action::Defer);
    let fetch = |u: &str| {
        p.evaluate(&ToolCall::infer("WebFetch", json!({"url": u})), &ctx())
            .action
    };
    assert_eq!(fetch("https://pastebin.com/raw/x"), Action::Deny);
    assert_eq!(fetch("https://doc.rust-lang.org/std/"), Action::Allow);
    assert_eq!(fetch("https://example.com/"), Action::Defer);
    let curl = analysis(&["curl https://pastebin.com/raw/abc"]);
    assert_eq!(
        exec(&p, "curl https://pastebin.com/raw/abc", &curl).action,
        Action::Deny
    );
}

#[test]
fn direct_path_allow_must_cover_every_path() {
    let p = policy(
        "version: 1\ndefault: ask\nrules:\n  - name: src\n    match: {tool: read, path: \"src/**\"}\n    action: allow\n",
    );
    let read = |paths: serde_json::Value| {
        p.evaluate(&ToolCall::infer("read", json!({"paths": paths})), &ctx())
            .action
    };
    assert_eq!(
        read(json!(["src/a.rs", "/home/u/app/src/b/c.rs"])),
        Action::Allow
    );
    assert_eq!(read(json!(["src/a.rs", "/etc/passwd"])), Action::Ask);
}

#[test]
fn load_errors_have_positions_and_say_what_to_do() {
    let err = Policy::load(
        "version: 1\nrules:\n  - name: typo\n    match: {tool: exec, comand: \"rm *\"}\n    action: deny\n",
        "my.yaml",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.starts_with("my.yaml:4:25: error: unknown match key `comand`"),
        "{err}"
    );
    assert!(err.contains("did you mean `command`"), "{err}");

    let err = Policy::load(
        "version: 1\nrules:\n  - name: x\n    match: {tool: exec}\n    action: maybe\n",
        "p.yaml",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.starts_with("p.yaml:5:13: error: expected one of allow, ask or deny"),
        "{err}"
    );

    let err = Policy::load("version: 1\nrules: [\n", "p.yaml")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("p.yaml:") && err.contains("invalid YAML"),
        "{err}"
    );

    let err = Policy::load("version: 2\n", "p.yaml")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("p.yaml:1:10: error: unsupported policy version"),
        "{err}"
    );
}

#[test]
fn unknown_keys_outside_match_only_warn() {
    let p = policy(
        "version: 1\ncolour: blue\nrules:\n  - name: a\n    match: {tool: x}\n    action: deny\n    notes: hi\n",
    );
    let w: Vec<String> = p.warnings().iter().map(|d| d.render("p")).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("p:2:1: warning: unknown key `colour`"),
        "{w:?}"
    );
}

#[test]
fn presets_bring_the_packs_and_user_rules_add_to_them() {
    let p = policy(
        "version: 1\npresets: [balanced]\nrules:\n  - name: mine\n    match: {tool: send_email}\n    action: ask\n",
    );
    assert!(p.rule_count() > 10);
    let d = p.evaluate(
        &ToolCall::infer("Read", json!({"file_path": "/home/u/.ssh/id_rsa"})),
        &ctx(),
    );
    assert_eq!(d.action, Action::Deny);
    assert_eq!(d.rule_labels(), "PATH-SSH-KEY");
    let d = p.evaluate(&ToolCall::infer("send_email", json!({})), &ctx());
    assert_eq!(d.action, Action::Ask);
}

#[test]
fn evaluation_of_garbage_input_is_total() {
    let p = Policy::bundled();
    for input in [
        json!(null),
        json!([1, 2]),
        json!({"file_path": 7}),
        json!({"url": "::::"}),
        json!("x"),
    ] {
        for tool in ["Read", "Write", "WebFetch", "mcp__x__y", "Bash", ""] {
            let _ = p.evaluate(&ToolCall::infer(tool, input.clone()), &ctx());
        }
    }
    let weird = CallContext::default();
    let _ = p.evaluate(
        &ToolCall::infer("Read", json!({"file_path": "../../../../x"})),
        &weird,
    );
}

#[test]
fn per_class_defaults_give_an_exec_allowlist() {
    let p = policy(
        "version: 1\ndefault: defer\ndefaults: {exec: ask}\nrules:\n  - name: allowlist\n    match: {tool: exec, command: [\"git *\", \"ls *\", \"cargo *\"]}\n    action: allow\n",
    );
    assert_eq!(
        exec(&p, "git status && ls", &analysis(&["git status", "ls"])).action,
        Action::Allow
    );
    assert_eq!(
        exec(&p, "git status && make", &analysis(&["git status", "make"])).action,
        Action::Ask
    );
    let d = p.evaluate(&ToolCall::infer("Read", json!({"file_path": "x"})), &ctx());
    assert_eq!(d.action, Action::Defer);
    let err = Policy::load("version: 1\ndefaults: {shell: ask}\n", "p.yaml")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("p.yaml:2:12: error: `defaults:` keys are tool classes"),
        "{err}"
    );
}

/// The policy keeps where it came from and its text, for reviewers of what is in force.
#[test]
fn a_policy_remembers_its_origin_and_text() {
    let text = "version: 1\ndefault: deny\n";
    let policy =
        gatehouse_policy::Policy::load(text, "team.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(policy.origin(), "team.yaml");
    assert_eq!(policy.text(), text);
    let bundled = gatehouse_policy::Policy::bundled();
    assert_eq!(bundled.origin(), "bundled:default.yaml");
    assert!(bundled.text().contains("presets"), "{}", bundled.text());
}
