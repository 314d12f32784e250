//! Codex CLI: Claude-compatible `PreToolUse`, `PermissionRequest` and
//! `PostToolUse` hooks (`~/.codex/hooks.json`).
//!
//! Codex's `PreToolUse` honours only `permissionDecision: "deny"` (or exit 2);
//! `allow` and `ask` are not supported there and a failing or timed-out hook
//! does not block. So before a call: deny renders as a JSON deny, allow and
//! defer print nothing (Codex's own approval policy applies), and an ask
//! cannot be answered natively. `PermissionRequest` fires when Codex is about
//! to ask the user: there, printing nothing *is* the native ask.

use gatehouse_core::{Action, ToolCall, ToolClass};
use serde_json::{Map, Value};

use crate::claude_code::{self, permission_request_json, pre_tool_use_json};
use crate::event::{DecodeError, HookEvent, Phase, Rendered, Verdict};
use crate::tools::{patch_paths, str_field};

const HOST: &str = "codex";

pub(crate) fn decode(text: &str) -> Result<HookEvent, DecodeError> {
    claude_code::into_event(HOST, claude_code::parse(HOST, text)?, map_tool)
}

/// Codex names its shell `Bash` and its edits `apply_patch` (the patch text in
/// `command`); MCP tools are `mcp__server__tool`. Everything else is mapped as
/// Claude Code maps it, unknown names under class `other`.
fn map_tool(tool: &str, input: Map<String, Value>, cwd: Option<&str>) -> ToolCall {
    match tool {
        "apply_patch" | "ApplyPatch" => {
            let paths = str_field(&input, &["command", "patch", "input"])
                .map(patch_paths)
                .unwrap_or_default();
            let mut call = ToolCall::new(tool, ToolClass::Write, Value::Object(input));
            call.paths = paths;
            call
        }
        "shell" | "exec_command" | "local_shell" => {
            ToolCall::new(tool, ToolClass::Exec, Value::Object(input))
        }
        _ => claude_code::map_tool(tool, input, cwd),
    }
}

pub(crate) fn native_ask(phase: Phase) -> bool {
    phase == Phase::Permission
}

pub(crate) fn render(phase: Phase, verdict: &Verdict) -> Rendered {
    let r = &verdict.reason;
    let stdout = match (phase, verdict.action) {
        (Phase::After, _) | (_, Action::Defer) => Some(String::new()),
        (Phase::Before, Action::Allow) => Some(String::new()),
        // Not answerable natively before a call: the caller routes asks
        // elsewhere; one that gets here anyway is denied.
        (Phase::Before, Action::Ask | Action::Deny) => pre_tool_use_json("deny", r),
        (Phase::Permission, Action::Allow) => permission_request_json("allow", r),
        (Phase::Permission, Action::Ask) => Some(String::new()),
        (Phase::Permission, Action::Deny) => permission_request_json("deny", r),
    };
    Rendered::answer_or(stdout, claude_code::render_failure)
}
