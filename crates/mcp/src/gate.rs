//! Turning an MCP tool call into a policy decision. Pure: no I/O, no clock.

use std::collections::HashMap;
use std::sync::Arc;

use gatehouse_core::{Action, CallContext, Decision, ToolCall, ToolClass};
use gatehouse_policy::Policy;
use serde_json::{Map, Value};

/// Whatever decides calls: the policy in production, a scripted table in tests
/// of the proxy's routing.
pub trait Decide: Send + Sync {
    /// Decides one call. Must be total: never fails, never panics.
    fn decide(&self, call: &ToolCall, ctx: &CallContext) -> Decision;
}

impl<F> Decide for F
where
    F: Fn(&ToolCall, &CallContext) -> Decision + Send + Sync,
{
    fn decide(&self, call: &ToolCall, ctx: &CallContext) -> Decision {
        self(call, ctx)
    }
}

impl Decide for Policy {
    fn decide(&self, call: &ToolCall, ctx: &CallContext) -> Decision {
        self.evaluate(call, ctx)
    }
}

/// The input key under which a tool's annotations (`destructiveHint`,
/// `readOnlyHint`...), as the server declared them in `tools/list`, are shown
/// to rules: `args: { /_annotations/destructiveHint: { eq: true } }`.
pub const ANNOTATIONS_KEY: &str = "_annotations";

/// The raw tool name a policy sees for an MCP tool: `mcp__<server>__<tool>`,
/// as Claude Code names MCP tools, so one rule covers both paths.
pub fn raw_tool_name(server: &str, tool: &str) -> String {
    format!("mcp__{server}__{tool}")
}

/// Evaluates MCP tool calls for one upstream server against a policy, and
/// remembers what the server said about its tools.
#[derive(Clone)]
pub struct Gate {
    /// The server's name in raw tool names (`--name`).
    server: String,
    /// The policy in force.
    decider: Arc<dyn Decide>,
    /// Annotations per tool name, from the latest `tools/list` answer. Hints
    /// from the server: they may make a decision stricter, never looser.
    annotations: HashMap<String, Value>,
}

impl Gate {
    /// A gate for the server named `server`, deciding with `decider` (a [`Policy`]).
    pub fn new(server: impl Into<String>, decider: Arc<dyn Decide>) -> Gate {
        Gate {
            server: server.into(),
            decider,
            annotations: HashMap::new(),
        }
    }

    /// The server's name as it appears in raw tool names.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Decides a call of `tool` with `arguments` (absent arguments are `{}`).
    ///
    /// When the server annotated the tool, the call is evaluated twice, with
    /// and without the annotations under [`ANNOTATIONS_KEY`], and the stricter
    /// decision wins: a server's `readOnlyHint` can never loosen a decision.
    /// A client-supplied `_annotations` argument is replaced by the server's.
    pub fn evaluate(
        &self,
        tool: &str,
        arguments: Option<&Value>,
        ctx: &CallContext,
    ) -> (ToolCall, Decision) {
        let name = raw_tool_name(&self.server, tool);
        let input = arguments
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        let call = ToolCall::new(name.clone(), ToolClass::Mcp, input);
        let plain = self.decider.decide(&call, ctx);
        let Some(annotations) = self.annotations.get(tool) else {
            return (call, plain);
        };
        let Value::Object(mut with_hints) = call.input.clone() else {
            return (call, plain);
        };
        with_hints.insert(ANNOTATIONS_KEY.to_owned(), annotations.clone());
        let hinted_call = ToolCall::new(name, ToolClass::Mcp, Value::Object(with_hints));
        let hinted = self.decider.decide(&hinted_call, ctx);
        if hinted.action > plain.action {
            (hinted_call, hinted)
        } else {
            (call, plain)
        }
    }

    /// Whether the policy denies `tool` even with no arguments: such a tool is
    /// hidden from `tools/list` when filtering is on. Calls to a hidden tool
    /// are still evaluated (and denied) if a client makes them anyway.
    pub fn denies_outright(&self, tool: &str, ctx: &CallContext) -> bool {
        self.evaluate(tool, None, ctx).1.action == Action::Deny
    }

    /// Remembers the annotations of the tools in one `tools/list` page
    /// (a tool listed without annotations forgets any it had).
    pub fn remember_tools(&mut self, tools: &[Value]) {
        for tool in tools {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            match tool.get("annotations").filter(|a| a.is_object()) {
                Some(a) => self.annotations.insert(name.to_owned(), a.clone()),
                None => self.annotations.remove(name),
            };
        }
    }
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("server", &self.server)
            .field("annotations", &self.annotations)
            .finish_non_exhaustive()
    }
}

/// The text a denied call returns to the model: what was denied and why, so it can adapt.
pub fn denial_text(tool: &str, decision: &Decision) -> String {
    let why = decision
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or("the policy denies this call");
    let rules = decision.rule_labels();
    if rules.is_empty() {
        format!("gatehouse denied {tool}: {why}")
    } else {
        format!("gatehouse denied {tool}: {why} (rule: {rules})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_names_follow_claude_code() {
        assert_eq!(
            raw_tool_name("files", "write_file"),
            "mcp__files__write_file"
        );
    }

    #[test]
    fn remembers_and_forgets_annotations() {
        let mut gate = Gate::new("s", Arc::new(Policy::bundled()));
        gate.remember_tools(&[
            json!({"name":"a","annotations":{"destructiveHint":true}}),
            json!({"name":"b"}),
            json!({"annotations":{}}),
        ]);
        assert_eq!(
            gate.annotations.get("a"),
            Some(&json!({"destructiveHint":true}))
        );
        assert!(!gate.annotations.contains_key("b"));
        gate.remember_tools(&[json!({"name":"a"})]);
        assert!(gate.annotations.is_empty());
    }

    #[test]
    fn evaluates_under_the_mcp_class_and_raw_name() {
        let gate = Gate::new("files", Arc::new(Policy::bundled()));
        let (call, _) = gate.evaluate(
            "write_file",
            Some(&json!({"path":"/tmp/x"})),
            &CallContext::default(),
        );
        assert_eq!(call.tool, "mcp__files__write_file");
        assert_eq!(call.class, ToolClass::Mcp);
        assert_eq!(call.paths, vec!["/tmp/x".to_owned()]);
        let (call, _) = gate.evaluate("echo", None, &CallContext::default());
        assert_eq!(call.input, json!({}));
    }

    /// Denies `destructiveHint` tools, allows `readOnlyHint` ones, defers the rest.
    fn hint_rules(call: &ToolCall, _: &CallContext) -> Decision {
        let hint =
            |h: &str| call.input.pointer(&format!("/_annotations/{h}")) == Some(&json!(true));
        if hint("destructiveHint") {
            Decision::bare(Action::Deny, "destructive")
        } else if hint("readOnlyHint") {
            Decision::bare(Action::Allow, "read only")
        } else if call.input.get("mode") == Some(&json!("danger")) {
            Decision::bare(Action::Ask, "danger")
        } else {
            Decision::bare(Action::Defer, "no rule")
        }
    }

    #[test]
    fn annotations_tighten_but_never_loosen() {
        let mut gate = Gate::new("s", Arc::new(hint_rules));
        gate.remember_tools(&[
            json!({"name":"wipe","annotations":{"destructiveHint":true}}),
            json!({"name":"peek","annotations":{"readOnlyHint":true}}),
        ]);
        let ctx = CallContext::default();
        assert_eq!(gate.evaluate("wipe", None, &ctx).1.action, Action::Deny);
        assert!(gate.denies_outright("wipe", &ctx));
        assert!(!gate.denies_outright("peek", &ctx));
        // readOnlyHint -> allow must not override the ask the arguments earn.
        let danger = json!({"mode":"danger"});
        assert_eq!(
            gate.evaluate("peek", Some(&danger), &ctx).1.action,
            Action::Ask
        );
        // A client cannot forge annotations the server did not give: the
        // server's replace them, so the destructive tool stays denied.
        let forged = json!({"_annotations":{"destructiveHint":false}});
        assert_eq!(
            gate.evaluate("wipe", Some(&forged), &ctx).1.action,
            Action::Deny
        );
    }

    #[test]
    fn denial_text_names_tool_reason_and_rules() {
        let mut d = Decision::bare(Action::Deny, "no deletions");
        assert_eq!(
            denial_text("mcp__s__rm", &d),
            "gatehouse denied mcp__s__rm: no deletions"
        );
        d.rules.push(gatehouse_core::MatchedRule {
            name: "no-rm".into(),
            id: None,
            action: Action::Deny,
            severity: None,
            message: None,
        });
        d.message = None;
        assert_eq!(
            denial_text("t", &d),
            "gatehouse denied t: the policy denies this call (rule: no-rm)"
        );
    }
}
