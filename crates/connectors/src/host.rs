//! The hosts gatehouse plugs into, and what each one can do.

use gatehouse_core::ToolClass;

use crate::event::{DecodeError, HookEvent, Phase, Rendered, Verdict};
use crate::{claude_code, codex, copilot, cursor, gemini};

/// An agent host with a hook system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// Anthropic's Claude Code.
    ClaudeCode,
    /// OpenAI's Codex CLI.
    Codex,
    /// Google's Gemini CLI.
    Gemini,
    /// The Cursor editor's agent.
    Cursor,
    /// GitHub Copilot CLI.
    Copilot,
}

impl Host {
    /// Every host, for help texts and tests.
    pub const ALL: [Host; 5] = [
        Host::ClaudeCode,
        Host::Codex,
        Host::Gemini,
        Host::Cursor,
        Host::Copilot,
    ];

    /// The name used on the command line and in the audit (`claude-code`).
    pub fn as_str(self) -> &'static str {
        match self {
            Host::ClaudeCode => "claude-code",
            Host::Codex => "codex",
            Host::Gemini => "gemini",
            Host::Cursor => "cursor",
            Host::Copilot => "copilot",
        }
    }

    /// The host named `name` (as [`Host::as_str`] spells it).
    pub fn parse(name: &str) -> Option<Host> {
        Host::ALL.into_iter().find(|h| h.as_str() == name)
    }

    /// Decode one hook payload. `event` is the event the hook was installed
    /// for, used only by hosts whose payload does not name it (Copilot CLI).
    pub fn decode(self, text: &str, event: Option<&str>) -> Result<HookEvent, DecodeError> {
        let ev = match self {
            Host::ClaudeCode => claude_code::decode(text),
            Host::Codex => codex::decode(text),
            Host::Gemini => gemini::decode(text),
            Host::Cursor => cursor::decode(text),
            Host::Copilot => copilot::decode(text, event),
        }?;
        self.require_subject(&ev)?;
        Ok(ev)
    }

    /// A shell call must say what it runs and a file call which files: without
    /// them no command or path rule could match, and the call would slip past
    /// every rule. (The host's tool would fail on such input anyway.)
    fn require_subject(self, ev: &HookEvent) -> Result<(), DecodeError> {
        let missing = match ev.call.class {
            ToolClass::Exec
                if ev
                    .call
                    .command
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty()) =>
            {
                "a command"
            }
            ToolClass::Read | ToolClass::Write if ev.call.paths.is_empty() => "a file path",
            _ => return Ok(()),
        };
        Err(DecodeError::Invalid {
            host: self.as_str(),
            detail: format!(
                "{} call {:?} has no {missing} in its input",
                ev.call.class, ev.call.tool
            ),
        })
    }

    /// Whether the host can put this event's call to the user itself. Where it
    /// cannot, an `ask` must be held on the gateway or follow `approval.headless`.
    pub fn native_ask(self, event: &HookEvent) -> bool {
        match self {
            Host::ClaudeCode => event.phase != Phase::After,
            Host::Codex => codex::native_ask(event.phase),
            Host::Gemini => false,
            Host::Cursor => cursor::native_ask(event.phase, &event.event_name),
            Host::Copilot => event.phase == Phase::Before,
        }
    }

    /// The host's answer for `verdict` on `event`.
    pub fn render(self, event: &HookEvent, verdict: &Verdict) -> Rendered {
        match self {
            Host::ClaudeCode => claude_code::render(event.phase, verdict),
            Host::Codex => codex::render(event.phase, verdict),
            Host::Gemini => gemini::render(event.phase, verdict),
            Host::Cursor => cursor::render(event.phase, &event.event_name, verdict),
            Host::Copilot => copilot::render(event.phase, verdict),
        }
    }

    /// The host's blocking answer when gatehouse itself failed (bad input, no
    /// policy, a panic): the form this host is documented to honour as a block.
    pub fn render_failure(self, reason: &str) -> Rendered {
        let reason = if reason.starts_with("gatehouse") {
            reason.to_owned()
        } else {
            format!("gatehouse: {reason}")
        };
        match self {
            Host::ClaudeCode | Host::Codex => claude_code::render_failure(&reason),
            Host::Gemini => gemini::render_failure(&reason),
            Host::Cursor => cursor::render_failure(&reason),
            Host::Copilot => copilot::render_failure(&reason),
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
