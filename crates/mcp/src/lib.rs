//! The MCP proxy of gatehouse.
//!
//! `gatehouse mcp` sits between any MCP client and any MCP server. Every
//! message passes through unchanged except `tools/call` requests from the
//! client, which are evaluated with the policy as class `mcp` under the raw
//! name `mcp__<server>__<tool>`: allowed calls are forwarded, denied calls are
//! answered with a tool result carrying `isError: true` and the reason (so the
//! model can adapt), and asked calls are held until a person decides.
//!
//! # Why raw JSON-RPC frames and not `rmcp`
//!
//! A proxy must forward what it does not understand byte for byte, across
//! every protocol revision its peers speak (2024-11-05, 2025-03-26 with
//! batches, 2025-06-18, and whatever comes next). Decoding into `rmcp`'s typed
//! model and re-encoding would drop unknown fields, reorder keys, reject
//! messages from newer revisions, and add a parse-serialize round trip to
//! every message. So frames are kept as the exact text received and looked at
//! through [`serde_json::Value`] only far enough to find the id, the method
//! and, for `tools/call`, the tool name and arguments. The little MCP this
//! needs (error and tool-error results, progress notifications) is built in
//! [`message`]. `rmcp` would add nothing to the Streamable HTTP side either:
//! that front forwards requests and SSE streams to an upstream it does not
//! interpret, with axum.
//!
//! # Layout
//! - [`message`]: classify JSON-RPC frames, build the few messages the proxy sends.
//! - [`gate`]: a tool call -> policy decision; tool annotations (stricter only).
//! - [`session`]: the pure routing state machine ([`session::Proxy`]).
//! - [`hold`]: how an ask is held (the [`hold::Approver`] seam: daemon or headless).
//! - [`audit`]: the [`audit::AuditSink`] seam the binary fills with the store.
//! - [`stdio`]: the stdio transport: spawn the server, pump frames both ways.
//! - [`http`]: the Streamable HTTP front (axum in, reqwest out, SSE passed through).

pub mod audit;
pub mod gate;
pub mod hold;
pub mod http;
pub mod message;
pub mod session;
pub mod stdio;

pub use gate::{Decide, Gate, raw_tool_name};
pub use session::{ClientAction, HoldOutcome, HoldTicket, Proxy, Release, ServerAction};
