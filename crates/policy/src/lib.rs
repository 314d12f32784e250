//! The policy language. (Skeleton: being filled in.)

use gatehouse_core::{Action, CallContext, Decision, ToolCall};

/// What an `ask` does when no human can be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headless {
    Deny,
    Allow,
    Wait,
}

/// Approval settings of a policy (`approval:` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    pub timeout_secs: u64,
    pub headless: Headless,
    pub via: gatehouse_core::Via,
}

/// A compiled policy, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Policy {
    approval: ApprovalSettings,
}

/// A policy that failed to load; `Display` gives `origin:line:col: message` lines.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

impl Policy {
    /// Parse and compile policy text. `origin` names it in error messages (a file path).
    pub fn load(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let _ = (text, origin);
        Ok(Policy::bundled())
    }

    /// The bundled default policy.
    pub fn bundled() -> Policy {
        Policy {
            approval: ApprovalSettings {
                timeout_secs: 3600,
                headless: Headless::Deny,
                via: gatehouse_core::Via::Auto,
            },
        }
    }

    pub fn approval(&self) -> &ApprovalSettings {
        &self.approval
    }

    /// Decide a call. Pure and total: never fails, never panics.
    pub fn evaluate(&self, call: &ToolCall, ctx: &CallContext) -> Decision {
        let _ = (call, ctx);
        Decision::bare(Action::Defer, "skeleton")
    }
}
