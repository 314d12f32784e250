//! Where the proxy reports its decisions, for the audit log. The binary plugs
//! in the store; the library only says what happened.

use gatehouse_core::{CallContext, Decision, ToolCall};

use crate::session::{HoldOutcome, HoldTicket};

/// Receives every decision the proxy takes. Implementations must not block
/// the proxy for long (queue durable writes) and must not panic.
pub trait AuditSink: Send + Sync + 'static {
    /// A `tools/call` was evaluated.
    fn decided(&self, call: &ToolCall, decision: &Decision, ctx: &CallContext);
    /// A held call was resolved (approved, denied, expired, or cancelled).
    fn resolved(&self, ticket: &HoldTicket, outcome: &HoldOutcome);
}

/// Records nothing: for when no audit store is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn decided(&self, _: &ToolCall, _: &Decision, _: &CallContext) {}
    fn resolved(&self, _: &HoldTicket, _: &HoldOutcome) {}
}
