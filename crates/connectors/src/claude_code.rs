//! Claude Code: `PreToolUse`, `PermissionRequest` and `PostToolUse` command hooks.
//!
//! Input (stdin): `session_id`, `transcript_path`, `cwd`, `permission_mode`,
//! `hook_event_name`, `tool_name`, `tool_input`, `tool_use_id` (and
//! `tool_response` after the call). Only exit code 2 or a JSON `deny` blocks a
//! call; exit 1 and a timed-out hook let it through, so every failure renders
//! as exit 2 with the reason on stderr.

use gatehouse_core::{Action, ToolCall, ToolClass};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{DecodeError, HookEvent, Phase, Rendered, Verdict, json_line};
use crate::tools::call_with_search;

const HOST: &str = "claude-code";

/// The fields of a Claude Code tool hook payload gatehouse uses. Unknown
/// fields are ignored; `hook_event_name`, `tool_name` and `tool_input` are required.
#[derive(Debug, Deserialize)]
pub(crate) struct Payload {
    /// The host's session id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The agent's working directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// `PreToolUse`, `PermissionRequest`, `PostToolUse`.
    pub hook_event_name: String,
    /// The host's tool name (`Bash`, `Read`, `mcp__github__create_issue`…).
    pub tool_name: String,
    /// The tool's arguments; always an object.
    pub tool_input: Map<String, Value>,
    /// The host's id of this call.
    #[serde(default)]
    pub tool_use_id: Option<String>,
    /// The tool's result (`PostToolUse` only).
    #[serde(default)]
    pub tool_response: Option<Value>,
}

pub(crate) fn phase_of(event: &str) -> Option<Phase> {
    match event {
        "PreToolUse" => Some(Phase::Before),
        "PermissionRequest" => Some(Phase::Permission),
        "PostToolUse" => Some(Phase::After),
        _ => None,
    }
}

pub(crate) fn parse(host: &'static str, text: &str) -> Result<Payload, DecodeError> {
    let payload: Payload =
        serde_json::from_str(text).map_err(|error| DecodeError::Json { host, error })?;
    if payload.tool_name.trim().is_empty() {
        return Err(DecodeError::Invalid {
            host,
            detail: "tool_name is empty".into(),
        });
    }
    Ok(payload)
}

pub(crate) fn into_event(
    host: &'static str,
    payload: Payload,
    map: impl FnOnce(&str, Map<String, Value>, Option<&str>) -> ToolCall,
) -> Result<HookEvent, DecodeError> {
    let phase =
        phase_of(&payload.hook_event_name).ok_or_else(|| DecodeError::UnsupportedEvent {
            host,
            event: payload.hook_event_name.clone(),
            supported: "PreToolUse, PermissionRequest, PostToolUse",
        })?;
    let call = map(
        &payload.tool_name,
        payload.tool_input,
        payload.cwd.as_deref(),
    );
    Ok(HookEvent {
        event_name: payload.hook_event_name,
        phase,
        call,
        session_id: payload.session_id,
        cwd: payload.cwd,
        tool_use_id: payload.tool_use_id,
        outcome: payload.tool_response,
    })
}

pub(crate) fn decode(text: &str) -> Result<HookEvent, DecodeError> {
    into_event(HOST, parse(HOST, text)?, map_tool)
}

/// Claude Code's tools onto gatehouse's classes. Unknown tools keep their raw
/// name under class `other`, so a rule can still name them; nothing is waved through.
pub(crate) fn map_tool(tool: &str, input: Map<String, Value>, cwd: Option<&str>) -> ToolCall {
    match tool {
        "Grep" => call_with_search(tool, ToolClass::Read, input, &["path"], &["glob"], cwd),
        "Glob" => call_with_search(tool, ToolClass::Read, input, &["path"], &["pattern"], cwd),
        "Bash" | "BashOutput" => ToolCall::new(tool, ToolClass::Exec, Value::Object(input)),
        "Read" | "LS" => ToolCall::new(tool, ToolClass::Read, Value::Object(input)),
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => {
            ToolCall::new(tool, ToolClass::Write, Value::Object(input))
        }
        "WebFetch" | "WebSearch" => ToolCall::new(tool, ToolClass::Fetch, Value::Object(input)),
        "Task" | "Agent" => ToolCall::new(tool, ToolClass::Agent, Value::Object(input)),
        _ if tool.starts_with("mcp__") => ToolCall::new(tool, ToolClass::Mcp, Value::Object(input)),
        _ => ToolCall::new(tool, ToolClass::Other, Value::Object(input)),
    }
}

/// Claude Code's answer envelope.
#[derive(Serialize)]
struct Output<T> {
    #[serde(rename = "hookSpecificOutput")]
    hook_specific_output: T,
}

/// `PreToolUse`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PreToolUseOut<'a> {
    hook_event_name: &'a str,
    permission_decision: &'a str,
    permission_decision_reason: &'a str,
}

/// `PermissionRequest`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionRequestOut<'a> {
    hook_event_name: &'a str,
    decision: Behavior<'a>,
}

/// `PermissionRequest`'s decision: `message` is shown to Claude on deny.
#[derive(Serialize)]
struct Behavior<'a> {
    behavior: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":…,"permissionDecisionReason":…}}` + newline.
pub(crate) fn pre_tool_use_json(decision: &str, reason: &str) -> Option<String> {
    json_line(&Output {
        hook_specific_output: PreToolUseOut {
            hook_event_name: "PreToolUse",
            permission_decision: decision,
            permission_decision_reason: reason,
        },
    })
}

/// `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":…}}}` + newline.
pub(crate) fn permission_request_json(behavior: &str, reason: &str) -> Option<String> {
    json_line(&Output {
        hook_specific_output: PermissionRequestOut {
            hook_event_name: "PermissionRequest",
            decision: Behavior {
                behavior,
                message: (behavior == "deny").then_some(reason),
            },
        },
    })
}

pub(crate) fn render(phase: Phase, verdict: &Verdict) -> Rendered {
    let r = &verdict.reason;
    let stdout = match (phase, verdict.action) {
        (Phase::After, _) | (_, Action::Defer) => Some(String::new()),
        (Phase::Before, Action::Allow) => pre_tool_use_json("allow", r),
        (Phase::Before, Action::Ask) => pre_tool_use_json("ask", r),
        (Phase::Before, Action::Deny) => pre_tool_use_json("deny", r),
        (Phase::Permission, Action::Allow) => permission_request_json("allow", r),
        // The host is about to show its own dialog: that is the native ask.
        (Phase::Permission, Action::Ask) => Some(String::new()),
        (Phase::Permission, Action::Deny) => permission_request_json("deny", r),
    };
    Rendered::answer_or(stdout, render_failure)
}

/// Exit 2 with the reason on stderr: the block Claude Code honours for every event.
pub(crate) fn render_failure(reason: &str) -> Rendered {
    Rendered::exit_block(reason)
}
