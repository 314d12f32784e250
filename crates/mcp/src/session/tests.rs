use std::sync::Arc;

use gatehouse_core::{Action, CallContext, Decision, ToolCall};
use serde_json::{Value, json};

use super::*;
use crate::gate::Gate;

/// echo: no rule (defer); read_*: allow; delete_all: deny; write_note: ask.
fn rules(call: &ToolCall, _: &CallContext) -> Decision {
    match call.tool.as_str() {
        "mcp__s__delete_all" => Decision::bare(Action::Deny, "mass deletion is not allowed"),
        "mcp__s__write_note" => Decision::bare(Action::Ask, "notes need approval"),
        t if t.starts_with("mcp__s__read_") => Decision::bare(Action::Allow, "reads are fine"),
        _ => Decision::bare(Action::Defer, "no rule"),
    }
}

fn proxy(hide: bool) -> Proxy {
    Proxy::new(Gate::new("s", Arc::new(rules)), hide)
}

fn ctx() -> CallContext {
    CallContext::default()
}

fn call(id: Value, tool: &str) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{"x":1}}})
        .to_string()
}

#[test]
fn non_tool_traffic_passes_through() {
    let mut p = proxy(true);
    for frame in [
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[]}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///x"}}"#,
    ] {
        assert_eq!(
            p.on_client_frame(frame, &ctx()).action,
            ClientAction::Forward,
            "{frame}"
        );
    }
    let server_request =
        r#"{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{}}"#;
    assert_eq!(
        p.on_server_frame(server_request, &ctx()),
        ServerAction::Forward
    );
}

#[test]
fn allowed_and_deferred_calls_are_forwarded_and_tracked() {
    let mut p = proxy(true);
    let step = p.on_client_frame(&call(json!(1), "echo"), &ctx());
    assert_eq!(step.action, ClientAction::Forward);
    let (call_seen, decision) = step.decided.expect("a tools/call is decided");
    assert_eq!(call_seen.tool, "mcp__s__echo");
    assert_eq!(call_seen.input, json!({"x":1}));
    assert_eq!(decision.action, Action::Defer);
    assert_eq!(
        p.on_client_frame(&call(json!(2), "read_x"), &ctx()).action,
        ClientAction::Forward
    );
    // Both are pending upstream: if it dies they get errors.
    let gone = p.on_upstream_gone("exited");
    assert_eq!(gone.replies.len(), 2);
}

#[test]
fn denied_call_is_answered_as_a_tool_error_with_the_reason() {
    let mut p = proxy(true);
    let step = p.on_client_frame(&call(json!("a"), "delete_all"), &ctx());
    let ClientAction::Reply(reply) = step.action else {
        panic!("expected a reply, got {:?}", step.action);
    };
    assert_eq!(reply["id"], json!("a"));
    assert_eq!(reply["result"]["isError"], json!(true));
    let text = reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("mass deletion is not allowed"), "{text}");
    assert!(text.contains("mcp__s__delete_all"), "{text}");
    assert!(
        p.on_upstream_gone("exited").replies.is_empty(),
        "nothing was forwarded"
    );
}

#[test]
fn asked_call_is_held_then_forwarded_on_approval() {
    let mut p = proxy(true);
    let mut frame: Value = serde_json::from_str(&call(json!(5), "write_note")).unwrap_or_default();
    frame["params"]["_meta"] = json!({"progressToken": "tok"});
    let raw = frame.to_string();
    let step = p.on_client_frame(&raw, &ctx());
    let ClientAction::Hold(ticket) = step.action else {
        panic!("expected a hold, got {:?}", step.action);
    };
    assert_eq!(ticket.progress_token, Some(json!("tok")));
    assert_eq!(ticket.call.tool, "mcp__s__write_note");
    assert_eq!(p.held_count(), 1);
    assert_eq!(
        p.resolve_hold(&ticket.key, HoldOutcome::Approved),
        Some(Release::Forward(raw))
    );
    assert_eq!(p.held_count(), 0);
    // Resolving twice does nothing.
    assert_eq!(p.resolve_hold(&ticket.key, HoldOutcome::Approved), None);
}

#[test]
fn asked_call_denied_by_a_person_returns_their_reason() {
    let mut p = proxy(true);
    let ClientAction::Hold(ticket) = p
        .on_client_frame(&call(json!(5), "write_note"), &ctx())
        .action
    else {
        panic!("expected a hold");
    };
    let Some(Release::Reply(reply)) = p.resolve_hold(
        &ticket.key,
        HoldOutcome::Denied("use the staging notes".into()),
    ) else {
        panic!("expected a reply");
    };
    assert_eq!(reply["id"], json!(5));
    assert_eq!(reply["result"]["isError"], json!(true));
    assert_eq!(
        reply["result"]["content"][0]["text"],
        json!("gatehouse denied mcp__s__write_note: use the staging notes")
    );
}

#[test]
fn cancelling_a_held_call_cancels_the_hold_and_drops_the_answer() {
    let mut p = proxy(true);
    let ClientAction::Hold(ticket) = p
        .on_client_frame(&call(json!(9), "write_note"), &ctx())
        .action
    else {
        panic!("expected a hold");
    };
    let cancel = r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9,"reason":"user"}}"#;
    assert_eq!(
        p.on_client_frame(cancel, &ctx()).action,
        ClientAction::CancelHold(ticket.key.clone())
    );
    assert_eq!(p.resolve_hold(&ticket.key, HoldOutcome::Approved), None);
    // A cancellation of a forwarded request goes upstream.
    p.on_client_frame(&call(json!(10), "echo"), &ctx());
    let cancel10 =
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":10}}"#;
    assert_eq!(
        p.on_client_frame(cancel10, &ctx()).action,
        ClientAction::Forward
    );
    assert!(p.on_upstream_gone("exited").replies.is_empty());
}

#[test]
fn string_and_number_ids_are_different_requests() {
    let mut p = proxy(true);
    let ClientAction::Hold(_) = p
        .on_client_frame(&call(json!(1), "write_note"), &ctx())
        .action
    else {
        panic!("expected a hold");
    };
    let cancel =
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"1"}}"#;
    assert_eq!(
        p.on_client_frame(cancel, &ctx()).action,
        ClientAction::Forward
    );
    assert_eq!(p.held_count(), 1);
}

#[test]
fn duplicate_id_while_held_is_refused() {
    let mut p = proxy(true);
    p.on_client_frame(&call(json!(1), "write_note"), &ctx());
    let step = p.on_client_frame(&call(json!(1), "write_note"), &ctx());
    let ClientAction::Reply(reply) = step.action else {
        panic!("expected a reply");
    };
    assert_eq!(
        reply["error"]["code"],
        json!(crate::message::INVALID_REQUEST)
    );
}

#[test]
fn malformed_frames_are_answered_never_forwarded() {
    let mut p = proxy(true);
    let cases = [
        ("not json at all", crate::message::PARSE_ERROR),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            crate::message::INVALID_PARAMS,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#,
            crate::message::INVALID_PARAMS,
        ),
        (
            r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"delete_all"}}"#,
            crate::message::INVALID_REQUEST,
        ),
        (r#"[]"#, crate::message::INVALID_REQUEST),
        (r#"42"#, crate::message::INVALID_REQUEST),
    ];
    for (frame, code) in cases {
        let ClientAction::Reply(reply) = p.on_client_frame(frame, &ctx()).action else {
            panic!("{frame} must be answered by the proxy");
        };
        assert_eq!(reply["error"]["code"], json!(code), "{frame}");
    }
}

#[test]
fn batch_with_a_tool_call_is_refused_whole() {
    let mut p = proxy(true);
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"tools/list"},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}},
        {"jsonrpc":"2.0","method":"notifications/initialized"}
    ]);
    let ClientAction::Reply(Value::Array(errors)) =
        p.on_client_frame(&batch.to_string(), &ctx()).action
    else {
        panic!("expected an array of errors");
    };
    assert_eq!(errors.len(), 2);
    let plain = json!([{"jsonrpc":"2.0","id":1,"method":"tools/list"}]);
    assert_eq!(
        p.on_client_frame(&plain.to_string(), &ctx()).action,
        ClientAction::Forward
    );
}

fn tools_list_reply(id: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"result":{"tools":[
        {"name":"echo","inputSchema":{"type":"object"}},
        {"name":"delete_all","inputSchema":{"type":"object"},"annotations":{"destructiveHint":true}},
        {"name":"write_note","inputSchema":{"type":"object"}}
    ],"nextCursor":"c2"}})
    .to_string()
}

#[test]
fn tools_list_hides_outright_denied_tools_and_keeps_the_rest_intact() {
    let mut p = proxy(true);
    p.on_client_frame(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#, &ctx());
    let ServerAction::ForwardRewritten(msg) =
        p.on_server_frame(&tools_list_reply(json!(3)), &ctx())
    else {
        panic!("expected a filtered list");
    };
    let names: Vec<&str> = msg["result"]["tools"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["echo", "write_note"]);
    assert_eq!(msg["result"]["nextCursor"], json!("c2"));
}

#[test]
fn tools_list_is_untouched_when_filtering_is_off_or_for_other_ids() {
    let mut p = proxy(false);
    p.on_client_frame(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#, &ctx());
    assert_eq!(
        p.on_server_frame(&tools_list_reply(json!(3)), &ctx()),
        ServerAction::Forward
    );
    let mut p = proxy(true);
    // A response to a request that was not tools/list is not filtered.
    p.on_client_frame(
        r#"{"jsonrpc":"2.0","id":4,"method":"prompts/list"}"#,
        &ctx(),
    );
    assert_eq!(
        p.on_server_frame(&tools_list_reply(json!(4)), &ctx()),
        ServerAction::Forward
    );
}

#[test]
fn upstream_junk_is_dropped_not_forwarded() {
    let mut p = proxy(true);
    assert!(matches!(
        p.on_server_frame("Server listening on stdio", &ctx()),
        ServerAction::Drop(_)
    ));
}

#[test]
fn upstream_exit_fails_every_waiting_request_and_cancels_holds() {
    let mut p = proxy(true);
    p.on_client_frame(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &ctx());
    p.on_client_frame(&call(json!(2), "write_note"), &ctx());
    let gone = p.on_upstream_gone("exited with status 3");
    assert_eq!(gone.replies.len(), 2);
    assert_eq!(gone.cancelled_holds, vec![IdKey::of(&json!(2))]);
    for reply in &gone.replies {
        assert_eq!(reply["error"]["code"], json!(crate::message::UPSTREAM_GONE));
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("exited with status 3")
        );
    }
    assert_eq!(p.held_count(), 0);
}
