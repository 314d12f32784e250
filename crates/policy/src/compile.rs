//! Compile rules into indexed matchers: rules are bucketed by what they look
//! at (commands, files, URLs, or the call as a whole), command globs by their
//! literal program name, and each bucket's globs go into one [`GlobIndex`],
//! so evaluation cost grows with the number of rules that could match, not
//! the number written. Nothing is compiled to a regex here: see
//! `glob_match.rs` for when that happens.

use std::collections::HashMap;

use gatehouse_core::{Action, Severity, ToolClass, Via};

use crate::ast::{Access, ArgPredicate, Pattern, RuleDoc, Workspace};
use crate::diag::Diagnostics;
use crate::glob::{Style, command_patterns, command_program, domain_patterns, path_pattern};
use crate::glob_match::{GlobIndex, GlobList, LazyGlob};

/// When a rule's globs are compiled for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobCheck {
    /// Now, at load: a user's policy, so that a typo is a load error with
    /// its position rather than a rule that never matches.
    AtLoad,
    /// On first need only: globs known to compile — the bundled packs (a test
    /// compiles every one) or a user's policy whose exact text loaded cleanly
    /// before (the compiled policy cache) — so a hook pays only for what it uses.
    Known,
}

/// What a rule's conditions look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `command:` — each executed command of an exec call.
    Command,
    /// `path:`/`access:`/`workspace:` — each file a call reads or writes.
    Path,
    /// `url:`/`domain:` — each URL a call fetches (or an executed command names).
    Url,
    /// Only `tool:`/`session:`/`args:` — the call as a whole.
    Call,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `name:`.
    pub name: String,
    /// `id:`.
    pub id: Option<String>,
    /// What the rule resolves to after severity thresholds.
    pub action: Action,
    /// `severity:`.
    pub severity: Option<Severity>,
    /// `message:`.
    pub message: Option<String>,
    /// `approvers:`.
    pub approvers: Option<u32>,
    /// `via:`.
    pub via: Option<Via>,
    /// `timeout:` seconds.
    pub timeout_secs: Option<u64>,
    /// Which subjects the rule is matched against.
    pub kind: Kind,
    /// `tool:` globs (`None`: any tool).
    pub tool: Option<GlobList>,
    /// `session:` globs.
    pub session: Option<GlobList>,
    /// `access:`.
    pub access: Vec<Access>,
    /// `workspace:`.
    pub workspace: Option<Workspace>,
    /// Whether `path:` was given (then the path index decides it).
    pub has_path: bool,
    /// `url:` globs.
    pub url: Option<GlobList>,
    /// `domain:` globs (host and subdomains).
    pub domain: Option<GlobList>,
    /// `args:`.
    pub args: Vec<ArgPredicate>,
}

impl Rule {
    /// Whether the rule restricts (ask/deny) rather than grants.
    pub fn restrictive(&self) -> bool {
        self.action >= Action::Ask
    }

    /// Whether the tool condition holds for a class and raw tool name.
    pub fn tool_matches(&self, class: ToolClass, raw: &str) -> bool {
        self.tool
            .as_ref()
            .is_none_or(|set| set.is_match(class.as_str()) || set.is_match(raw))
    }
}

/// Command rules, bucketed by the literal program name their globs start with.
#[derive(Debug, Clone, Default)]
pub struct CommandIndex {
    by_program: HashMap<String, GlobIndex>,
    wildcard: GlobIndex,
}

impl CommandIndex {
    /// Candidate rules for one command.
    pub fn candidates(&self, program: &str, joined: &str, out: &mut Vec<usize>) {
        if let Some(idx) = self.by_program.get(program) {
            idx.matches_into(joined, out);
        }
        self.wildcard.matches_into(joined, out);
    }
}

/// Call-kind rules, indexed by literal tool names.
#[derive(Debug, Clone, Default)]
pub struct ToolIndex {
    literal: HashMap<String, Vec<usize>>,
    globbed: GlobIndex,
    any: Vec<usize>,
}

impl ToolIndex {
    /// Candidate rules for a call with this class and raw name.
    pub fn candidates(&self, class: ToolClass, raw: &str, out: &mut Vec<usize>) {
        for key in [class.as_str(), raw] {
            if let Some(rules) = self.literal.get(key) {
                out.extend(rules);
            }
            self.globbed.matches_into(key, out);
        }
        out.extend(&self.any);
    }
}

/// Everything evaluation needs, compiled.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// All rules, presets first, in order.
    pub rules: Vec<Rule>,
    /// Command-kind rules.
    pub commands: CommandIndex,
    /// Path-kind rules with `path:`.
    pub paths: GlobIndex,
    /// Path-kind rules without `path:` (only `access:`/`workspace:`).
    pub pathless: Vec<usize>,
    /// Url-kind rules.
    pub urls: Vec<usize>,
    /// Call-kind rules.
    pub calls: ToolIndex,
    /// Whether some restrictive rule looks at exec calls: unresolved shell then asks.
    pub restrictive_exec: bool,
}

/// Severity thresholds in force.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// At or above: deny.
    pub block_at: Severity,
    /// At or above (and below block_at): ask. Below: allow (+ audit).
    pub ask_at: Severity,
}

impl Thresholds {
    /// The action a severity-only rule turns into.
    pub fn action_for(&self, s: Severity) -> Action {
        if s >= self.block_at {
            Action::Deny
        } else if s >= self.ask_at {
            Action::Ask
        } else {
            Action::Allow
        }
    }
}

/// One glob of a rule, checked now if the user wrote it (errors go to `diags`).
fn lazy_glob(
    pattern: &str,
    style: Style,
    written: &Pattern,
    what: &str,
    check: GlobCheck,
    diags: &mut Diagnostics,
) -> Option<LazyGlob> {
    match check {
        GlobCheck::Known => Some(LazyGlob::trusted(pattern, style)),
        GlobCheck::AtLoad => match LazyGlob::checked(pattern, style) {
            Ok(g) => Some(g),
            Err(e) => {
                diags.error(
                    written.pos,
                    format!("invalid {what} glob `{}`: {e}", written.text),
                );
                None
            }
        },
    }
}

fn list_of(
    patterns: &[Pattern],
    what: &str,
    check: GlobCheck,
    diags: &mut Diagnostics,
) -> Option<GlobList> {
    if patterns.is_empty() {
        return None;
    }
    let globs = patterns
        .iter()
        .filter_map(|p| lazy_glob(&p.text, Style::Loose, p, what, check, diags))
        .collect();
    Some(GlobList::new(globs))
}

/// Compile the rules of `docs` (presets first) under `thresholds`.
pub fn compile(
    rules: &[(&RuleDoc, GlobCheck)],
    thresholds: Thresholds,
    diags: &mut Diagnostics,
) -> Compiled {
    let mut out = Compiled::default();
    let mut command_globs_by_program: HashMap<String, Vec<(LazyGlob, usize)>> = HashMap::new();
    let mut wildcard_commands = Vec::new();
    let mut path_globs = Vec::new();
    let mut tool_globs = Vec::new();
    for (idx, &(doc, check)) in rules.iter().enumerate() {
        let m = &doc.matcher;
        let kind = if !m.command.is_empty() {
            Kind::Command
        } else if !m.path.is_empty() || !m.access.is_empty() || m.workspace.is_some() {
            Kind::Path
        } else if !m.url.is_empty() || !m.domain.is_empty() {
            Kind::Url
        } else {
            Kind::Call
        };
        let action = doc
            .action
            .or_else(|| doc.severity.map(|s| thresholds.action_for(s)))
            .unwrap_or(Action::Deny);
        let domain = (!m.domain.is_empty()).then(|| {
            let globs = m
                .domain
                .iter()
                .flat_map(|p| domain_patterns(&p.text).map(|d| (d, p)))
                .filter_map(|(d, p)| lazy_glob(&d, Style::Loose, p, "domain", check, diags))
                .collect();
            GlobList::new(globs)
        });
        let rule = Rule {
            name: doc.name.clone(),
            id: doc.id.clone(),
            action,
            severity: doc.severity,
            message: doc.message.clone(),
            approvers: doc.approvers,
            via: doc.via,
            timeout_secs: doc.timeout_secs,
            kind,
            tool: list_of(&m.tool, "tool", check, diags),
            session: list_of(&m.session, "session", check, diags),
            access: m.access.clone(),
            workspace: m.workspace,
            has_path: !m.path.is_empty(),
            url: list_of(&m.url, "url", check, diags),
            domain,
            args: m.args.clone(),
        };
        match kind {
            Kind::Command => {
                for p in &m.command {
                    let bucket = match command_program(&p.text) {
                        Some(prog) => command_globs_by_program.entry(prog.to_owned()).or_default(),
                        None => &mut wildcard_commands,
                    };
                    for pattern in command_patterns(&p.text) {
                        if let Some(g) =
                            lazy_glob(pattern, Style::Loose, p, "command", check, diags)
                        {
                            bucket.push((g, idx));
                        }
                    }
                }
                if rule.restrictive() {
                    out.restrictive_exec = true;
                }
            }
            Kind::Path => {
                if m.path.is_empty() {
                    out.pathless.push(idx);
                }
                for p in &m.path {
                    if let Some(g) =
                        lazy_glob(&path_pattern(&p.text), Style::Path, p, "path", check, diags)
                    {
                        path_globs.push((g, idx));
                    }
                }
            }
            Kind::Url => out.urls.push(idx),
            Kind::Call => {
                if rule.restrictive() && rule.tool_matches(ToolClass::Exec, "exec") {
                    out.restrictive_exec = true;
                }
                let literal = !m.tool.is_empty()
                    && m.tool
                        .iter()
                        .all(|p| !p.text.contains(['*', '?', '[', '{', '\\']));
                if m.tool.is_empty() {
                    out.calls.any.push(idx);
                } else if literal {
                    for p in &m.tool {
                        out.calls
                            .literal
                            .entry(p.text.clone())
                            .or_default()
                            .push(idx);
                    }
                } else {
                    // Already checked as the rule's `tool` list above.
                    for p in &m.tool {
                        tool_globs.push((LazyGlob::trusted(&p.text, Style::Loose), idx));
                    }
                }
            }
        }
        out.rules.push(rule);
    }
    for list in out.calls.literal.values_mut() {
        list.dedup();
    }
    out.commands.by_program = command_globs_by_program
        .into_iter()
        .map(|(prog, globs)| {
            let idx = GlobIndex::new(globs);
            (prog, idx)
        })
        .collect();
    out.commands.wildcard = GlobIndex::new(wildcard_commands);
    out.paths = GlobIndex::new(path_globs);
    out.calls.globbed = GlobIndex::new(tool_globs);
    out
}
