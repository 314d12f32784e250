//! Real-shaped payloads for every host and tool type: what each decodes to,
//! and the exact bytes each answer renders as.

use gatehouse_connectors::{Host, Phase, Rendered, Verdict};
use gatehouse_core::{Action, ToolClass};

struct Case {
    host: Host,
    event: Option<&'static str>,
    payload: &'static str,
    tool: &'static str,
    class: ToolClass,
    command: Option<&'static str>,
    paths: &'static [&'static str],
    urls: &'static [&'static str],
}

const CC: &str = r#""session_id":"s1","transcript_path":"/t.jsonl","cwd":"/w/app","permission_mode":"default","hook_event_name":"PreToolUse","tool_use_id":"toolu_1""#;

fn cases() -> Vec<Case> {
    let c = |host, payload, tool, class, command, paths, urls| Case {
        host,
        event: None,
        payload,
        tool,
        class,
        command,
        paths,
        urls,
    };
    vec![
        // Claude Code, every tool family.
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Bash","tool_input":{{"command":"ls -la","description":"list"}}}}"#
            )),
            "Bash",
            ToolClass::Exec,
            Some("ls -la"),
            &[],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Read","tool_input":{{"file_path":"/w/app/.env"}}}}"#
            )),
            "Read",
            ToolClass::Read,
            None,
            &["/w/app/.env"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Grep","tool_input":{{"pattern":"KEY","path":"/home/u/.ssh"}}}}"#
            )),
            "Grep",
            ToolClass::Read,
            None,
            &["/home/u/.ssh/**"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Grep","tool_input":{{"pattern":"KEY","glob":"*.env"}}}}"#
            )),
            "Grep",
            ToolClass::Read,
            None,
            &["/w/app/**", "/w/app/*.env"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Glob","tool_input":{{"pattern":"**/.env"}}}}"#
            )),
            "Glob",
            ToolClass::Read,
            None,
            &["/w/app/**", "/w/app/**/.env"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"LS","tool_input":{{"path":"/w/app"}}}}"#
            )),
            "LS",
            ToolClass::Read,
            None,
            &["/w/app"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Write","tool_input":{{"file_path":"/w/app/a.rs","content":"x"}}}}"#
            )),
            "Write",
            ToolClass::Write,
            None,
            &["/w/app/a.rs"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Edit","tool_input":{{"file_path":"/w/app/a.rs","old_string":"x","new_string":"y"}}}}"#
            )),
            "Edit",
            ToolClass::Write,
            None,
            &["/w/app/a.rs"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"MultiEdit","tool_input":{{"file_path":"/w/app/a.rs","edits":[]}}}}"#
            )),
            "MultiEdit",
            ToolClass::Write,
            None,
            &["/w/app/a.rs"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"NotebookEdit","tool_input":{{"notebook_path":"/w/app/n.ipynb","new_source":""}}}}"#
            )),
            "NotebookEdit",
            ToolClass::Write,
            None,
            &["/w/app/n.ipynb"],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"WebFetch","tool_input":{{"url":"https://example.com","prompt":"p"}}}}"#
            )),
            "WebFetch",
            ToolClass::Fetch,
            None,
            &[],
            &["https://example.com"],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"WebSearch","tool_input":{{"query":"rust"}}}}"#
            )),
            "WebSearch",
            ToolClass::Fetch,
            None,
            &[],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"mcp__github__create_issue","tool_input":{{"title":"t"}}}}"#
            )),
            "mcp__github__create_issue",
            ToolClass::Mcp,
            None,
            &[],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"Task","tool_input":{{"description":"d","prompt":"p","subagent_type":"general-purpose"}}}}"#
            )),
            "Task",
            ToolClass::Agent,
            None,
            &[],
            &[],
        ),
        c(
            Host::ClaudeCode,
            leak(format!(
                r#"{{{CC},"tool_name":"TodoWrite","tool_input":{{"todos":[]}},"unknown_field":1}}"#
            )),
            "TodoWrite",
            ToolClass::Other,
            None,
            &[],
            &[],
        ),
        // Codex.
        c(
            Host::Codex,
            r#"{"session_id":"c1","turn_id":"t1","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"call_1","tool_input":{"command":"git status"}}"#,
            "Bash",
            ToolClass::Exec,
            Some("git status"),
            &[],
            &[],
        ),
        c(
            Host::Codex,
            r#"{"session_id":"c1","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"apply_patch","tool_input":{"command":"*** Begin Patch\n*** Add File: .env\n+K=V\n*** End Patch"}}"#,
            "apply_patch",
            ToolClass::Write,
            None,
            &[".env"],
            &[],
        ),
        c(
            Host::Codex,
            r#"{"session_id":"c1","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"mcp__fs__read","tool_input":{"path":"/etc/passwd"}}"#,
            "mcp__fs__read",
            ToolClass::Mcp,
            None,
            &["/etc/passwd"],
            &[],
        ),
        // Gemini CLI.
        c(
            Host::Gemini,
            r#"{"session_id":"g1","transcript_path":"/t","cwd":"/w","hook_event_name":"BeforeTool","timestamp":"2026-11-21T07:00:00Z","tool_name":"run_shell_command","tool_input":{"command":"rm -rf build","description":"clean"}}"#,
            "run_shell_command",
            ToolClass::Exec,
            Some("rm -rf build"),
            &[],
            &[],
        ),
        c(
            Host::Gemini,
            r#"{"session_id":"g1","cwd":"/w","hook_event_name":"BeforeTool","tool_name":"read_file","tool_input":{"file_path":"/w/.env"}}"#,
            "read_file",
            ToolClass::Read,
            None,
            &["/w/.env"],
            &[],
        ),
        c(
            Host::Gemini,
            r#"{"session_id":"g1","cwd":"/w","hook_event_name":"BeforeTool","tool_name":"search_file_content","tool_input":{"pattern":"x","dir_path":"/home/u/.aws"}}"#,
            "search_file_content",
            ToolClass::Read,
            None,
            &["/home/u/.aws/**"],
            &[],
        ),
        c(
            Host::Gemini,
            r#"{"session_id":"g1","cwd":"/w","hook_event_name":"BeforeTool","tool_name":"write_file","tool_input":{"file_path":"/w/a.txt","content":"x"}}"#,
            "write_file",
            ToolClass::Write,
            None,
            &["/w/a.txt"],
            &[],
        ),
        c(
            Host::Gemini,
            r#"{"session_id":"g1","cwd":"/w","hook_event_name":"BeforeTool","tool_name":"web_fetch","tool_input":{"prompt":"summarise https://example.com/x please"}}"#,
            "web_fetch",
            ToolClass::Fetch,
            None,
            &[],
            &["https://example.com/x"],
        ),
        c(
            Host::Gemini,
            r#"{"session_id":"g1","cwd":"/w","hook_event_name":"BeforeTool","tool_name":"create_issue","tool_input":{"title":"t"},"mcp_context":{"server_name":"github"}}"#,
            "create_issue",
            ToolClass::Mcp,
            None,
            &[],
            &[],
        ),
        // Cursor.
        c(
            Host::Cursor,
            r#"{"hook_event_name":"beforeShellExecution","conversation_id":"k1","generation_id":"gen1","workspace_roots":["/w"],"command":"npm install","cwd":"/w"}"#,
            "exec",
            ToolClass::Exec,
            Some("npm install"),
            &[],
            &[],
        ),
        c(
            Host::Cursor,
            r#"{"hook_event_name":"beforeMCPExecution","conversation_id":"k1","generation_id":"gen1","workspace_roots":["/w"],"tool_name":"query","tool_input":"{\"sql\":\"select 1\"}","url":"http://localhost:3000"}"#,
            "query",
            ToolClass::Mcp,
            None,
            &[],
            &["http://localhost:3000"],
        ),
        c(
            Host::Cursor,
            r#"{"hook_event_name":"beforeReadFile","conversation_id":"k1","generation_id":"gen1","workspace_roots":["/w"],"file_path":"/w/.env","content":"K=V"}"#,
            "read_file",
            ToolClass::Read,
            None,
            &["/w/.env"],
            &[],
        ),
        // Copilot CLI (camelCase, toolArgs as a JSON string and as an object).
        Case {
            event: Some("preToolUse"),
            ..c(
                Host::Copilot,
                r#"{"sessionId":"p1","timestamp":1763700000000,"cwd":"/w","toolName":"bash","toolArgs":"{\"command\":\"curl x | sh\"}"}"#,
                "bash",
                ToolClass::Exec,
                Some("curl x | sh"),
                &[],
                &[],
            )
        },
        Case {
            event: Some("preToolUse"),
            ..c(
                Host::Copilot,
                r#"{"timestamp":1,"cwd":"/w","toolName":"view","toolArgs":{"path":"/w/.env"}}"#,
                "view",
                ToolClass::Read,
                None,
                &["/w/.env"],
                &[],
            )
        },
        Case {
            event: Some("preToolUse"),
            ..c(
                Host::Copilot,
                r#"{"timestamp":1,"cwd":"/w","toolName":"edit","toolArgs":{"path":"/w/a.rs","old_str":"a","new_str":"b"}}"#,
                "edit",
                ToolClass::Write,
                None,
                &["/w/a.rs"],
                &[],
            )
        },
        Case {
            event: Some("preToolUse"),
            ..c(
                Host::Copilot,
                r#"{"timestamp":1,"cwd":"/w","toolName":"web_fetch","toolArgs":{"url":"https://x.test"}}"#,
                "web_fetch",
                ToolClass::Fetch,
                None,
                &[],
                &["https://x.test"],
            )
        },
        c(
            Host::Copilot,
            r#"{"hook_event_name":"PreToolUse","session_id":"p2","cwd":"/w","tool_name":"bash","tool_input":{"command":"ls"}}"#,
            "bash",
            ToolClass::Exec,
            Some("ls"),
            &[],
            &[],
        ),
    ]
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn every_host_and_tool_maps_onto_its_class_and_fields() {
    for case in cases() {
        let ev = case
            .host
            .decode(case.payload, case.event)
            .unwrap_or_else(|e| panic!("{} {}: {e}", case.host, case.payload));
        assert_eq!(ev.phase, Phase::Before, "{}", case.payload);
        assert_eq!(ev.call.tool, case.tool, "{}", case.payload);
        assert_eq!(ev.call.class, case.class, "{}", case.payload);
        assert_eq!(ev.call.command.as_deref(), case.command, "{}", case.payload);
        assert_eq!(ev.call.paths, case.paths, "{}", case.payload);
        assert_eq!(ev.call.urls, case.urls, "{}", case.payload);
    }
}

fn render(host: Host, payload: &str, event: Option<&str>, action: Action) -> Rendered {
    let ev = host.decode(payload, event).expect("decodes");
    host.render(
        &ev,
        &Verdict {
            action,
            reason: "gatehouse: why".into(),
        },
    )
}

const CC_BASH: &str = r#"{"session_id":"s","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;

#[test]
fn claude_code_pre_tool_use_answers_exactly() {
    let out = |a| render(Host::ClaudeCode, CC_BASH, None, a);
    assert_eq!(out(Action::Defer), Rendered::default());
    for (a, word) in [
        (Action::Allow, "allow"),
        (Action::Ask, "ask"),
        (Action::Deny, "deny"),
    ] {
        let r = out(a);
        assert_eq!(
            r.stdout,
            format!(
                "{{\"hookSpecificOutput\":{{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"{word}\",\"permissionDecisionReason\":\"gatehouse: why\"}}}}\n"
            )
        );
        assert_eq!((r.exit_code, r.stderr.as_str()), (0, ""));
    }
}

#[test]
fn claude_code_permission_request_answers_allow_and_deny_and_leaves_ask_to_the_dialog() {
    let p = CC_BASH.replace("PreToolUse", "PermissionRequest");
    let out = |a| render(Host::ClaudeCode, &p, None, a);
    assert_eq!(
        out(Action::Allow).stdout,
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PermissionRequest\",\"decision\":{\"behavior\":\"allow\"}}}\n"
    );
    assert_eq!(
        out(Action::Deny).stdout,
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PermissionRequest\",\"decision\":{\"behavior\":\"deny\",\"message\":\"gatehouse: why\"}}}\n"
    );
    assert_eq!(out(Action::Ask), Rendered::default());
    assert_eq!(out(Action::Defer), Rendered::default());
}

#[test]
fn post_tool_use_prints_nothing_on_every_host() {
    let p = r#"{"session_id":"s","cwd":"/w","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":{"stdout":""}}"#;
    for a in [Action::Allow, Action::Deny] {
        assert_eq!(render(Host::ClaudeCode, p, None, a), Rendered::default());
        assert_eq!(render(Host::Codex, p, None, a), Rendered::default());
    }
}

#[test]
fn codex_can_only_deny_before_a_call() {
    let p = CC_BASH;
    assert_eq!(
        render(Host::Codex, p, None, Action::Allow),
        Rendered::default()
    );
    assert_eq!(
        render(Host::Codex, p, None, Action::Defer),
        Rendered::default()
    );
    let deny = "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"gatehouse: why\"}}\n";
    assert_eq!(render(Host::Codex, p, None, Action::Deny).stdout, deny);
    // An ask that reaches the renderer is a deny: Codex would run it otherwise.
    assert_eq!(render(Host::Codex, p, None, Action::Ask).stdout, deny);
    let ev = Host::Codex.decode(p, None).expect("decodes");
    assert!(!Host::Codex.native_ask(&ev));
}

#[test]
fn gemini_answers_with_decision_json() {
    let p = r#"{"session_id":"g","cwd":"/w","hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{"command":"ls"}}"#;
    assert_eq!(render(Host::Gemini, p, None, Action::Defer).stdout, "{}\n");
    assert_eq!(
        render(Host::Gemini, p, None, Action::Allow).stdout,
        "{\"decision\":\"allow\",\"reason\":\"gatehouse: why\"}\n"
    );
    assert_eq!(
        render(Host::Gemini, p, None, Action::Deny).stdout,
        "{\"decision\":\"deny\",\"reason\":\"gatehouse: why\"}\n"
    );
    let ev = Host::Gemini.decode(p, None).expect("decodes");
    assert!(!Host::Gemini.native_ask(&ev));
}

#[test]
fn cursor_answers_with_permission_json_and_read_gate_cannot_ask() {
    let shell = r#"{"hook_event_name":"beforeShellExecution","conversation_id":"k","generation_id":"g","workspace_roots":["/w"],"command":"ls","cwd":"/w"}"#;
    assert_eq!(
        render(Host::Cursor, shell, None, Action::Ask).stdout,
        "{\"permission\":\"ask\",\"user_message\":\"gatehouse: why\",\"agent_message\":\"gatehouse: why\"}\n"
    );
    assert_eq!(
        render(Host::Cursor, shell, None, Action::Defer).stdout,
        "{}\n"
    );
    let read = r#"{"hook_event_name":"beforeReadFile","conversation_id":"k","workspace_roots":["/w"],"file_path":"/w/.env","content":""}"#;
    assert_eq!(
        render(Host::Cursor, read, None, Action::Deny).stdout,
        "{\"permission\":\"deny\"}\n"
    );
    let ev = Host::Cursor.decode(read, None).expect("decodes");
    assert!(!Host::Cursor.native_ask(&ev));
}

#[test]
fn copilot_answers_with_permission_decision() {
    let p = r#"{"timestamp":1,"cwd":"/w","toolName":"bash","toolArgs":{"command":"ls"}}"#;
    assert_eq!(
        render(Host::Copilot, p, Some("preToolUse"), Action::Deny).stdout,
        "{\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"gatehouse: why\"}\n"
    );
    assert_eq!(
        render(Host::Copilot, p, Some("preToolUse"), Action::Defer),
        Rendered::default()
    );
}

#[test]
fn failures_render_as_each_hosts_block() {
    let cc = Host::ClaudeCode.render_failure("bad input");
    assert_eq!(
        (cc.stdout.as_str(), cc.stderr.as_str(), cc.exit_code),
        ("", "gatehouse: bad input\n", 2)
    );
    assert_eq!(Host::Codex.render_failure("x").exit_code, 2);
    assert_eq!(Host::Gemini.render_failure("x").exit_code, 2);
    let cu = Host::Cursor.render_failure("x\ny");
    assert_eq!(
        cu.stdout,
        "{\"permission\":\"deny\",\"user_message\":\"gatehouse: x y\",\"agent_message\":\"gatehouse: x y\"}\n"
    );
    let co = Host::Copilot.render_failure("x");
    assert_eq!(
        co.stdout,
        "{\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"gatehouse: x\"}\n"
    );
}

#[test]
fn malformed_payloads_are_errors_not_guesses() {
    let bad = [
        (Host::ClaudeCode, ""),
        (Host::ClaudeCode, "not json"),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash"}"#,
        ),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"ls"}"#,
        ),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"","tool_input":{}}"#,
        ),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"Stop","tool_name":"Bash","tool_input":{}}"#,
        ),
        (Host::ClaudeCode, r#"[1,2]"#),
        (
            Host::Gemini,
            r#"{"hook_event_name":"BeforeModel","tool_name":"x","tool_input":{}}"#,
        ),
        (
            Host::Cursor,
            r#"{"hook_event_name":"beforeShellExecution","conversation_id":"k"}"#,
        ),
        (
            Host::Cursor,
            r#"{"hook_event_name":"beforeMCPExecution","tool_name":"q","tool_input":"[1]"}"#,
        ),
        (Host::Copilot, r#"{"timestamp":1,"toolName":"bash"}"#),
        (
            Host::Copilot,
            r#"{"timestamp":1,"toolName":"bash","toolArgs":"{not json"}"#,
        ),
        // A shell call without a command, a file call without a path: no rule could match.
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"description":"x"}}"#,
        ),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"  "}}"#,
        ),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{}}"#,
        ),
        (
            Host::ClaudeCode,
            r#"{"hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"content":"x"}}"#,
        ),
        (
            Host::Gemini,
            r#"{"hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{}}"#,
        ),
        (
            Host::Copilot,
            r#"{"timestamp":1,"toolName":"edit","toolArgs":{"old_str":"a"}}"#,
        ),
    ];
    for (host, payload) in bad {
        assert!(
            host.decode(payload, None).is_err(),
            "{host} accepted {payload:?}"
        );
    }
}
