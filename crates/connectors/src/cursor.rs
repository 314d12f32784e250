//! Cursor: `beforeShellExecution`, `beforeMCPExecution`, `beforeReadFile`
//! (gates) and `afterShellExecution`, `afterMCPExecution`, `afterFileEdit`
//! (recorded), configured in `hooks.json`.
//!
//! Every payload carries `hook_event_name`, `conversation_id`,
//! `generation_id` and `workspace_roots`. The answer is
//! `{"permission":"allow|deny|ask","user_message":…,"agent_message":…}`;
//! `beforeReadFile` takes only `allow` or `deny`. A hook that fails or times
//! out does not block, so every failure renders as an explicit JSON deny.

use gatehouse_core::{Action, ToolCall, ToolClass};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::event::{DecodeError, HookEvent, Phase, Rendered, Verdict, json_line};

const HOST: &str = "cursor";
const SUPPORTED: &str = "beforeShellExecution, beforeMCPExecution, beforeReadFile, afterShellExecution, afterMCPExecution, afterFileEdit";

/// The fields of a Cursor hook payload gatehouse uses, across its events.
#[derive(Debug, Deserialize)]
struct Payload {
    /// Which event fired.
    hook_event_name: String,
    /// Cursor's conversation id: the host session.
    #[serde(default)]
    conversation_id: Option<String>,
    /// Cursor's id of this generation: ties before and after together.
    #[serde(default)]
    generation_id: Option<String>,
    /// Open workspace folders; the first is the cwd when none is given.
    #[serde(default)]
    workspace_roots: Vec<String>,
    /// Shell events: the command line.
    #[serde(default)]
    command: Option<String>,
    /// Shell events: where it runs.
    #[serde(default)]
    cwd: Option<String>,
    /// MCP events: the tool's name.
    #[serde(default)]
    tool_name: Option<String>,
    /// MCP events: the tool's arguments, as an object or as a JSON string.
    #[serde(default)]
    tool_input: Option<Value>,
    /// MCP events: the server's URL, when remote.
    #[serde(default)]
    url: Option<String>,
    /// File events: the file.
    #[serde(default)]
    file_path: Option<String>,
    /// After events: what happened (`output`, `result_json`, `edits`).
    #[serde(default, alias = "result_json", alias = "edits")]
    output: Option<Value>,
}

fn required<'a>(v: &'a Option<String>, field: &str, event: &str) -> Result<&'a str, DecodeError> {
    v.as_deref().ok_or_else(|| DecodeError::Invalid {
        host: HOST,
        detail: format!("{event} payload has no {field}"),
    })
}

pub(crate) fn decode(text: &str) -> Result<HookEvent, DecodeError> {
    let p: Payload =
        serde_json::from_str(text).map_err(|error| DecodeError::Json { host: HOST, error })?;
    let event = p.hook_event_name.as_str();
    let phase = match event {
        "beforeShellExecution" | "beforeMCPExecution" | "beforeReadFile" => Phase::Before,
        "afterShellExecution" | "afterMCPExecution" | "afterFileEdit" => Phase::After,
        _ => {
            return Err(DecodeError::UnsupportedEvent {
                host: HOST,
                event: event.to_owned(),
                supported: SUPPORTED,
            });
        }
    };
    let call = match event {
        "beforeShellExecution" | "afterShellExecution" => {
            ToolCall::exec(required(&p.command, "command", event)?)
        }
        "beforeMCPExecution" | "afterMCPExecution" => {
            let tool = required(&p.tool_name, "tool_name", event)?;
            let input = match &p.tool_input {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(m)) => m,
                    _ => {
                        return Err(DecodeError::Invalid {
                            host: HOST,
                            detail: "tool_input is a string but not a JSON object".into(),
                        });
                    }
                },
                Some(_) => {
                    return Err(DecodeError::Invalid {
                        host: HOST,
                        detail: "tool_input is neither an object nor a JSON string".into(),
                    });
                }
            };
            let mut call = ToolCall::new(tool, ToolClass::Mcp, Value::Null);
            if let Some(u) = &p.url {
                call.urls.push(u.clone());
            }
            call.input = Value::Object(input);
            call
        }
        "beforeReadFile" => {
            let path = required(&p.file_path, "file_path", event)?;
            let mut call =
                ToolCall::new("read_file", ToolClass::Read, json!({ "file_path": path }));
            call.paths = vec![path.to_owned()];
            call
        }
        _ => {
            let path = required(&p.file_path, "file_path", event)?;
            let mut call =
                ToolCall::new("edit_file", ToolClass::Write, json!({ "file_path": path }));
            call.paths = vec![path.to_owned()];
            call
        }
    };
    Ok(HookEvent {
        event_name: p.hook_event_name,
        phase,
        call,
        session_id: p.conversation_id,
        cwd: p.cwd.or_else(|| p.workspace_roots.into_iter().next()),
        tool_use_id: p.generation_id,
        outcome: p.output,
    })
}

/// Shell and MCP gates can ask the user; `beforeReadFile` cannot.
pub(crate) fn native_ask(phase: Phase, event_name: &str) -> bool {
    phase == Phase::Before && event_name != "beforeReadFile"
}

/// Cursor's answer: `{}` (no opinion) or a permission with messages.
#[derive(Serialize, Default)]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_message: Option<&'a str>,
}

fn permission<'a>(p: &'a str, reason: &'a str) -> Output<'a> {
    Output {
        permission: Some(p),
        user_message: Some(reason),
        agent_message: Some(reason),
    }
}

pub(crate) fn render(phase: Phase, event_name: &str, verdict: &Verdict) -> Rendered {
    let r = verdict.reason.as_str();
    let read_gate = event_name == "beforeReadFile";
    let bare = |p| Output {
        permission: Some(p),
        ..Output::default()
    };
    let out = match (phase, verdict.action) {
        (Phase::After, _) | (_, Action::Defer) => Output::default(),
        (_, Action::Allow) if read_gate => bare("allow"),
        (_, Action::Ask | Action::Deny) if read_gate => bare("deny"),
        (_, Action::Allow) => permission("allow", r),
        (_, Action::Ask) => permission("ask", r),
        (_, Action::Deny) => permission("deny", r),
    };
    Rendered::answer_or(json_line(&out), render_failure)
}

/// An explicit JSON deny (exit 0: the documented path), reason also on stderr.
/// Should even that fail to render, exit 2 (which Cursor also reads as deny).
pub(crate) fn render_failure(reason: &str) -> Rendered {
    Rendered::json_deny(reason, |r| json_line(&permission("deny", r)))
}
