//! The JSON Schema of the policy format (`gatehouse policy schema`), so
//! editors can complete and check policy files. These types mirror the format
//! for documentation only; the loader in `parse.rs` is the authority (it also
//! gives positions and the fail-closed handling of unknown `match:` keys).
//! `crates/policy/policy.schema.json` is a committed copy, kept current by a test.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;

/// A gatehouse policy file.
#[derive(JsonSchema)]
#[schemars(title = "gatehouse policy")]
struct PolicyFile {
    /// Format version; must be 1.
    version: u32,
    /// What happens when no rule matches. `defer`: no opinion, the host's own
    /// permission system decides (allow where the caller has none).
    #[serde(default)]
    default: Option<DefaultAction>,
    /// Per tool class overrides of `default`, e.g. `{exec: ask}` with allow
    /// rules listing permitted commands (allowlist mode) while other tools defer.
    #[serde(default)]
    defaults: Option<BTreeMap<ToolClassName, DefaultAction>>,
    /// Bundled rule packs to include before this file's rules. Every preset
    /// includes the self-protection pack and the detection pack.
    #[serde(default)]
    presets: Vec<PresetName>,
    /// What a rule that gives only a `severity` turns into.
    #[serde(default)]
    severity: Option<Thresholds>,
    /// How approvals (`ask`) behave.
    #[serde(default)]
    approval: Option<Approval>,
    /// The least an exec call gets when part of its command line cannot be
    /// analysed statically (and the policy has a restrictive exec rule). Default `ask`.
    #[serde(default)]
    unresolved: Option<RuleAction>,
    /// Rules. Most restrictive wins across all matching rules: deny > ask > allow.
    #[serde(default)]
    rules: Vec<Rule>,
    /// Policy unit tests, run by `gatehouse policy test`.
    #[serde(default)]
    tests: Vec<Test>,
}

/// `allow`, `ask`, `deny` or `defer`.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum DefaultAction {
    Allow,
    Ask,
    Deny,
    Defer,
}

/// A tool class.
#[derive(JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
enum ToolClassName {
    Exec,
    Read,
    Write,
    Fetch,
    Mcp,
    Agent,
    Other,
}

/// `allow`, `ask` or `deny`.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum RuleAction {
    Allow,
    Ask,
    Deny,
}

/// A bundled preset.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum PresetName {
    Conservative,
    Balanced,
    Permissive,
}

/// One scale for bundled detections and user rules.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum SeverityName {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// Severity thresholds.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Thresholds {
    /// At or above: deny. Default `critical`.
    block_at: Option<SeverityName>,
    /// At or above (below `block_at`): ask; below: allow and audit. Default `high`.
    ask_at: Option<SeverityName>,
}

/// Approval settings.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Approval {
    /// How long an approval may stay pending before it expires as a denial (`90s`, `15m`, `1h`).
    timeout: Option<String>,
    /// What an ask does when no human can be reached.
    headless: Option<Headless>,
    /// Where asks are answered.
    via: Option<ViaName>,
}

/// Headless behaviour.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Headless {
    Deny,
    Allow,
    Wait,
}

/// `auto`: the host's native prompt where it has one, else the gateway.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ViaName {
    Auto,
    Native,
    Gateway,
}

/// One rule. Needs `action` and/or `severity`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Rule {
    /// Shown in decisions and the audit log.
    name: Option<String>,
    /// Stable detection id (`PATH-ENV-FILE`).
    id: Option<String>,
    /// Conditions; all given keys must hold.
    #[serde(rename = "match")]
    matcher: Match,
    /// What the rule does when it matches. Without it, `severity` decides via the thresholds.
    action: Option<RuleAction>,
    /// How serious a match is.
    severity: Option<SeverityName>,
    /// Why, shown to the agent and the approver.
    message: Option<String>,
    /// Distinct approvers an ask needs (quorum).
    #[schemars(range(min = 1, max = 100))]
    approvers: Option<u32>,
    /// Where an ask from this rule is answered.
    via: Option<ViaName>,
    /// Approval timeout for asks from this rule (`15m`).
    timeout: Option<String>,
}

/// A string or a list of strings (any-of).
#[derive(JsonSchema)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Rule conditions. Unknown keys are load errors (an ignored condition would broaden the rule).
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Match {
    /// Tool class (`exec`, `read`, `write`, `fetch`, `mcp`, `agent`) or raw tool
    /// name (`Bash`, `send_refund`, `mcp__github__*`); globs allowed.
    tool: Option<OneOrMany>,
    /// Globs over each executed command's normalised argv joined by spaces,
    /// anchored at both ends; `*` crosses spaces and slashes; a trailing ` *`
    /// also matches no arguments.
    command: Option<OneOrMany>,
    /// Gitignore-style path globs: `*` stays within a directory, `**` crosses;
    /// `~` is home; no `/` means any directory; other relative patterns are
    /// relative to the working directory. Files touched by shell commands count.
    path: Option<OneOrMany>,
    /// How the file is touched.
    access: Option<AccessOneOrMany>,
    /// Whether the path is inside the working directory.
    workspace: Option<WorkspaceName>,
    /// Globs over whole URLs.
    url: Option<OneOrMany>,
    /// Host names; `example.com` also matches its subdomains.
    domain: Option<OneOrMany>,
    /// Globs over the session identity (`repo/branch`, `GATEHOUSE_SESSION`).
    session: Option<OneOrMany>,
    /// Field path (`amount`, `customer.tier`, `/to/0`) -> predicate.
    args: Option<BTreeMap<String, ArgPredicate>>,
}

/// `read`, `write` or `delete`.
#[derive(JsonSchema)]
#[serde(untagged)]
enum AccessOneOrMany {
    One(AccessName),
    Many(Vec<AccessName>),
}

/// How a file is touched.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum AccessName {
    Read,
    Write,
    Delete,
}

/// Inside or outside the working directory.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum WorkspaceName {
    Inside,
    Outside,
}

/// A bare value (equality) or a mapping of operators, all of which must hold.
#[derive(JsonSchema)]
#[serde(untagged)]
enum ArgPredicate {
    Ops(Box<ArgOps>),
    Equals(serde_json::Value),
}

/// Argument operators.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct ArgOps {
    eq: Option<serde_json::Value>,
    ne: Option<serde_json::Value>,
    gt: Option<f64>,
    gte: Option<f64>,
    lt: Option<f64>,
    lte: Option<f64>,
    #[serde(rename = "in")]
    in_: Option<Vec<serde_json::Value>>,
    not_in: Option<Vec<serde_json::Value>>,
    /// Globs over a string value (`*` matches anything).
    glob: Option<OneOrMany>,
    /// Regular expression searched in a string value.
    regex: Option<String>,
    /// Substring of a string, or element of a list.
    contains: Option<serde_json::Value>,
    exists: Option<bool>,
    /// Every address (e-mail, URL, host) is in one of these domains.
    domain: Option<OneOrMany>,
    /// Some address is outside all of these domains.
    not_domain: Option<OneOrMany>,
}

/// A policy test.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Test {
    /// Shown in failures.
    name: Option<String>,
    /// The call to decide.
    call: TestCall,
    /// The expected decision.
    expect: DefaultAction,
    /// Rule ids or names that must be among the deciding rules.
    expect_rules: Option<OneOrMany>,
}

/// A test call.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct TestCall {
    /// Raw tool name; default `exec`.
    tool: Option<String>,
    /// Shell command (exec).
    command: Option<String>,
    /// Tool input arguments.
    input: Option<serde_json::Value>,
    /// Session identity.
    session: Option<String>,
    /// Working directory; default `/home/user/project`.
    cwd: Option<String>,
    /// Home directory; default `/home/user`.
    home: Option<String>,
}

/// The schema as pretty-printed JSON.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(PolicyFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_current() {
        let committed = include_str!("../policy.schema.json");
        let current = super::schema_json();
        if std::env::var_os("GATEHOUSE_UPDATE_SCHEMA").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policy.schema.json");
            std::fs::write(path, &current).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
            return;
        }
        assert!(
            committed == current,
            "crates/policy/policy.schema.json is stale; regenerate it with `GATEHOUSE_UPDATE_SCHEMA=1 cargo test -p gatehouse-policy schema`"
        );
    }

    #[test]
    fn schema_lists_the_public_keys() {
        let s = super::schema_json();
        for key in [
            "block_at",
            "ask_at",
            "headless",
            "approvers",
            "not_domain",
            "expect_rules",
            "\"match\"",
        ] {
            assert!(s.contains(key), "schema lacks {key}");
        }
    }
}
