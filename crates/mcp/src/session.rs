//! The proxy's decisions about each message, as a pure state machine.
//!
//! The transports (stdio, Streamable HTTP) read frames, hand them to a
//! [`Proxy`], and carry out the returned action. Nothing here does I/O or
//! reads the clock, so every routing rule is unit-tested below.

use std::collections::HashMap;

use gatehouse_core::{Action, CallContext, Decision, ToolCall};
use serde_json::Value;

use crate::gate::{Gate, denial_text};
use crate::message::{self, IdKey, Kind};

/// What to do with one frame from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientAction {
    /// Send the frame upstream exactly as received.
    Forward,
    /// Answer the client with this message; upstream never sees the frame.
    Reply(Value),
    /// The policy said ask: hold the call until a person decides, then call
    /// [`Proxy::resolve_hold`].
    Hold(Box<HoldTicket>),
    /// The client cancelled a held call: stop waiting and answer nothing
    /// (MCP says a cancelled request gets no response).
    CancelHold(IdKey),
}

/// A client frame's action, plus the decision taken if it was a `tools/call`
/// (for the audit log).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientStep {
    /// What the transport must do.
    pub action: ClientAction,
    /// The evaluated call and its decision, for `tools/call` requests.
    pub decided: Option<(ToolCall, Decision)>,
}

impl ClientStep {
    fn plain(action: ClientAction) -> ClientStep {
        ClientStep {
            action,
            decided: None,
        }
    }
}

/// A held `tools/call`: everything needed to ask a person about it.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldTicket {
    /// The request's id as a key, to resolve or cancel the hold.
    pub key: IdKey,
    /// The call as the policy saw it.
    pub call: ToolCall,
    /// The policy's decision (action `ask`), with rules and message.
    pub decision: Decision,
    /// Where the call came from (for the approver and the audit).
    pub context: CallContext,
    /// The client's `_meta.progressToken`, when it wants progress while waiting.
    pub progress_token: Option<Value>,
}

/// How a held call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// A person approved: forward the call.
    Approved,
    /// Denied, expired, or no one could be asked: answer with this reason.
    Denied(String),
}

/// What to do when a hold resolves.
#[derive(Debug, Clone, PartialEq)]
pub enum Release {
    /// Send the held frame upstream, as originally received.
    Forward(String),
    /// Answer the client with this message.
    Reply(Value),
}

/// What to do with one frame from the upstream server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerAction {
    /// Send the frame to the client exactly as received.
    Forward,
    /// Send this rewritten message instead (a filtered `tools/list`).
    ForwardRewritten(Value),
    /// Not a JSON-RPC message: drop it (logged), never corrupt the client's stream.
    Drop(String),
}

/// The upstream went away: what the client must still be told.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamGone {
    /// Error responses for every request the client is still waiting on.
    pub replies: Vec<Value>,
    /// Holds to cancel: their calls can no longer be forwarded.
    pub cancelled_holds: Vec<IdKey>,
}

/// A request the client is waiting on.
#[derive(Debug, Clone)]
struct Waiting {
    /// The request's id, to address an error response to it.
    id: Value,
    /// The method, to recognise the `tools/list` answer that needs filtering.
    method: String,
}

/// A `tools/call` held for approval.
#[derive(Debug, Clone)]
struct Held {
    /// The request's id.
    id: Value,
    /// The raw tool name, for the denial text.
    tool: String,
    /// The frame exactly as the client sent it, forwarded on approval.
    raw: String,
}

/// One client-server conversation's routing state.
#[derive(Debug)]
pub struct Proxy {
    /// Decides `tools/call` and remembers tool annotations.
    gate: Gate,
    /// Hide tools that the policy denies outright from `tools/list`.
    hide_denied_tools: bool,
    /// Client requests forwarded upstream and not yet answered.
    forwarded: HashMap<IdKey, Waiting>,
    /// `tools/call` requests held for approval.
    held: HashMap<IdKey, Held>,
}

impl Proxy {
    /// A proxy deciding with `gate`; `hide_denied_tools` filters `tools/list`.
    pub fn new(gate: Gate, hide_denied_tools: bool) -> Proxy {
        Proxy {
            gate,
            hide_denied_tools,
            forwarded: HashMap::new(),
            held: HashMap::new(),
        }
    }

    /// The gate, with what it learnt from `tools/list` answers.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Number of requests held for approval right now.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// Routes one frame (one line of text) from the client.
    pub fn on_client_frame(&mut self, raw: &str, ctx: &CallContext) -> ClientStep {
        let msg: Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                return ClientStep::plain(ClientAction::Reply(message::error_response(
                    &Value::Null,
                    message::PARSE_ERROR,
                    &format!("gatehouse: not valid JSON ({e}); message dropped"),
                )));
            }
        };
        match message::kind(&msg) {
            Kind::Request {
                id,
                method: "tools/call",
            } => self.on_tool_call(raw, &msg, id, ctx),
            Kind::Request { id, method } => {
                self.remember_forwarded(IdKey::of(id), id.clone(), method);
                ClientStep::plain(ClientAction::Forward)
            }
            Kind::Notification {
                method: "notifications/cancelled",
            } => {
                let Some(request_id) = msg.pointer("/params/requestId") else {
                    return ClientStep::plain(ClientAction::Forward);
                };
                let key = IdKey::of(request_id);
                if self.held.remove(&key).is_some() {
                    return ClientStep::plain(ClientAction::CancelHold(key));
                }
                // Cancelled upstream: the server may never answer, so stop waiting.
                self.forwarded.remove(&key);
                ClientStep::plain(ClientAction::Forward)
            }
            Kind::Notification { .. } | Kind::Response { .. } => {
                ClientStep::plain(ClientAction::Forward)
            }
            Kind::Batch => self.on_client_batch(&msg),
            Kind::Invalid => {
                let id = msg.get("id").cloned().unwrap_or(Value::Null);
                ClientStep::plain(ClientAction::Reply(message::error_response(
                    &id,
                    message::INVALID_REQUEST,
                    "gatehouse: not a JSON-RPC 2.0 request, notification or response; message dropped",
                )))
            }
        }
    }

    fn on_tool_call(
        &mut self,
        raw: &str,
        msg: &Value,
        id: &Value,
        ctx: &CallContext,
    ) -> ClientStep {
        let key = IdKey::of(id);
        if self.held.contains_key(&key) {
            return ClientStep::plain(ClientAction::Reply(message::error_response(
                id,
                message::INVALID_REQUEST,
                "gatehouse: a call with this request id is already waiting for approval",
            )));
        }
        let Some(tool) = msg.pointer("/params/name").and_then(Value::as_str) else {
            return ClientStep::plain(ClientAction::Reply(message::error_response(
                id,
                message::INVALID_PARAMS,
                "gatehouse: tools/call needs params.name (the tool to call)",
            )));
        };
        let arguments = msg.pointer("/params/arguments");
        let (call, decision) = self.gate.evaluate(tool, arguments, ctx);
        let action = match decision.action {
            Action::Defer | Action::Allow => {
                self.remember_forwarded(key, id.clone(), "tools/call");
                ClientAction::Forward
            }
            Action::Deny => ClientAction::Reply(message::tool_error_result(
                id,
                &denial_text(&call.tool, &decision),
            )),
            Action::Ask => {
                self.held.insert(
                    key.clone(),
                    Held {
                        id: id.clone(),
                        tool: call.tool.clone(),
                        raw: raw.to_owned(),
                    },
                );
                ClientAction::Hold(Box::new(HoldTicket {
                    key,
                    call: call.clone(),
                    decision: decision.clone(),
                    context: ctx.clone(),
                    progress_token: message::progress_token(msg).cloned(),
                }))
            }
        };
        ClientStep {
            action,
            decided: Some((call, decision)),
        }
    }

    /// Batches (MCP 2025-03-26) pass through unless they carry a `tools/call`:
    /// holding or denying part of a batch cannot be expressed, so such a batch
    /// is refused whole, with an error for each request in it.
    fn on_client_batch(&mut self, msg: &Value) -> ClientStep {
        let items = msg.as_array().map(Vec::as_slice).unwrap_or_default();
        let has_tool_call = items.iter().any(|m| {
            matches!(
                message::kind(m),
                Kind::Request {
                    method: "tools/call",
                    ..
                }
            )
        });
        if has_tool_call || items.is_empty() {
            let errors: Vec<Value> = items
                .iter()
                .filter_map(|m| match message::kind(m) {
                    Kind::Request { id, .. } => Some(message::error_response(
                        id,
                        message::INVALID_REQUEST,
                        "gatehouse: a batch containing tools/call is refused; send each tools/call on its own",
                    )),
                    _ => None,
                })
                .collect();
            let reply = if errors.is_empty() {
                message::error_response(
                    &Value::Null,
                    message::INVALID_REQUEST,
                    "gatehouse: empty or refused batch",
                )
            } else {
                Value::Array(errors)
            };
            return ClientStep::plain(ClientAction::Reply(reply));
        }
        for m in items {
            if let Kind::Request { id, method } = message::kind(m) {
                self.remember_forwarded(IdKey::of(id), id.clone(), method);
            }
        }
        ClientStep::plain(ClientAction::Forward)
    }

    /// A request went upstream: its answer will come back under `key`.
    fn remember_forwarded(&mut self, key: IdKey, id: Value, method: &str) {
        let method = method.to_owned();
        self.forwarded.insert(key, Waiting { id, method });
    }

    /// A hold ended. `None` when the hold is no longer known (the client
    /// cancelled it, or the upstream went away): then nothing is sent.
    pub fn resolve_hold(&mut self, key: &IdKey, outcome: HoldOutcome) -> Option<Release> {
        let held = self.held.remove(key)?;
        Some(match outcome {
            HoldOutcome::Approved => {
                self.remember_forwarded(key.clone(), held.id, "tools/call");
                Release::Forward(held.raw)
            }
            HoldOutcome::Denied(reason) => Release::Reply(message::tool_error_result(
                &held.id,
                &format!("gatehouse denied {}: {reason}", held.tool),
            )),
        })
    }

    /// Routes one frame (one line of text) from the upstream server.
    pub fn on_server_frame(&mut self, raw: &str, ctx: &CallContext) -> ServerAction {
        let mut msg: Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                return ServerAction::Drop(format!("upstream sent a line that is not JSON ({e})"));
            }
        };
        let changed = match &mut msg {
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.on_server_message(item, ctx);
                }
                changed
            }
            _ => self.on_server_message(&mut msg, ctx),
        };
        if changed {
            ServerAction::ForwardRewritten(msg)
        } else {
            ServerAction::Forward
        }
    }

    /// Handles one upstream message; returns whether it was rewritten.
    fn on_server_message(&mut self, msg: &mut Value, ctx: &CallContext) -> bool {
        let Kind::Response { id } = message::kind(msg) else {
            return false;
        };
        let Some(waiting) = self.forwarded.remove(&IdKey::of(id)) else {
            return false;
        };
        if waiting.method != "tools/list" {
            return false;
        }
        let Some(tools) = msg
            .pointer_mut("/result/tools")
            .and_then(Value::as_array_mut)
        else {
            return false;
        };
        self.gate.remember_tools(tools);
        if !self.hide_denied_tools {
            return false;
        }
        let before = tools.len();
        tools.retain(|tool| {
            tool.get("name")
                .and_then(Value::as_str)
                .is_none_or(|name| !self.gate.denies_outright(name, ctx))
        });
        tools.len() != before
    }

    /// The upstream server is gone: every request the client still waits on
    /// gets an error, and every hold is cancelled.
    pub fn on_upstream_gone(&mut self, why: &str) -> UpstreamGone {
        let text = format!("gatehouse: the upstream MCP server {why}");
        let mut waiting: Vec<Value> = self.forwarded.drain().map(|(_, w)| w.id).collect();
        let mut cancelled_holds = Vec::new();
        for (key, held) in self.held.drain() {
            waiting.push(held.id);
            cancelled_holds.push(key);
        }
        waiting.sort_by_key(Value::to_string);
        cancelled_holds.sort();
        UpstreamGone {
            replies: waiting
                .iter()
                .map(|id| message::error_response(id, message::UPSTREAM_GONE, &text))
                .collect(),
            cancelled_holds,
        }
    }
}

#[cfg(test)]
mod tests;
