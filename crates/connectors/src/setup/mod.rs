//! Installing gatehouse's hooks into each host's configuration file, and
//! taking exactly them out again. Pure: text in, text out; the CLI reads,
//! backs up and writes the files.
//!
//! Ours are recognised by their command (`… gatehouse … hook <host> …`), so a
//! second install replaces nothing that is already right, and `remove` leaves
//! every other hook and setting as it was, in the same key order.

mod json;

use crate::Host;
pub use json::Json;
use json::{obj, parse, to_pretty};

/// What to install: the command line that runs the hook and the host's timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookCommand {
    /// The gatehouse executable, already shell-quoted if needed.
    pub program: String,
    /// Extra arguments appended to every hook command (` --policy …`), shell-quoted, may be empty.
    pub extra_args: String,
    /// The hook's own deadline for a held approval, shorter than `timeout_secs`,
    /// so gatehouse answers (deny) before the host gives up on it.
    pub deadline_secs: u64,
    /// The host's timeout for the hook process.
    pub timeout_secs: u64,
}

impl HookCommand {
    /// The full command for `host`'s `event`.
    pub fn command_for(&self, host: Host, event: &str) -> String {
        let event_arg = match host {
            // Copilot's camelCase payload does not name its event.
            Host::Copilot => format!(" --event {event}"),
            _ => String::new(),
        };
        format!(
            "{} hook {}{} --deadline-secs {}{}",
            self.program,
            host.as_str(),
            event_arg,
            self.deadline_secs,
            self.extra_args
        )
    }
}

/// A settings file that cannot be edited safely; nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Not valid JSON.
    #[error("{path} is not valid JSON ({source}); fix or move it, then run setup again")]
    Parse {
        /// The file, for the message.
        path: String,
        /// serde_json's description, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but not the shape the host documents (e.g. `hooks` is a list).
    #[error("{path}: {detail}; fix it by hand, then run setup again")]
    Shape {
        /// The file, for the message.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// Could not render the edited document.
    #[error("cannot render {path}: {source}")]
    Render {
        /// The file, for the message.
        path: String,
        /// serde_json's description.
        #[source]
        source: serde_json::Error,
    },
}

/// How a host lays out its hook entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `hooks.<Event>[] = {matcher, hooks: [{type, command, timeout}]}` (Claude Code, Codex, Gemini).
    Grouped,
    /// `hooks.<event>[] = {command…}` with a top-level `version: 1` (Cursor, Copilot).
    Flat,
}

/// One hook event a host gets an entry for.
struct EventSpec {
    /// The host's event name.
    name: &'static str,
    /// Whether a failure of this hook should block (`onFailure: "block"` where supported).
    gate: bool,
}

const fn ev(name: &'static str, gate: bool) -> EventSpec {
    EventSpec { name, gate }
}

const CLAUDE_EVENTS: [EventSpec; 3] = [
    ev("PreToolUse", true),
    ev("PermissionRequest", true),
    ev("PostToolUse", false),
];
const GEMINI_EVENTS: [EventSpec; 2] = [ev("BeforeTool", true), ev("AfterTool", false)];
const CURSOR_EVENTS: [EventSpec; 6] = [
    ev("beforeShellExecution", true),
    ev("beforeMCPExecution", true),
    ev("beforeReadFile", true),
    ev("afterShellExecution", false),
    ev("afterMCPExecution", false),
    ev("afterFileEdit", false),
];
const COPILOT_EVENTS: [EventSpec; 2] = [ev("preToolUse", true), ev("postToolUse", false)];

fn events(host: Host) -> &'static [EventSpec] {
    match host {
        Host::ClaudeCode | Host::Codex => &CLAUDE_EVENTS,
        Host::Gemini => &GEMINI_EVENTS,
        Host::Cursor => &CURSOR_EVENTS,
        Host::Copilot => &COPILOT_EVENTS,
    }
}

fn layout(host: Host) -> Layout {
    match host {
        Host::ClaudeCode | Host::Codex | Host::Gemini => Layout::Grouped,
        Host::Cursor | Host::Copilot => Layout::Flat,
    }
}

/// The key holding a handler's command line.
fn command_key(host: Host) -> &'static str {
    match host {
        Host::Copilot => "bash",
        _ => "command",
    }
}

/// Whether a command line is one of ours for `host`.
pub fn is_ours(host: Host, command: &str) -> bool {
    let needle = format!(" hook {}", host.as_str());
    command.contains("gatehouse")
        && command.match_indices(&needle).any(|(i, _)| {
            command[i + needle.len()..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ')
        })
}

fn handler(host: Host, cmd: &HookCommand, spec: &EventSpec) -> Json {
    let command = Json::String(cmd.command_for(host, spec.name));
    let secs = |n: u64| Json::Number(n.into());
    match host {
        Host::ClaudeCode if spec.gate => obj([
            ("type", Json::String("command".into())),
            ("command", command),
            ("timeout", secs(cmd.timeout_secs)),
            ("onFailure", Json::String("block".into())),
        ]),
        Host::ClaudeCode | Host::Codex => obj([
            ("type", Json::String("command".into())),
            ("command", command),
            ("timeout", secs(cmd.timeout_secs)),
        ]),
        Host::Gemini => obj([
            ("name", Json::String("gatehouse".into())),
            ("type", Json::String("command".into())),
            ("command", command),
            // Gemini CLI takes milliseconds.
            ("timeout", secs(cmd.timeout_secs.saturating_mul(1000))),
        ]),
        Host::Cursor => obj([("command", command)]),
        Host::Copilot => obj([
            ("type", Json::String("command".into())),
            ("bash", command),
            ("timeoutSec", secs(cmd.timeout_secs)),
        ]),
    }
}

fn group(host: Host, handler: Json) -> Json {
    match host {
        // Codex's matcher is a regex and matches everything when absent.
        Host::Codex => obj([("hooks", Json::Array(vec![handler]))]),
        Host::Gemini => obj([
            ("matcher", Json::String(".*".into())),
            ("hooks", Json::Array(vec![handler])),
        ]),
        _ => obj([
            ("matcher", Json::String("*".into())),
            ("hooks", Json::Array(vec![handler])),
        ]),
    }
}

fn handler_is_ours(host: Host, h: &Json) -> bool {
    h.as_object()
        .and_then(|m| m.get(command_key(host)))
        .and_then(Json::as_str)
        .is_some_and(|c| is_ours(host, c))
}

/// Takes our handlers out of one event's list; drops groups we emptied.
/// Returns whether anything was removed.
fn strip_ours(host: Host, entries: &mut Vec<Json>) -> bool {
    let before = entries.clone();
    match layout(host) {
        Layout::Flat => entries.retain(|e| !handler_is_ours(host, e)),
        Layout::Grouped => {
            entries.retain_mut(|g| {
                let Some(hooks) = g
                    .as_object_mut()
                    .and_then(|m| m.get_mut("hooks"))
                    .and_then(Json::as_array_mut)
                else {
                    return true;
                };
                let had = hooks.len();
                hooks.retain(|h| !handler_is_ours(host, h));
                !(had > 0 && hooks.is_empty())
            });
        }
    }
    *entries != before
}

fn load(path: &str, existing: Option<&str>) -> Result<Json, SetupError> {
    let doc = match existing.filter(|t| !t.trim().is_empty()) {
        None => Json::object(),
        Some(t) => parse(t).map_err(|source| SetupError::Parse {
            path: path.to_owned(),
            source,
        })?,
    };
    if doc.as_object().is_none() {
        return Err(SetupError::Shape {
            path: path.to_owned(),
            detail: "the top level is not a JSON object".into(),
        });
    }
    Ok(doc)
}

fn hooks_map<'a>(
    path: &str,
    doc: &'a mut Json,
    create: bool,
) -> Result<Option<&'a mut indexmap::IndexMap<String, Json>>, SetupError> {
    let root = doc.as_object_mut().ok_or_else(|| SetupError::Shape {
        path: path.to_owned(),
        detail: "the top level is not a JSON object".into(),
    })?;
    if !root.contains_key("hooks") {
        if !create {
            return Ok(None);
        }
        root.insert("hooks".into(), Json::object());
    }
    match root.get_mut("hooks") {
        Some(Json::Object(m)) => Ok(Some(m)),
        _ => Err(SetupError::Shape {
            path: path.to_owned(),
            detail: "\"hooks\" is not a JSON object".into(),
        }),
    }
}

fn event_list<'a>(
    path: &str,
    hooks: &'a mut indexmap::IndexMap<String, Json>,
    event: &str,
) -> Result<&'a mut Vec<Json>, SetupError> {
    let entry = hooks
        .entry(event.to_owned())
        .or_insert_with(|| Json::Array(Vec::new()));
    entry.as_array_mut().ok_or_else(|| SetupError::Shape {
        path: path.to_owned(),
        detail: format!("\"hooks.{event}\" is not a list"),
    })
}

/// The file's new text with our hooks installed. `existing` is the current
/// text (`None` if the file does not exist); `path` names it in errors. The
/// result equals `existing` (re-rendered) when our hooks are already right.
pub fn install(
    host: Host,
    path: &str,
    existing: Option<&str>,
    cmd: &HookCommand,
) -> Result<String, SetupError> {
    let mut doc = load(path, existing)?;
    if layout(host) == Layout::Flat
        && let Some(root) = doc.as_object_mut()
        && !root.contains_key("version")
    {
        root.insert("version".into(), Json::Number(1.into()));
    }
    let Some(hooks) = hooks_map(path, &mut doc, true)? else {
        return Err(SetupError::Shape {
            path: path.to_owned(),
            detail: "cannot create \"hooks\"".into(),
        });
    };
    for spec in events(host) {
        let h = handler(host, cmd, spec);
        let wanted = match layout(host) {
            Layout::Flat => h,
            Layout::Grouped => group(host, h),
        };
        let list = event_list(path, hooks, spec.name)?;
        let ours: Vec<&Json> = list
            .iter()
            .filter(|e| match layout(host) {
                Layout::Flat => handler_is_ours(host, e),
                Layout::Grouped => e.as_object().and_then(|m| m.get("hooks")).is_some_and(
                    |hs| matches!(hs, Json::Array(a) if a.iter().any(|h| handler_is_ours(host, h))),
                ),
            })
            .collect();
        if ours.len() == 1 && *ours[0] == wanted {
            continue;
        }
        strip_ours(host, list);
        list.push(wanted);
    }
    to_pretty(&doc).map_err(|source| SetupError::Render {
        path: path.to_owned(),
        source,
    })
}

/// The file's new text with exactly our hooks taken out (`None`: nothing of
/// ours was there, leave the file alone). Event lists and the `hooks` object
/// are dropped only when removing ours left them empty.
pub fn remove(host: Host, path: &str, existing: &str) -> Result<Option<String>, SetupError> {
    let mut doc = load(path, Some(existing))?;
    let mut changed = false;
    if let Some(hooks) = hooks_map(path, &mut doc, false)? {
        for spec in events(host) {
            let Some(Json::Array(list)) = hooks.get_mut(spec.name) else {
                continue;
            };
            if strip_ours(host, list) {
                changed = true;
                if list.is_empty() {
                    hooks.shift_remove(spec.name);
                }
            }
        }
        if changed
            && hooks.is_empty()
            && let Some(root) = doc.as_object_mut()
        {
            root.shift_remove("hooks");
        }
    }
    if !changed {
        return Ok(None);
    }
    to_pretty(&doc)
        .map(Some)
        .map_err(|source| SetupError::Render {
            path: path.to_owned(),
            source,
        })
}

/// Whether a file holds nothing but an empty shell of our own making
/// (`{}` or `{"version": 1}`), so it can be deleted instead of kept.
pub fn is_empty_config(text: &str) -> bool {
    match parse(text) {
        Ok(Json::Object(m)) => m
            .iter()
            .all(|(k, v)| k == "version" && *v == Json::Number(1.into())),
        _ => false,
    }
}
