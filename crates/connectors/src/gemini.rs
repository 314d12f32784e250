//! Gemini CLI: `BeforeTool` and `AfterTool` command hooks (`settings.json`).
//!
//! Input: `session_id`, `transcript_path`, `cwd`, `hook_event_name`,
//! `timestamp`, `tool_name`, `tool_input` (and `mcp_context` for MCP tools,
//! `tool_response` after). Output on stdout is JSON only: `{"decision":"deny",
//! "reason":…}` blocks. Exit 2 blocks with stderr as the reason; any other
//! non-zero exit is only a warning, so failures render as exit 2. A hook has
//! no way to ask the user.

use gatehouse_core::{Action, ToolCall, ToolClass};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{DecodeError, HookEvent, Phase, Rendered, Verdict, json_line};
use crate::tools::{call_with_search, str_field, urls_in};

const HOST: &str = "gemini";

/// The fields of a Gemini CLI tool hook payload gatehouse uses.
#[derive(Debug, Deserialize)]
struct Payload {
    /// The host's session id.
    #[serde(default)]
    session_id: Option<String>,
    /// The agent's working directory.
    #[serde(default)]
    cwd: Option<String>,
    /// `BeforeTool` or `AfterTool`.
    hook_event_name: String,
    /// `run_shell_command`, `read_file`, … or an MCP tool's name.
    tool_name: String,
    /// The tool's arguments.
    tool_input: Map<String, Value>,
    /// Present for tools served by an MCP server.
    #[serde(default)]
    mcp_context: Option<Value>,
    /// The tool's result (`AfterTool`).
    #[serde(default)]
    tool_response: Option<Value>,
}

pub(crate) fn decode(text: &str) -> Result<HookEvent, DecodeError> {
    let p: Payload =
        serde_json::from_str(text).map_err(|error| DecodeError::Json { host: HOST, error })?;
    if p.tool_name.trim().is_empty() {
        return Err(DecodeError::Invalid {
            host: HOST,
            detail: "tool_name is empty".into(),
        });
    }
    let phase = match p.hook_event_name.as_str() {
        "BeforeTool" => Phase::Before,
        "AfterTool" => Phase::After,
        other => {
            return Err(DecodeError::UnsupportedEvent {
                host: HOST,
                event: other.to_owned(),
                supported: "BeforeTool, AfterTool",
            });
        }
    };
    let is_mcp = p.mcp_context.as_ref().is_some_and(|v| !v.is_null());
    let call = map_tool(&p.tool_name, p.tool_input, p.cwd.as_deref(), is_mcp);
    Ok(HookEvent {
        event_name: p.hook_event_name,
        phase,
        call,
        session_id: p.session_id,
        cwd: p.cwd,
        tool_use_id: None,
        outcome: p.tool_response,
    })
}

/// Gemini CLI's built-in tools onto gatehouse's classes.
fn map_tool(tool: &str, input: Map<String, Value>, cwd: Option<&str>, is_mcp: bool) -> ToolCall {
    if is_mcp || tool.starts_with("mcp__") {
        return ToolCall::new(tool, ToolClass::Mcp, Value::Object(input));
    }
    match tool {
        "run_shell_command" => ToolCall::new(tool, ToolClass::Exec, Value::Object(input)),
        "read_file" | "read_many_files" => {
            let mut call = ToolCall::new(tool, ToolClass::Read, Value::Object(input.clone()));
            if let Some(Value::Array(items)) = input.get("include") {
                call.paths
                    .extend(items.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
            call
        }
        "list_directory" => {
            let dir = str_field(&input, &["dir_path", "path"]).map(str::to_owned);
            let mut call = ToolCall::new(tool, ToolClass::Read, Value::Object(input));
            if let Some(d) = dir {
                call.paths = vec![d];
            }
            call
        }
        "glob" => call_with_search(
            tool,
            ToolClass::Read,
            input,
            &["dir_path", "path"],
            &["pattern"],
            cwd,
        ),
        "search_file_content" | "grep_search" | "grep" => call_with_search(
            tool,
            ToolClass::Read,
            input,
            &["dir_path", "path"],
            &["include"],
            cwd,
        ),
        "write_file" | "replace" | "edit" => {
            ToolCall::new(tool, ToolClass::Write, Value::Object(input))
        }
        "web_fetch" => {
            let urls = str_field(&input, &["prompt"])
                .map(urls_in)
                .unwrap_or_default();
            let mut call = ToolCall::new(tool, ToolClass::Fetch, Value::Object(input));
            call.urls.extend(urls);
            call
        }
        "google_web_search" => ToolCall::new(tool, ToolClass::Fetch, Value::Object(input)),
        _ => ToolCall::new(tool, ToolClass::Other, Value::Object(input)),
    }
}

/// Gemini CLI's answer: `{}` (no opinion) or a decision with its reason.
#[derive(Serialize)]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

pub(crate) fn render(phase: Phase, verdict: &Verdict) -> Rendered {
    let decision = match (phase, verdict.action) {
        (Phase::After, _) | (_, Action::Defer) => None,
        (_, Action::Allow) => Some("allow"),
        (_, Action::Ask | Action::Deny) => Some("deny"),
    };
    let out = Output {
        decision,
        reason: decision.map(|_| verdict.reason.as_str()),
    };
    Rendered::answer_or(json_line(&out), render_failure)
}

/// Exit 2 (the only blocking exit code) with the reason on stderr.
pub(crate) fn render_failure(reason: &str) -> Rendered {
    Rendered::exit_block(reason)
}
