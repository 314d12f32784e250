//! The embedding API: a policy plus programmatic predicates per tool.
//!
//! ```
//! use gatehouse_core::{Action, CallContext, ToolCall};
//! use gatehouse_policy::{Engine, Policy, Verdict};
//! use serde_json::json;
//!
//! let policy = Policy::load("version: 1\ndefault: allow\n", "inline").expect("valid policy");
//! let engine = Engine::new(policy).with_predicate("send_refund", |args, _ctx| {
//!     let amount = args.get("amount")?.as_f64()?;
//!     (amount > 1000.0).then(|| Verdict::ask(format!("refund of {amount} needs approval")))
//! });
//!
//! let ctx = CallContext::default();
//! let big = engine.evaluate(&ToolCall::infer("send_refund", json!({"amount": 9500})), &ctx);
//! assert_eq!(big.action, Action::Ask);
//! assert_eq!(big.message.as_deref(), Some("refund of 9500 needs approval"));
//! let small = engine.evaluate(&ToolCall::infer("send_refund", json!({"amount": 5})), &ctx);
//! assert_eq!(small.action, Action::Allow);
//! ```

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use gatehouse_core::{Action, CallContext, Decision, MatchedRule, ToolCall};
use serde_json::Value as Json;

use crate::Policy;

/// What a programmatic predicate says about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The predicate's action; combined with the policy's, most restrictive wins.
    pub action: Action,
    /// Why, shown to the agent and the approver.
    pub reason: String,
}

impl Verdict {
    /// An `allow` verdict.
    pub fn allow(reason: impl Into<String>) -> Verdict {
        Verdict {
            action: Action::Allow,
            reason: reason.into(),
        }
    }
    /// An `ask` verdict.
    pub fn ask(reason: impl Into<String>) -> Verdict {
        Verdict {
            action: Action::Ask,
            reason: reason.into(),
        }
    }
    /// A `deny` verdict.
    pub fn deny(reason: impl Into<String>) -> Verdict {
        Verdict {
            action: Action::Deny,
            reason: reason.into(),
        }
    }
}

/// A predicate: `(input args, context) -> Some(verdict)`, or `None` for no opinion.
pub type Predicate = dyn Fn(&Json, &CallContext) -> Option<Verdict> + Send + Sync;

/// A policy plus predicates, evaluated locally with no network access.
#[derive(Clone)]
pub struct Engine {
    policy: Policy,
    predicates: HashMap<String, Vec<Arc<Predicate>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy)
            .field(
                "predicate_tools",
                &self.predicates.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Engine {
    /// An engine over `policy` with no predicates.
    pub fn new(policy: Policy) -> Engine {
        Engine {
            policy,
            predicates: HashMap::new(),
        }
    }

    /// Register a predicate for calls whose raw tool name is `tool`.
    pub fn with_predicate<F>(mut self, tool: &str, predicate: F) -> Engine
    where
        F: Fn(&Json, &CallContext) -> Option<Verdict> + Send + Sync + 'static,
    {
        self.predicates
            .entry(tool.to_owned())
            .or_default()
            .push(Arc::new(predicate));
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Decide a call: the policy's decision combined with every predicate
    /// registered for the tool, most restrictive wins. A predicate that panics
    /// counts as a deny (fail closed).
    pub fn evaluate(&self, call: &ToolCall, ctx: &CallContext) -> Decision {
        let analysis = (call.class == gatehouse_core::ToolClass::Exec)
            .then(|| gatehouse_shell::analyze(call.command.as_deref().unwrap_or("")));
        self.evaluate_analyzed(call, ctx, analysis.as_ref())
    }

    /// [`Engine::evaluate`] for an exec call whose command line the caller
    /// has already analysed (`None` for other calls).
    pub fn evaluate_analyzed(
        &self,
        call: &ToolCall,
        ctx: &CallContext,
        analysis: Option<&gatehouse_shell::Analysis>,
    ) -> Decision {
        let mut decision = self.policy.evaluate_analyzed(call, ctx, analysis);
        let Some(preds) = self.predicates.get(&call.tool) else {
            return decision;
        };
        for (i, pred) in preds.iter().enumerate() {
            let name = format!("predicate:{}#{}", call.tool, i + 1);
            let verdict = match catch_unwind(AssertUnwindSafe(|| pred(&call.input, ctx))) {
                Ok(v) => v,
                Err(_) => {
                    decision
                        .diagnostics
                        .push(format!("{name} panicked; treated as deny"));
                    Some(Verdict::deny(format!("{name} failed; denied to be safe")))
                }
            };
            if let Some(v) = verdict {
                combine(&mut decision, name, v, self.policy.approval().timeout_secs);
            }
        }
        decision
    }
}

fn combine(decision: &mut Decision, name: String, v: Verdict, timeout_secs: u64) {
    let rule = MatchedRule {
        name,
        id: None,
        action: v.action,
        severity: None,
        message: Some(v.reason.clone()),
    };
    if v.action > decision.action {
        decision.action = v.action;
        decision.rules = vec![rule];
        decision.severity = None;
        decision.message = Some(v.reason);
        decision.approvers = 1;
        decision.approval_timeout_secs = (v.action == Action::Ask).then_some(timeout_secs);
    } else if v.action == decision.action {
        if decision.rules.is_empty() {
            decision.message = Some(v.reason);
        } else {
            let joined = match decision.message.take() {
                Some(m) => format!("{m}; {}", v.reason),
                None => v.reason,
            };
            decision.message = Some(joined);
        }
        decision.rules.push(rule);
    }
}
