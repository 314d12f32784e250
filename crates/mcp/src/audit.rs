//! Where the proxy reports its decisions, for the audit log. The binary plugs
//! in the store; the library only says what happened. Resolutions of held
//! calls are recorded by whoever resolves them (the daemon, or the binary's
//! headless approver).

use gatehouse_core::{CallContext, Decision, ToolCall};

/// Receives every decision the proxy takes. Implementations must not block
/// the proxy for long (queue durable writes) and must not panic.
pub trait AuditSink: Send + Sync + 'static {
    /// A `tools/call` was evaluated.
    fn decided(&self, call: &ToolCall, decision: &Decision, ctx: &CallContext);
}

/// Records nothing: for when no audit store is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn decided(&self, _: &ToolCall, _: &Decision, _: &CallContext) {}
}
