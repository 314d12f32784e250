//! What an agent asked to do ([`ToolCall`]) and where it asked from ([`CallContext`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The class a host's tool name maps onto, so one policy covers every host.
///
/// Connectors decide the class; the raw tool name is always kept beside it in
/// [`ToolCall::tool`] so rules can still name a specific tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolClass {
    /// Runs a shell command.
    Exec,
    /// Reads files or lists directories.
    Read,
    /// Writes, edits or deletes files.
    Write,
    /// Talks to the network (web fetch, search).
    Fetch,
    /// A tool reached through an MCP server (`mcp__<server>__<tool>`).
    Mcp,
    /// Starts a sub-agent.
    Agent,
    /// Anything else (an HTTP API tool such as `send_refund`): matched by raw name only.
    Other,
}

impl ToolClass {
    pub const ALL: [ToolClass; 7] = [
        ToolClass::Exec,
        ToolClass::Read,
        ToolClass::Write,
        ToolClass::Fetch,
        ToolClass::Mcp,
        ToolClass::Agent,
        ToolClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolClass::Exec => "exec",
            ToolClass::Read => "read",
            ToolClass::Write => "write",
            ToolClass::Fetch => "fetch",
            ToolClass::Mcp => "mcp",
            ToolClass::Agent => "agent",
            ToolClass::Other => "other",
        }
    }

    /// The class a bare class name denotes (`"exec"` -> `Exec`); `None` for any other name.
    pub fn from_class_name(name: &str) -> Option<ToolClass> {
        ToolClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Best-effort class of a tool known only by name, for callers without a
    /// connector of their own (the HTTP API, `gatehouse check --tool`).
    /// Class names map to themselves, `mcp__*` to `Mcp`, Claude Code's built-in
    /// tool names to their classes, and everything else to `Other`.
    pub fn infer(tool: &str) -> ToolClass {
        if let Some(class) = ToolClass::from_class_name(tool) {
            return class;
        }
        if tool.starts_with("mcp__") {
            return ToolClass::Mcp;
        }
        match tool {
            "Bash" | "shell" | "run_shell_command" | "shell_command" | "bash" => ToolClass::Exec,
            "Read" | "Glob" | "Grep" | "LS" | "read_file" | "list_directory" | "glob" | "grep" => {
                ToolClass::Read
            }
            "Write" | "Edit" | "MultiEdit" | "NotebookEdit" | "write_file" | "edit_file"
            | "replace" | "apply_patch" | "delete" => ToolClass::Write,
            "WebFetch" | "WebSearch" | "web_fetch" | "google_web_search" | "fetch" => {
                ToolClass::Fetch
            }
            "Task" | "Agent" => ToolClass::Agent,
            _ => ToolClass::Other,
        }
    }
}

impl std::fmt::Display for ToolClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tool call, in host-independent form.
///
/// Connectors fill the typed fields (`command`, `paths`, `urls`) from the host's
/// input so that policy rules on `command:`/`path:`/`url:` work the same for
/// every host; `input` keeps the whole argument object for `args:` predicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The raw tool name as the host or caller named it (`Bash`, `send_refund`,
    /// `mcp__files__write_file`).
    pub tool: String,
    /// The class the raw name maps onto.
    pub class: ToolClass,
    /// The arguments, exactly as given.
    #[serde(default)]
    pub input: Value,
    /// For `exec`: the shell command line to analyse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Files the call reads (class `read`) or writes (class `write`), as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// URLs the call fetches (class `fetch`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

/// Input keys that conventionally carry a file path, across hosts.
const PATH_KEYS: [&str; 6] = [
    "file_path",
    "path",
    "notebook_path",
    "filePath",
    "absolute_path",
    "target_file",
];
/// Input keys that conventionally carry a list of file paths.
const PATHS_KEYS: [&str; 2] = ["paths", "file_paths"];
/// Input keys that conventionally carry a URL.
const URL_KEYS: [&str; 2] = ["url", "uri"];
/// Input keys that conventionally carry a shell command.
const COMMAND_KEYS: [&str; 2] = ["command", "cmd"];

impl ToolCall {
    /// A call whose typed fields are extracted from `input` by the conventional
    /// key names (`command`, `file_path`/`path`, `url`). Connectors that know
    /// their host's shapes better override the fields afterwards.
    pub fn new(tool: impl Into<String>, class: ToolClass, input: Value) -> ToolCall {
        let mut call = ToolCall {
            tool: tool.into(),
            class,
            input,
            command: None,
            paths: Vec::new(),
            urls: Vec::new(),
        };
        call.extract_conventional_fields();
        call
    }

    /// A call with its class inferred from the tool name ([`ToolClass::infer`]).
    pub fn infer(tool: impl Into<String>, input: Value) -> ToolCall {
        let tool = tool.into();
        let class = ToolClass::infer(&tool);
        ToolCall::new(tool, class, input)
    }

    /// A shell command as an `exec` call.
    pub fn exec(command: impl Into<String>) -> ToolCall {
        let command = command.into();
        ToolCall {
            tool: "exec".into(),
            class: ToolClass::Exec,
            input: serde_json::json!({ "command": command }),
            command: Some(command),
            paths: Vec::new(),
            urls: Vec::new(),
        }
    }

    fn extract_conventional_fields(&mut self) {
        let Some(obj) = self.input.as_object() else {
            return;
        };
        if self.class == ToolClass::Exec {
            self.command = COMMAND_KEYS
                .iter()
                .find_map(|k| obj.get(*k))
                .and_then(command_text);
        }
        for key in PATH_KEYS {
            if let Some(Value::String(p)) = obj.get(key) {
                self.paths.push(p.clone());
            }
        }
        for key in PATHS_KEYS {
            if let Some(Value::Array(items)) = obj.get(key) {
                self.paths
                    .extend(items.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
        }
        for key in URL_KEYS {
            if let Some(Value::String(u)) = obj.get(key) {
                self.urls.push(u.clone());
            }
        }
    }
}

/// A command given as a string, or as an argv array (Codex sends `["bash", "-lc", "..."]`).
fn command_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (words.len() == items.len()).then(|| shell_join(&words))
        }
        _ => None,
    }
}

/// Joins argv words into one shell command line, quoting where needed, so that
/// the shell analysis sees the same words again.
pub fn shell_join(words: &[&str]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let plain = !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&b));
        if plain {
            out.push_str(w);
        } else {
            out.push('\'');
            out.push_str(&w.replace('\'', r"'\''"));
            out.push('\'');
        }
    }
    out
}

/// Where a call comes from. Everything here is supplied by the caller; the
/// core never looks it up itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallContext {
    /// The time of the decision (expiry, grant TTLs and tests use it).
    pub now: crate::Timestamp,
    /// Session identity for `session:` rules: `GATEHOUSE_SESSION`, else `repo/branch` from git, else the host's session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The host's own session id (kept for the audit even when `session` is `repo/branch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_session_id: Option<String>,
    /// The agent's working directory: relative paths resolve against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The user's home directory: `~` in path rules expands to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// Which host sent the call (`claude-code`, `codex`, `http`, `mcp`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Which agent made the call, when the host says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}
