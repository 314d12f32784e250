//! Running a policy's `tests:` blocks (`gatehouse policy test`).
//!
//! Each test builds a call (`command:` -> an exec call; `input:` -> a call of
//! `tool:` with its class inferred from the name) in a fixed context
//! (cwd `/home/user/project`, home `/home/user` unless the test says
//! otherwise), evaluates it and compares the action, and optionally that the
//! listed rule ids/names are among the deciding rules.

use gatehouse_core::{Action, CallContext, Decision, ToolCall, ToolClass};
use serde_json::json;

use crate::Policy;
use crate::ast::TestDoc;
use crate::node::Pos;

/// The working directory a test call runs in unless it says otherwise.
pub const TEST_CWD: &str = "/home/user/project";
/// The home directory of a test call unless it says otherwise.
pub const TEST_HOME: &str = "/home/user";

/// The result of one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The test's name (or a description of its call).
    pub name: String,
    /// Where the test was written.
    pub pos: Pos,
    /// The expected action.
    pub expected: Action,
    /// Expected deciding rule labels.
    pub expected_rules: Vec<String>,
    /// What the policy decided.
    pub actual: Decision,
    /// Whether action and rules were as expected.
    pub passed: bool,
}

impl TestOutcome {
    /// A one-paragraph explanation of a failure, `origin:line:col:` first.
    pub fn describe_failure(&self, origin: &str) -> String {
        let rules = if self.actual.rules.is_empty() {
            "none".to_owned()
        } else {
            self.actual.rule_labels()
        };
        let mut out = format!(
            "{origin}:{}: FAIL {}\n    expected: {}",
            self.pos, self.name, self.expected
        );
        if !self.expected_rules.is_empty() {
            out.push_str(&format!(" by {}", self.expected_rules.join(", ")));
        }
        out.push_str(&format!(
            "\n    actual:   {} by {rules}",
            self.actual.action
        ));
        if let Some(m) = &self.actual.message {
            out.push_str(&format!("\n    message:  {m}"));
        }
        if !self.actual.commands.is_empty() {
            let cmds: Vec<String> = self
                .actual
                .commands
                .iter()
                .map(|c| {
                    let words: Vec<&str> = c.iter().map(String::as_str).collect();
                    gatehouse_core::call::shell_join(&words)
                })
                .collect();
            out.push_str(&format!("\n    commands: {}", cmds.join(" | ")));
        }
        for d in &self.actual.diagnostics {
            out.push_str(&format!("\n    note:     {d}"));
        }
        out
    }
}

/// The call and context a test describes.
pub fn test_call(t: &TestDoc) -> (ToolCall, CallContext) {
    let call = match (&t.command, &t.input) {
        (Some(cmd), _) => {
            let class = ToolClass::infer(&t.tool);
            let mut call = ToolCall::new(t.tool.clone(), class, json!({ "command": cmd }));
            call.command = Some(cmd.clone());
            call
        }
        (None, Some(input)) => ToolCall::infer(t.tool.clone(), input.clone()),
        (None, None) => ToolCall::infer(t.tool.clone(), json!({})),
    };
    let ctx = CallContext {
        session: t.session.clone(),
        cwd: Some(t.cwd.clone().unwrap_or_else(|| TEST_CWD.into())),
        home: Some(t.home.clone().unwrap_or_else(|| TEST_HOME.into())),
        ..CallContext::default()
    };
    (call, ctx)
}

/// Run `tests` against `policy`.
pub fn run(policy: &Policy, tests: &[TestDoc]) -> Vec<TestOutcome> {
    tests
        .iter()
        .map(|t| {
            let (call, ctx) = test_call(t);
            let actual = policy.evaluate(&call, &ctx);
            let rules_ok = t.expect_rules.iter().all(|want| {
                actual
                    .rules
                    .iter()
                    .any(|r| r.label() == want || &r.name == want)
            });
            TestOutcome {
                name: t.name.clone(),
                pos: t.pos,
                expected: t.expect,
                expected_rules: t.expect_rules.clone(),
                passed: actual.action == t.expect && rules_ok,
                actual,
            }
        })
        .collect()
}

/// Results of one bundled file's tests.
pub struct PackResults {
    /// The bundled file (`detections.yaml`).
    pub name: &'static str,
    /// Its tests' outcomes.
    pub outcomes: Vec<TestOutcome>,
}

/// Run every bundled file's `tests:` (see [`crate::bundled::test_policy_text`]).
pub fn run_bundled() -> Result<Vec<PackResults>, crate::PolicyError> {
    let mut out = Vec::new();
    for (name, _) in crate::bundled::FILES {
        let policy = Policy::load(
            &crate::bundled::test_policy_text(name),
            &format!("bundled:{name}"),
        )?;
        let Some(pack) = crate::bundled::pack(name) else {
            continue;
        };
        out.push(PackResults {
            name,
            outcomes: run(&policy, &pack.doc.tests),
        });
    }
    Ok(out)
}
