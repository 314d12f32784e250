//! Host connectors: each agent host's hook wire types, their mapping onto
//! gatehouse's domain ([`gatehouse_core::ToolCall`]), and the rendering of an
//! answer back into the host's own output and exit code.
//!
//! Connectors decide nothing. They decode ([`Host::decode`]), say what the host
//! can do ([`Host::native_ask`]), and render what they are told
//! ([`Host::render`], [`Host::render_failure`]). The hook command in the CLI
//! asks the policy (or the daemon) in between.
//!
//! [`setup`] edits the hosts' hook configuration files (pure text in, text out).

mod claude_code;
mod codex;
mod copilot;
mod cursor;
mod event;
mod gemini;
mod host;
mod tools;

pub mod setup;

pub use event::{DecodeError, HookEvent, Phase, Rendered, Verdict, reason_line};
pub use host::Host;
