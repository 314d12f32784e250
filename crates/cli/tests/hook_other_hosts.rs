//! `gatehouse hook codex|gemini|cursor|copilot` end to end: each host's
//! payload shapes, exact answers, and how an `ask` is routed where the host
//! cannot ask from its hook.

#[path = "hook_support.rs"]
mod support;

use support::Sandbox;

const HEADLESS_DENY: &str = "no gatehouse daemon is configured; approval.headless is deny (run `gatehouse serve` to hold approvals)";

#[test]
fn codex_denies_natively_and_cannot_ask_before_a_call() {
    let sb = Sandbox::new();
    let run = |cmd: &str| {
        let p = format!(
            r#"{{"session_id":"c1","turn_id":"t1","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"call_1","tool_input":{{"command":"{cmd}"}}}}"#
        );
        sb.hook("codex", &[], p.as_bytes())
    };
    assert_eq!(
        run("rm -rf /").stdout,
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"gatehouse: Deleting files is not allowed [no-rm]\"}}\n"
    );
    // allow is not supported by Codex's PreToolUse: print nothing.
    assert_eq!(run("ls").stdout, "");
    let ask = run("kubectl apply -f x");
    assert!(
        ask.stdout.contains("\"permissionDecision\":\"deny\""),
        "{}",
        ask.stdout
    );
    assert!(
        ask.stdout
            .contains("codex cannot ask the user from this hook"),
        "{}",
        ask.stdout
    );
    assert!(ask.stdout.contains(HEADLESS_DENY), "{}", ask.stdout);
    // apply_patch writing .env is a write of .env.
    let patch = r#"{"session_id":"c1","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"apply_patch","tool_input":{"command":"*** Begin Patch\n*** Add File: /w/.env\n+K=V\n*** End Patch"}}"#;
    let run = sb.hook("codex", &[], patch.as_bytes());
    assert!(
        run.stdout.contains("Do not write .env files"),
        "{}",
        run.stdout
    );
    // PermissionRequest: an ask is Codex's own approval prompt.
    let pr = r#"{"session_id":"c1","cwd":"/w","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"kubectl apply -f x"}}"#;
    assert_eq!(sb.hook("codex", &[], pr.as_bytes()).stdout, "");
}

#[test]
fn gemini_answers_with_decision_json_and_routes_asks_to_headless() {
    let sb = Sandbox::new();
    let run = |tool: &str, input: &str| {
        let p = format!(
            r#"{{"session_id":"g1","transcript_path":"/t","cwd":"/w","hook_event_name":"BeforeTool","timestamp":"2026-11-21T08:00:00Z","tool_name":"{tool}","tool_input":{input}}}"#
        );
        sb.hook("gemini", &[], p.as_bytes())
    };
    assert_eq!(
        run("run_shell_command", r#"{"command":"rm -rf build"}"#).stdout,
        "{\"decision\":\"deny\",\"reason\":\"gatehouse: Deleting files is not allowed [no-rm]\"}\n"
    );
    assert_eq!(
        run("run_shell_command", r#"{"command":"ls"}"#).stdout,
        "{\"decision\":\"allow\",\"reason\":\"gatehouse: Listing is fine [ls-ok]\"}\n"
    );
    assert_eq!(
        run("read_file", r#"{"file_path":"/w/src/a.rs"}"#).stdout,
        "{}\n"
    );
    assert!(
        run("read_file", r#"{"file_path":"/w/.env"}"#)
            .stdout
            .contains("Secrets are off limits")
    );
    let ask = run("web_fetch", r#"{"prompt":"summarise https://example.com"}"#);
    assert!(
        ask.stdout.starts_with("{\"decision\":\"deny\""),
        "{}",
        ask.stdout
    );
    assert!(
        ask.stdout
            .contains("gemini cannot ask the user from this hook"),
        "{}",
        ask.stdout
    );
    let after = r#"{"session_id":"g1","cwd":"/w","hook_event_name":"AfterTool","tool_name":"run_shell_command","tool_input":{"command":"ls"},"tool_response":{"llmContent":"ok"}}"#;
    let run = sb.hook("gemini", &[], after.as_bytes());
    assert_eq!((run.stdout.as_str(), run.code), ("{}\n", 0));
    assert_eq!(
        sb.audit().last().map(|a| a.kind.clone()).as_deref(),
        Some("outcome")
    );
}

#[test]
fn cursor_answers_with_permission_json() {
    let sb = Sandbox::new();
    let shell = |cmd: &str| {
        let p = format!(
            r#"{{"hook_event_name":"beforeShellExecution","conversation_id":"k1","generation_id":"gen1","workspace_roots":["/w"],"command":"{cmd}","cwd":"/w"}}"#
        );
        sb.hook("cursor", &[], p.as_bytes())
    };
    assert_eq!(
        shell("kubectl apply -f x").stdout,
        "{\"permission\":\"ask\",\"user_message\":\"gatehouse: Production deployment requires approval [deploys]\",\"agent_message\":\"gatehouse: Production deployment requires approval [deploys]\"}\n"
    );
    assert_eq!(shell("echo hi").stdout, "{}\n");
    let read = r#"{"hook_event_name":"beforeReadFile","conversation_id":"k1","generation_id":"gen1","workspace_roots":["/w"],"file_path":"/w/.env","content":"K=V"}"#;
    assert_eq!(
        sb.hook("cursor", &[], read.as_bytes()).stdout,
        "{\"permission\":\"deny\"}\n"
    );
    let mcp = r#"{"hook_event_name":"beforeMCPExecution","conversation_id":"k1","generation_id":"gen1","workspace_roots":["/w"],"tool_name":"mcp__github__list","tool_input":"{\"q\":1}"}"#;
    assert!(
        sb.hook("cursor", &[], mcp.as_bytes())
            .stdout
            .starts_with("{\"permission\":\"allow\"")
    );
}

#[test]
fn copilot_answers_with_permission_decision() {
    let sb = Sandbox::new();
    let run = |args: &str| {
        let p = format!(
            r#"{{"sessionId":"p1","timestamp":1763712000000,"cwd":"/w","toolName":"bash","toolArgs":{args}}}"#
        );
        sb.hook("copilot", &["--event", "preToolUse"], p.as_bytes())
    };
    assert_eq!(
        run(r#""{\"command\":\"rm -rf /\"}""#).stdout,
        "{\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"gatehouse: Deleting files is not allowed [no-rm]\"}\n"
    );
    assert_eq!(
        run(r#"{"command":"kubectl apply -f x"}"#).stdout,
        "{\"permissionDecision\":\"ask\",\"permissionDecisionReason\":\"gatehouse: Production deployment requires approval [deploys]\"}\n"
    );
    assert_eq!(run(r#"{"command":"echo hi"}"#).stdout, "");
    let post = r#"{"sessionId":"p1","timestamp":1,"cwd":"/w","toolName":"bash","toolArgs":{"command":"ls"},"toolResult":{"resultType":"success"}}"#;
    let r = sb.hook("copilot", &["--event", "postToolUse"], post.as_bytes());
    assert_eq!((r.stdout.as_str(), r.code), ("", 0), "{}", r.stderr);
}
