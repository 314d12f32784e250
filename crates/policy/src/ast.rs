//! The policy file as written, after validation but before compilation.
//! Every element keeps its position for lint messages.

use gatehouse_core::{Action, Severity, Via};
use serde_json::Value as Json;

use crate::Headless;
use crate::node::Pos;

/// A whole policy file.
#[derive(Debug, Clone, Default)]
pub struct PolicyDoc {
    /// `default:` — what happens when no rule matches (`None`: defer).
    pub default: Option<Action>,
    /// `defaults:` — per tool class overrides of `default` (allowlist mode for exec).
    pub class_defaults: Vec<(gatehouse_core::ToolClass, Action)>,
    /// `presets:` — bundled packs to include before the file's own rules.
    pub presets: Vec<Preset>,
    /// `severity:` — thresholds for severity-only rules (partial: unset keys fall back).
    pub block_at: Option<Severity>,
    /// See `block_at`.
    pub ask_at: Option<Severity>,
    /// `approval.timeout` in seconds.
    pub approval_timeout_secs: Option<u64>,
    /// `approval.headless`.
    pub approval_headless: Option<Headless>,
    /// `approval.via`.
    pub approval_via: Option<Via>,
    /// `unresolved:` — the least an exec call gets when its shell analysis has
    /// unresolved parts (and the policy has a restrictive exec rule). Default ask.
    pub unresolved: Option<Action>,
    /// `rules:` in file order.
    pub rules: Vec<RuleDoc>,
    /// `tests:` in file order.
    pub tests: Vec<TestDoc>,
}

/// A bundled rule pack selectable by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Preset {
    /// Asks before package installs, `sudo`, any push.
    Conservative,
    /// The default: detections at their severities, asks at high.
    Balanced,
    /// Denies only what is critical; asks nothing by severity.
    Permissive,
}

impl Preset {
    /// The preset's name as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Conservative => "conservative",
            Preset::Balanced => "balanced",
            Preset::Permissive => "permissive",
        }
    }

    /// Parse a preset name.
    pub fn parse(s: &str) -> Option<Preset> {
        match s {
            "conservative" => Some(Preset::Conservative),
            "balanced" => Some(Preset::Balanced),
            "permissive" => Some(Preset::Permissive),
            _ => None,
        }
    }
}

/// A pattern string with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The glob as written.
    pub text: String,
    /// Where it was written.
    pub pos: Pos,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct RuleDoc {
    /// Position of the rule's mapping (the `- ` item).
    pub pos: Pos,
    /// `name:` (falls back to `id`).
    pub name: String,
    /// `id:` — stable detection id.
    pub id: Option<String>,
    /// `action:`.
    pub action: Option<Action>,
    /// `severity:`.
    pub severity: Option<Severity>,
    /// `message:`.
    pub message: Option<String>,
    /// `approvers:` — quorum for an ask.
    pub approvers: Option<u32>,
    /// `via:` — where an ask is answered.
    pub via: Option<Via>,
    /// `timeout:` — approval timeout for asks from this rule, seconds.
    pub timeout_secs: Option<u64>,
    /// `match:`.
    pub matcher: MatchDoc,
    /// Where `match:` was written.
    pub match_pos: Pos,
    /// Which file the rule came from (a bundled pack name or the policy origin).
    pub source: String,
}

/// Which side of the working directory a path is on (`workspace:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workspace {
    /// Under the call's cwd.
    Inside,
    /// Not under the call's cwd (or cwd unknown).
    Outside,
}

/// How a file is touched (`access:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
    Delete,
}

/// The conditions of a rule. All given keys must hold; a list within a key is any-of.
#[derive(Debug, Clone, Default)]
pub struct MatchDoc {
    /// `tool:` — class or raw tool name globs.
    pub tool: Vec<Pattern>,
    /// `command:` — globs over normalised argv joined by spaces.
    pub command: Vec<Pattern>,
    /// `path:` — gitignore-style globs.
    pub path: Vec<Pattern>,
    /// `access:` — read/write/delete.
    pub access: Vec<Access>,
    /// `workspace:` — inside/outside the cwd.
    pub workspace: Option<Workspace>,
    /// `url:` — globs over the whole URL.
    pub url: Vec<Pattern>,
    /// `domain:` — host names; `example.com` also covers its subdomains.
    pub domain: Vec<Pattern>,
    /// `session:` — globs over the session identity.
    pub session: Vec<Pattern>,
    /// `args:` — predicates on fields of the input.
    pub args: Vec<ArgPredicate>,
}

impl MatchDoc {
    /// Whether no condition is given (the rule matches every call).
    pub fn is_empty(&self) -> bool {
        self.tool.is_empty()
            && self.command.is_empty()
            && self.path.is_empty()
            && self.access.is_empty()
            && self.workspace.is_none()
            && self.url.is_empty()
            && self.domain.is_empty()
            && self.session.is_empty()
            && self.args.is_empty()
    }
}

/// `field: {op: operand, ...}` — all operators must hold.
#[derive(Debug, Clone)]
pub struct ArgPredicate {
    /// The field path as written (`amount`, `customer.tier`, `/to/0`).
    pub field: String,
    /// The path split into object keys / array indices.
    pub segments: Vec<String>,
    /// Where the field was written.
    pub pos: Pos,
    /// The operators.
    pub ops: Vec<ArgOp>,
}

/// One operator of an argument predicate.
#[derive(Debug, Clone)]
pub enum ArgOp {
    Eq(Json),
    Ne(Json),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    In(Vec<Json>),
    NotIn(Vec<Json>),
    /// Any of the globs matches the string value.
    Glob(globset::GlobSet),
    /// The regex finds a match in the string value.
    Regex(regex::Regex),
    /// A string contains the substring / an array contains the element.
    Contains(Json),
    Exists(bool),
    /// Every address in the value is in one of these domains.
    Domain(Vec<String>),
    /// Some address in the value is outside all of these domains.
    NotDomain(Vec<String>),
}

/// One policy test.
#[derive(Debug, Clone)]
pub struct TestDoc {
    /// Where the test was written.
    pub pos: Pos,
    /// `name:` if given, else a description of the call.
    pub name: String,
    /// The raw tool name (`exec` when only `command` is given).
    pub tool: String,
    /// `command:`.
    pub command: Option<String>,
    /// `input:`.
    pub input: Option<Json>,
    /// `session:`.
    pub session: Option<String>,
    /// `cwd:` (default `/home/user/project`).
    pub cwd: Option<String>,
    /// `home:` (default `/home/user`).
    pub home: Option<String>,
    /// `expect:`.
    pub expect: Action,
    /// `expect_rules:` — labels (ids or names) that must be among the deciding rules.
    pub expect_rules: Vec<String>,
}
