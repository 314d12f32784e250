//! GitHub Copilot CLI: `preToolUse` and `postToolUse` command hooks
//! (`.github/hooks/*.json`).
//!
//! The camelCase payload carries `sessionId`, `timestamp`, `cwd`, `toolName`
//! and `toolArgs` (an object, or the arguments as a JSON string); the
//! VS Code-compatible PascalCase form carries `hook_event_name`, `tool_name`
//! and `tool_input`. Both are accepted. Only `preToolUse` output is honoured:
//! `{"permissionDecision":"allow|deny|ask","permissionDecisionReason":…}`
//! (`ask` prompts in interactive sessions). Failures render as an explicit
//! JSON deny.

use gatehouse_core::{Action, ToolCall, ToolClass};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{DecodeError, HookEvent, Phase, Rendered, Verdict, json_line};
use crate::tools::call_with_search;

const HOST: &str = "copilot";

/// The fields of a Copilot CLI tool hook payload, in either spelling.
#[derive(Debug, Deserialize)]
struct Payload {
    /// The event, when the payload names it (PascalCase form).
    #[serde(default, alias = "hookEventName")]
    hook_event_name: Option<String>,
    /// The host's session id.
    #[serde(default, alias = "sessionId")]
    session_id: Option<String>,
    /// The agent's working directory.
    #[serde(default)]
    cwd: Option<String>,
    /// `bash`, `view`, `edit`, `create`, an MCP tool…
    #[serde(alias = "toolName")]
    tool_name: String,
    /// The arguments: an object, or a JSON string holding one.
    #[serde(default, alias = "toolArgs")]
    tool_input: Option<Value>,
    /// The tool's result (`postToolUse`).
    #[serde(default, alias = "toolResult")]
    tool_response: Option<Value>,
}

/// Decode; `event` is the event the hook was installed for (`--event`),
/// needed because the camelCase payload does not name it.
pub(crate) fn decode(text: &str, event: Option<&str>) -> Result<HookEvent, DecodeError> {
    let p: Payload =
        serde_json::from_str(text).map_err(|error| DecodeError::Json { host: HOST, error })?;
    if p.tool_name.trim().is_empty() {
        return Err(DecodeError::Invalid {
            host: HOST,
            detail: "toolName is empty".into(),
        });
    }
    let event_name = match (p.hook_event_name.as_deref(), event) {
        (Some(e), _) | (None, Some(e)) => e.to_owned(),
        (None, None) if p.tool_response.is_some() => "postToolUse".to_owned(),
        (None, None) => "preToolUse".to_owned(),
    };
    let phase = match event_name.as_str() {
        "preToolUse" | "PreToolUse" => Phase::Before,
        "postToolUse" | "PostToolUse" => Phase::After,
        other => {
            return Err(DecodeError::UnsupportedEvent {
                host: HOST,
                event: other.to_owned(),
                supported: "preToolUse, postToolUse",
            });
        }
    };
    let input = match p.tool_input {
        None => {
            return Err(DecodeError::Invalid {
                host: HOST,
                detail: "toolArgs is missing".into(),
            });
        }
        Some(Value::Object(m)) => m,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(DecodeError::Invalid {
                    host: HOST,
                    detail: "toolArgs is a string but not a JSON object".into(),
                });
            }
        },
        Some(_) => {
            return Err(DecodeError::Invalid {
                host: HOST,
                detail: "toolArgs is neither an object nor a JSON string".into(),
            });
        }
    };
    let call = map_tool(&p.tool_name, input, p.cwd.as_deref());
    Ok(HookEvent {
        event_name,
        phase,
        call,
        session_id: p.session_id,
        cwd: p.cwd,
        tool_use_id: None,
        outcome: p.tool_response,
    })
}

/// Copilot CLI's built-in tools onto gatehouse's classes.
fn map_tool(tool: &str, input: Map<String, Value>, cwd: Option<&str>) -> ToolCall {
    match tool {
        "bash" | "powershell" | "shell" => {
            ToolCall::new(tool, ToolClass::Exec, Value::Object(input))
        }
        "view" | "read" | "read_file" => ToolCall::new(tool, ToolClass::Read, Value::Object(input)),
        "glob" => call_with_search(tool, ToolClass::Read, input, &["path"], &["pattern"], cwd),
        "grep" | "rg" => call_with_search(tool, ToolClass::Read, input, &["path"], &["glob"], cwd),
        "create" | "edit" | "str_replace" | "str_replace_editor" | "write" | "apply_patch" => {
            ToolCall::new(tool, ToolClass::Write, Value::Object(input))
        }
        "web_fetch" | "fetch" => ToolCall::new(tool, ToolClass::Fetch, Value::Object(input)),
        "task" => ToolCall::new(tool, ToolClass::Agent, Value::Object(input)),
        _ if tool.starts_with("mcp__") => ToolCall::new(tool, ToolClass::Mcp, Value::Object(input)),
        _ => ToolCall::new(tool, ToolClass::Other, Value::Object(input)),
    }
}

/// Copilot CLI's `preToolUse` answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Output<'a> {
    permission_decision: &'a str,
    permission_decision_reason: &'a str,
}

fn decision(d: &str, reason: &str) -> Option<String> {
    json_line(&Output {
        permission_decision: d,
        permission_decision_reason: reason,
    })
}

pub(crate) fn render(phase: Phase, verdict: &Verdict) -> Rendered {
    let stdout = match (phase, verdict.action) {
        (Phase::After, _) | (_, Action::Defer) => Some(String::new()),
        (_, a) => decision(a.as_str(), &verdict.reason),
    };
    Rendered::answer_or(stdout, render_failure)
}

/// An explicit JSON deny, reason also on stderr (exit 2 should even that fail).
pub(crate) fn render_failure(reason: &str) -> Rendered {
    Rendered::json_deny(reason, |r| decision("deny", r))
}
