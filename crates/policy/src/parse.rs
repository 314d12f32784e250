//! Validate a YAML node tree into a [`PolicyDoc`], reporting every problem
//! with its position. Unknown keys inside `match:` are errors (a typo such as
//! `comand:` would otherwise silently broaden the rule: fail closed);
//! unknown keys elsewhere are warnings.

use gatehouse_core::{Action, Severity, Via};
use serde_json::Value as Json;

use crate::Headless;
use crate::args::parse_args;
use crate::ast::{Access, MatchDoc, Pattern, PolicyDoc, Preset, RuleDoc, TestDoc, Workspace};
use crate::diag::Diagnostics;
use crate::node::{Node, Pos, Value, key_text, parse_yaml};

/// The policy format version this build understands.
pub const VERSION: i64 = 1;

const TOP_KEYS: &[&str] = &[
    "version",
    "default",
    "defaults",
    "presets",
    "severity",
    "approval",
    "unresolved",
    "rules",
    "tests",
];
const RULE_KEYS: &[&str] = &[
    "name",
    "id",
    "match",
    "action",
    "severity",
    "message",
    "approvers",
    "via",
    "timeout",
];
/// Keys allowed inside `match:`; anything else is a load error.
pub const MATCH_KEYS: &[&str] = &[
    "tool",
    "command",
    "path",
    "access",
    "workspace",
    "url",
    "domain",
    "session",
    "args",
];

/// Parse policy text. Returns the document (possibly partial) and all diagnostics.
pub fn parse_policy(text: &str, source: &str) -> (PolicyDoc, Diagnostics) {
    match parse_yaml(text) {
        Ok(root) => parse_policy_node(&root, source),
        Err(e) => {
            let mut diags = Diagnostics::default();
            diags.error(
                e.pos,
                format!(
                    "invalid YAML: {}; fix the syntax at this position",
                    e.message
                ),
            );
            (PolicyDoc::default(), diags)
        }
    }
}

/// Validate an already-parsed node tree (the bundled files' trees are built
/// at compile time, see `build.rs`).
pub fn parse_policy_node(root: &Node, source: &str) -> (PolicyDoc, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut doc = PolicyDoc::default();
    let Value::Map(entries) = &root.value else {
        diags.error(
            root.pos,
            format!(
                "a policy must be a mapping with `version: 1` and `rules:`, found {}",
                root.value.kind()
            ),
        );
        return (doc, diags);
    };
    check_duplicate_keys(entries, &mut diags);
    let mut saw_version = false;
    for (key, value) in entries.iter() {
        match key_text(key).as_str() {
            "version" => {
                saw_version = true;
                match value.value {
                    Value::Int(VERSION) => {}
                    _ => diags.error(
                        value.pos,
                        format!("unsupported policy version; write `version: {VERSION}`"),
                    ),
                }
            }
            "default" => doc.default = parse_action(value, &mut diags, true),
            "defaults" => {
                if let Some(entries) = mapping(value, "defaults", &mut diags) {
                    for (k, v) in entries {
                        let name = key_text(k);
                        match gatehouse_core::ToolClass::from_class_name(&name) {
                            Some(class) => {
                                if let Some(a) = parse_action(v, &mut diags, true) {
                                    doc.class_defaults.push((class, a));
                                }
                            }
                            None => diags.error(
                                k.pos,
                                format!("`defaults:` keys are tool classes (exec, read, write, fetch, mcp, agent, other), found `{name}`"),
                            ),
                        }
                    }
                }
            }
            "presets" => {
                for item in string_list(value, "presets", &mut diags) {
                    match Preset::parse(&item.text) {
                        Some(p) => doc.presets.push(p),
                        None => diags.error(
                            item.pos,
                            format!(
                                "unknown preset `{}`; use conservative, balanced or permissive",
                                item.text
                            ),
                        ),
                    }
                }
            }
            "severity" => parse_thresholds(value, &mut doc, &mut diags),
            "approval" => parse_approval(value, &mut doc, &mut diags),
            "unresolved" => {
                doc.unresolved = parse_action(value, &mut diags, false);
                if matches!(doc.unresolved, Some(Action::Allow)) {
                    diags.error(
                        value.pos,
                        "`unresolved:` can only make decisions stricter; use ask or deny",
                    );
                }
            }
            "rules" => match &value.value {
                Value::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(rule) = parse_rule(item, i, source, &mut diags) {
                            doc.rules.push(rule);
                        }
                    }
                }
                Value::Null => {}
                other => diags.error(
                    value.pos,
                    format!("`rules:` must be a list of rules, found {}", other.kind()),
                ),
            },
            "tests" => match &value.value {
                Value::Seq(items) => {
                    for item in items.iter() {
                        if let Some(t) = parse_test(item, &mut diags) {
                            doc.tests.push(t);
                        }
                    }
                }
                Value::Null => {}
                other => diags.error(
                    value.pos,
                    format!("`tests:` must be a list of tests, found {}", other.kind()),
                ),
            },
            other => unknown_key(key.pos, other, TOP_KEYS, "the top level", &mut diags),
        }
    }
    if !saw_version {
        diags.warn(
            root.pos,
            format!("no `version:`; add `version: {VERSION}` so future formats can tell"),
        );
    }
    (doc, diags)
}

fn unknown_key(pos: Pos, key: &str, known: &[&str], place: &str, diags: &mut Diagnostics) {
    let hint = suggest(key, known)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    diags.warn(
        pos,
        format!(
            "unknown key `{key}` in {place} is ignored; {hint}known keys: {}",
            known.join(", ")
        ),
    );
}

/// The known key closest to a misspelt one, if any is close.
pub fn suggest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

fn check_duplicate_keys(entries: &[(Node, Node)], diags: &mut Diagnostics) {
    // String keys (all of them in practice) compare without allocating.
    let same = |a: &Node, b: &Node| match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x == y,
        _ => key_text(a) == key_text(b),
    };
    for (i, (k, _)) in entries.iter().enumerate() {
        if entries.iter().take(i).any(|(prev, _)| same(prev, k)) {
            let name = key_text(k);
            diags.error(
                k.pos,
                format!("duplicate key `{name}`; keep one (YAML keys must be unique)"),
            );
        }
    }
}

fn parse_action(node: &Node, diags: &mut Diagnostics, allow_defer: bool) -> Option<Action> {
    let parsed = node.as_str().and_then(Action::parse);
    match parsed {
        Some(Action::Defer) if !allow_defer => {
            diags.error(
                node.pos,
                "`defer` is only valid as `default:`; use allow, ask or deny",
            );
            None
        }
        Some(a) => Some(a),
        None => {
            let options = if allow_defer {
                "allow, ask, deny or defer"
            } else {
                "allow, ask or deny"
            };
            diags.error(
                node.pos,
                format!("expected one of {options}, found {}", describe(node)),
            );
            None
        }
    }
}

fn parse_severity(node: &Node, diags: &mut Diagnostics) -> Option<Severity> {
    let parsed = node.as_str().and_then(Severity::parse);
    if parsed.is_none() {
        diags.error(
            node.pos,
            format!(
                "expected a severity (info, low, medium, high, critical), found {}",
                describe(node)
            ),
        );
    }
    parsed
}

fn parse_via(node: &Node, diags: &mut Diagnostics) -> Option<Via> {
    let via = match node.as_str() {
        Some("auto") => Some(Via::Auto),
        Some("native") => Some(Via::Native),
        Some("gateway") => Some(Via::Gateway),
        _ => None,
    };
    if via.is_none() {
        diags.error(
            node.pos,
            format!(
                "expected via auto, native or gateway, found {}",
                describe(node)
            ),
        );
    }
    via
}

fn parse_duration(node: &Node, diags: &mut Diagnostics) -> Option<u64> {
    let secs = match &node.value {
        Value::Int(n) if *n > 0 => Some(n.unsigned_abs()),
        Value::Str(s) => humantime::parse_duration(s).ok().map(|d| d.as_secs()),
        _ => None,
    };
    match secs {
        Some(s) if s > 0 => Some(s),
        _ => {
            diags.error(
                node.pos,
                format!(
                    "expected a positive duration such as `90s`, `15m` or `1h`, found {}",
                    describe(node)
                ),
            );
            None
        }
    }
}

/// A node shown in a message: its text for scalars, its kind otherwise.
pub fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("`{s}`"),
        Value::Int(i) => format!("`{i}`"),
        Value::Float(f) => format!("`{f}`"),
        Value::Bool(b) => format!("`{b}`"),
        other => other.kind().to_owned(),
    }
}

fn parse_thresholds(node: &Node, doc: &mut PolicyDoc, diags: &mut Diagnostics) {
    let Some(entries) = mapping(node, "severity", diags) else {
        return;
    };
    for (k, v) in entries {
        match key_text(k).as_str() {
            "block_at" => doc.block_at = parse_severity(v, diags),
            "ask_at" => doc.ask_at = parse_severity(v, diags),
            other => unknown_key(k.pos, other, &["block_at", "ask_at"], "`severity:`", diags),
        }
    }
    if let (Some(block), Some(ask)) = (doc.block_at, doc.ask_at)
        && ask > block
    {
        diags.warn(
            node.pos,
            "ask_at is above block_at, so no severity ever asks; lower ask_at",
        );
    }
}

fn parse_approval(node: &Node, doc: &mut PolicyDoc, diags: &mut Diagnostics) {
    let Some(entries) = mapping(node, "approval", diags) else {
        return;
    };
    for (k, v) in entries {
        match key_text(k).as_str() {
            "timeout" => doc.approval_timeout_secs = parse_duration(v, diags),
            "headless" => {
                doc.approval_headless = match v.as_str() {
                    Some("deny") => Some(Headless::Deny),
                    Some("allow") => Some(Headless::Allow),
                    Some("wait") => Some(Headless::Wait),
                    _ => {
                        diags.error(
                            v.pos,
                            format!(
                                "expected headless deny, allow or wait, found {}",
                                describe(v)
                            ),
                        );
                        None
                    }
                }
            }
            "via" => doc.approval_via = parse_via(v, diags),
            other => unknown_key(
                k.pos,
                other,
                &["timeout", "headless", "via"],
                "`approval:`",
                diags,
            ),
        }
    }
}

fn mapping<'a>(node: &'a Node, what: &str, diags: &mut Diagnostics) -> Option<&'a [(Node, Node)]> {
    match &node.value {
        Value::Map(entries) => {
            check_duplicate_keys(entries, diags);
            Some(entries)
        }
        other => {
            diags.error(
                node.pos,
                format!("`{what}:` must be a mapping, found {}", other.kind()),
            );
            None
        }
    }
}

/// A string or a list of strings, as patterns with positions.
pub fn string_list(node: &Node, what: &str, diags: &mut Diagnostics) -> Vec<Pattern> {
    let one = |n: &Node, diags: &mut Diagnostics| match &n.value {
        Value::Str(s) if !s.is_empty() => Some(Pattern {
            text: s.to_string(),
            pos: n.pos,
        }),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(Pattern {
            text: crate::node::key_text(n),
            pos: n.pos,
        }),
        _ => {
            diags.error(
                n.pos,
                format!(
                    "`{what}:` entries must be non-empty strings, found {}",
                    describe(n)
                ),
            );
            None
        }
    };
    match &node.value {
        Value::Seq(items) => {
            if items.is_empty() {
                diags.error(
                    node.pos,
                    format!("`{what}:` is an empty list, which can never match; remove the key or add entries"),
                );
            }
            items.iter().filter_map(|n| one(n, diags)).collect()
        }
        _ => one(node, diags).into_iter().collect(),
    }
}

fn parse_rule(node: &Node, index: usize, source: &str, diags: &mut Diagnostics) -> Option<RuleDoc> {
    let Value::Map(entries) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "a rule must be a mapping with `name:` and `match:`, found {}",
                node.value.kind()
            ),
        );
        return None;
    };
    check_duplicate_keys(entries, diags);
    let mut rule = RuleDoc {
        pos: node.pos,
        name: String::new(),
        id: None,
        action: None,
        severity: None,
        message: None,
        approvers: None,
        via: None,
        timeout_secs: None,
        matcher: MatchDoc::default(),
        match_pos: node.pos,
        source: source.to_owned(),
    };
    let errors_before = diags.errors().len();
    let mut saw_match = false;
    let mut saw_outcome = false;
    for (k, v) in entries.iter() {
        let key = key_text(k);
        saw_outcome |= key == "action" || key == "severity";
        match key.as_str() {
            "name" => rule.name = scalar_string(v, "name", diags).unwrap_or_default(),
            "id" => rule.id = scalar_string(v, "id", diags),
            "message" => rule.message = scalar_string(v, "message", diags),
            "action" => rule.action = parse_action(v, diags, false),
            "severity" => rule.severity = parse_severity(v, diags),
            "via" => rule.via = parse_via(v, diags),
            "timeout" => rule.timeout_secs = parse_duration(v, diags),
            "approvers" => match v.value {
                Value::Int(n) if (1..=100).contains(&n) => rule.approvers = u32::try_from(n).ok(),
                _ => diags.error(
                    v.pos,
                    format!(
                        "`approvers:` must be a whole number from 1 to 100, found {}",
                        describe(v)
                    ),
                ),
            },
            "match" => {
                saw_match = true;
                rule.match_pos = v.pos;
                rule.matcher = parse_match(v, diags);
            }
            other => unknown_key(k.pos, other, RULE_KEYS, "a rule", diags),
        }
    }
    if rule.name.is_empty() {
        match &rule.id {
            Some(id) => rule.name = id.clone(),
            None => {
                rule.name = format!("rule-{}", index + 1);
                diags.error(node.pos, "rule has no `name:`; give it a name (or an `id:`) so decisions can say which rule fired");
            }
        }
    }
    if !saw_match {
        diags.error(
            node.pos,
            format!("rule `{}` has no `match:`; add one (use `match: {{tool: \"*\"}}` to match every call)", rule.name),
        );
    }
    if !saw_outcome {
        diags.error(
            node.pos,
            format!(
                "rule `{}` has neither `action:` nor `severity:`; give it one",
                rule.name
            ),
        );
    }
    (diags.errors().len() == errors_before).then_some(rule)
}

fn scalar_string(node: &Node, what: &str, diags: &mut Diagnostics) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(key_text(node)),
        other => {
            diags.error(
                node.pos,
                format!("`{what}:` must be a string, found {}", other.kind()),
            );
            None
        }
    }
}

fn parse_match(node: &Node, diags: &mut Diagnostics) -> MatchDoc {
    let mut m = MatchDoc::default();
    let Value::Map(entries) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "`match:` must be a mapping of conditions, found {}",
                node.value.kind()
            ),
        );
        return m;
    };
    check_duplicate_keys(entries, diags);
    for (k, v) in entries.iter() {
        let key = key_text(k);
        match key.as_str() {
            "tool" => m.tool = string_list(v, "tool", diags),
            "command" => m.command = string_list(v, "command", diags),
            "path" => m.path = string_list(v, "path", diags),
            "url" => m.url = string_list(v, "url", diags),
            "domain" => m.domain = string_list(v, "domain", diags),
            "session" => m.session = string_list(v, "session", diags),
            "access" => {
                for p in string_list(v, "access", diags) {
                    match p.text.as_str() {
                        "read" => m.access.push(Access::Read),
                        "write" => m.access.push(Access::Write),
                        "delete" => m.access.push(Access::Delete),
                        other => diags.error(
                            p.pos,
                            format!("unknown access `{other}`; use read, write or delete"),
                        ),
                    }
                }
            }
            "workspace" => match v.as_str() {
                Some("inside") => m.workspace = Some(Workspace::Inside),
                Some("outside") => m.workspace = Some(Workspace::Outside),
                _ => diags.error(
                    v.pos,
                    format!(
                        "`workspace:` must be inside or outside, found {}",
                        describe(v)
                    ),
                ),
            },
            "args" => m.args = parse_args(v, diags),
            other => {
                let hint = suggest(other, MATCH_KEYS)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                diags.error(
                    k.pos,
                    format!(
                        "unknown match key `{other}`: an ignored condition would make the rule match more than intended; {hint}known keys: {}",
                        MATCH_KEYS.join(", ")
                    ),
                );
            }
        }
    }
    if !m.command.is_empty()
        && (!m.path.is_empty() || !m.access.is_empty() || m.workspace.is_some())
    {
        diags.error(
            node.pos,
            "a rule matches either executed commands (`command:`) or touched files (`path:`/`access:`/`workspace:`), not both; split it into two rules",
        );
    }
    m
}

fn parse_test(node: &Node, diags: &mut Diagnostics) -> Option<TestDoc> {
    let Value::Map(entries) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "a test must be a mapping with `call:` and `expect:`, found {}",
                node.value.kind()
            ),
        );
        return None;
    };
    check_duplicate_keys(entries, diags);
    let errors_before = diags.errors().len();
    let mut test = TestDoc {
        pos: node.pos,
        name: String::new(),
        tool: "exec".into(),
        command: None,
        input: None,
        session: None,
        cwd: None,
        home: None,
        expect: Action::Defer,
        expect_rules: Vec::new(),
    };
    let (mut saw_call, mut saw_expect) = (false, false);
    for (k, v) in entries.iter() {
        match key_text(k).as_str() {
            "name" => test.name = scalar_string(v, "name", diags).unwrap_or_default(),
            "expect" => {
                saw_expect = true;
                if let Some(a) = parse_action(v, diags, true) {
                    test.expect = a;
                }
            }
            "expect_rules" => {
                test.expect_rules = string_list(v, "expect_rules", diags)
                    .into_iter()
                    .map(|p| p.text)
                    .collect();
            }
            "call" => {
                saw_call = true;
                parse_test_call(v, &mut test, diags);
            }
            other => unknown_key(
                k.pos,
                other,
                &["name", "call", "expect", "expect_rules"],
                "a test",
                diags,
            ),
        }
    }
    if !saw_call || !saw_expect {
        diags.error(node.pos, "a test needs both `call:` and `expect:`");
    }
    if test.name.is_empty() {
        test.name = match &test.command {
            Some(c) => format!("{} `{c}`", test.tool),
            None => format!(
                "{} {}",
                test.tool,
                test.input.as_ref().map(Json::to_string).unwrap_or_default()
            ),
        };
    }
    (diags.errors().len() == errors_before).then_some(test)
}

fn parse_test_call(node: &Node, test: &mut TestDoc, diags: &mut Diagnostics) {
    let Some(entries) = mapping(node, "call", diags) else {
        return;
    };
    for (k, v) in entries {
        match key_text(k).as_str() {
            "tool" => test.tool = scalar_string(v, "tool", diags).unwrap_or_default(),
            "command" => test.command = scalar_string(v, "command", diags),
            "input" => test.input = Some(v.to_json()),
            "session" => test.session = scalar_string(v, "session", diags),
            "cwd" => test.cwd = scalar_string(v, "cwd", diags),
            "home" => test.home = scalar_string(v, "home", diags),
            other => unknown_key(
                k.pos,
                other,
                &["tool", "command", "input", "session", "cwd", "home"],
                "a test call",
                diags,
            ),
        }
    }
    if test.command.is_none() && test.input.is_none() {
        diags.error(
            node.pos,
            "a test call needs `command:` (for exec) or `input:`",
        );
    }
}
