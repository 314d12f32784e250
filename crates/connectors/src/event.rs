//! Host-independent shapes of one hook invocation and of its answer.

use gatehouse_core::{Action, ToolCall};
use serde_json::Value;

/// Where in the host's tool lifecycle a hook fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the tool runs (`PreToolUse`, `BeforeTool`, `beforeShellExecution`…): the gate.
    Before,
    /// The host is about to show its own permission dialog (`PermissionRequest`).
    Permission,
    /// After the tool ran (`PostToolUse`, `AfterTool`…): only recorded.
    After,
}

impl Phase {
    /// A stable lowercase name for logs and the audit.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::Permission => "permission",
            Phase::After => "after",
        }
    }
}

/// One decoded hook invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct HookEvent {
    /// The host's own name of the event (`PreToolUse`, `beforeShellExecution`…),
    /// kept for the audit and for rendering answers that must echo it.
    pub event_name: String,
    /// Which phase the event belongs to.
    pub phase: Phase,
    /// The tool call in host-independent form.
    pub call: ToolCall,
    /// The host's session (or conversation) id, when it sends one.
    pub session_id: Option<String>,
    /// The agent's working directory, when the host sends it.
    pub cwd: Option<String>,
    /// The host's id of this tool call, to tie `Before` and `After` records together.
    pub tool_use_id: Option<String>,
    /// The tool's result, for `After` events (recorded, never evaluated).
    pub outcome: Option<Value>,
}

/// What to tell the host. Produced by the CLI from a [`gatehouse_core::Decision`]
/// after routing asks; connectors only render it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The action to answer. `Ask` must only be given where [`crate::Host::native_ask`]
    /// is true; a connector renders an unexpected `Ask` as a deny (fail closed).
    pub action: Action,
    /// One line for the person and the agent: why.
    pub reason: String,
}

/// The host-specific answer: what to print and how to exit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// Printed to stdout as is (empty: print nothing).
    pub stdout: String,
    /// Printed to stderr as is (empty: print nothing).
    pub stderr: String,
    /// The process exit code the host interprets.
    pub exit_code: u8,
}

impl Rendered {
    /// `stdout` as the answer (exit 0); an answer that could not be rendered
    /// becomes the host's block via `fail`, never a silent pass.
    pub(crate) fn answer_or(stdout: Option<String>, fail: fn(&str) -> Rendered) -> Rendered {
        match stdout {
            Some(stdout) => Rendered {
                stdout,
                stderr: String::new(),
                exit_code: 0,
            },
            None => fail("gatehouse: cannot render the answer"),
        }
    }

    /// The block of hosts that read exit code 2 as "deny": nothing on stdout,
    /// the reason as one line on stderr.
    pub(crate) fn exit_block(reason: &str) -> Rendered {
        Rendered {
            stdout: String::new(),
            stderr: format!("{}\n", one_line(reason)),
            exit_code: 2,
        }
    }

    /// The block of hosts that take an explicit JSON deny: `deny` renders it
    /// from the reason; the reason also goes to stderr. Should even that fail
    /// to render, exit 2.
    pub(crate) fn json_deny(reason: &str, deny: impl FnOnce(&str) -> Option<String>) -> Rendered {
        let reason = one_line(reason);
        match deny(&reason) {
            Some(stdout) => Rendered {
                stdout,
                stderr: format!("{reason}\n"),
                exit_code: 0,
            },
            None => Rendered::exit_block(&reason),
        }
    }
}

/// A reason as one line (hosts read one line of stderr).
fn one_line(reason: &str) -> String {
    reason.replace(['\n', '\r'], " ")
}

/// A hook payload that cannot be understood. The CLI turns every one of these
/// into the host's blocking answer.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON of the wrong shape (a required field missing, a wrong type).
    #[error("malformed {host} hook payload: {error}")]
    Json {
        /// Which host's shape was expected.
        host: &'static str,
        /// serde_json's description, with line and column (in the message,
        /// not as a source, so it is said once).
        error: serde_json::Error,
    },
    /// Well-formed, but an event this connector does not gate.
    #[error("unsupported {host} hook event {event:?}: gatehouse handles {supported}")]
    UnsupportedEvent {
        /// Which host.
        host: &'static str,
        /// The event name received.
        event: String,
        /// The events that are handled, for the message.
        supported: &'static str,
    },
    /// A field is present but unusable (an empty tool name, unparseable tool arguments).
    #[error("invalid {host} hook payload: {detail}")]
    Invalid {
        /// Which host.
        host: &'static str,
        /// What is wrong, for the one-line reason.
        detail: String,
    },
}

/// The one-line reason shown for a policy decision: the policy's message,
/// then which rules decided it.
pub fn reason_line(message: Option<&str>, rule_labels: &str) -> String {
    let mut out = String::from("gatehouse: ");
    match (message.filter(|m| !m.is_empty()), rule_labels.is_empty()) {
        (Some(m), true) => out.push_str(m),
        (Some(m), false) if m.contains(rule_labels) => out.push_str(m),
        (Some(m), false) => {
            out.push_str(m);
            out.push_str(" [");
            out.push_str(rule_labels);
            out.push(']');
        }
        (None, false) => {
            out.push_str("matched ");
            out.push_str(rule_labels);
        }
        (None, true) => out.push_str("policy decision"),
    }
    // One line: hosts show the reason inline.
    out.replace(['\n', '\r'], " ")
}

/// One JSON line from a `#[derive(Serialize)]` answer struct (field order is
/// declaration order, whatever serde_json's map features). `None` only if
/// serialisation fails, which callers render as a failure, never as silence.
pub(crate) fn json_line<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_string(v).ok().map(|mut s| {
        s.push('\n');
        s
    })
}
