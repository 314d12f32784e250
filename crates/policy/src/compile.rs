//! Compile rules into indexed matchers: rules are bucketed by what they look
//! at (commands, files, URLs, or the call as a whole), command globs by their
//! literal program name, and each bucket's globs go into one `GlobSet`
//! (literal/prefix/suffix strategies plus one regex set), so evaluation cost
//! grows with the number of rules that could match, not the number written.

use std::collections::HashMap;
use std::sync::OnceLock;

use gatehouse_core::{Action, Severity, ToolClass, Via};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::ast::{Access, ArgPredicate, RuleDoc, Workspace};
use crate::diag::Diagnostics;
use crate::glob::{command_globs, command_program, domain_globs, loose_glob, path_glob};

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
    pub tool: Option<GlobSet>,
    /// `session:` globs.
    pub session: Option<GlobSet>,
    /// `access:`.
    pub access: Vec<Access>,
    /// `workspace:`.
    pub workspace: Option<Workspace>,
    /// Whether `path:` was given (then the path index decides it).
    pub has_path: bool,
    /// `url:` globs.
    pub url: Option<GlobSet>,
    /// `domain:` globs (host and subdomains).
    pub domain: Option<GlobSet>,
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

/// A glob set plus which rule each glob belongs to. The set is built on
/// first use: a hook process evaluates one call, so it should only pay for
/// the buckets that call touches (building every set costs milliseconds).
#[derive(Debug, Clone, Default)]
pub struct GlobIndex {
    globs: Vec<Glob>,
    owners: Vec<usize>,
    set: OnceLock<Matcher>,
}

/// A built glob index: one set, or (should the set exceed the regex size
/// limits) one matcher per glob, which is slower but still exact.
#[derive(Debug, Clone)]
enum Matcher {
    Set(GlobSet),
    Each(Vec<globset::GlobMatcher>),
}

impl GlobIndex {
    fn build(globs: Vec<(Glob, usize)>) -> GlobIndex {
        let (globs, owners) = globs.into_iter().unzip();
        GlobIndex {
            globs,
            owners,
            set: OnceLock::new(),
        }
    }

    fn matcher(&self) -> &Matcher {
        self.set.get_or_init(|| {
            let mut builder = GlobSetBuilder::new();
            for g in &self.globs {
                builder.add(g.clone());
            }
            match builder.build() {
                Ok(set) => Matcher::Set(set),
                Err(_) => Matcher::Each(self.globs.iter().map(Glob::compile_matcher).collect()),
            }
        })
    }

    /// Append the rules owning a glob that matches `text`.
    pub fn matches_into(&self, text: &str, out: &mut Vec<usize>) {
        if self.owners.is_empty() {
            return;
        }
        match self.matcher() {
            Matcher::Set(set) => {
                for i in set.matches(text) {
                    if let Some(owner) = self.owners.get(i) {
                        out.push(*owner);
                    }
                }
            }
            Matcher::Each(matchers) => {
                for (m, owner) in matchers.iter().zip(&self.owners) {
                    if m.is_match(text) {
                        out.push(*owner);
                    }
                }
            }
        }
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

fn set_of(
    patterns: &[crate::ast::Pattern],
    what: &str,
    diags: &mut Diagnostics,
    lower: bool,
) -> Option<GlobSet> {
    if patterns.is_empty() {
        return None;
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let text = if lower {
            p.text.to_ascii_lowercase()
        } else {
            p.text.clone()
        };
        match loose_glob(&text) {
            Ok(g) => {
                b.add(g);
            }
            Err(e) => diags.error(p.pos, format!("invalid {what} glob `{}`: {e}", p.text)),
        }
    }
    match b.build() {
        Ok(set) => Some(set),
        Err(e) => {
            let pos = patterns.first().map(|p| p.pos).unwrap_or_default();
            diags.error(pos, format!("cannot compile the {what} globs: {e}"));
            None
        }
    }
}

/// Compile the rules of `docs` (presets first) under `thresholds`.
pub fn compile(rules: &[&RuleDoc], thresholds: Thresholds, diags: &mut Diagnostics) -> Compiled {
    let mut out = Compiled::default();
    let mut command_globs_by_program: HashMap<String, Vec<(Glob, usize)>> = HashMap::new();
    let mut wildcard_commands = Vec::new();
    let mut path_globs = Vec::new();
    let mut tool_globs = Vec::new();
    for (idx, doc) in rules.iter().enumerate() {
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
        let mut domain = None;
        if !m.domain.is_empty() {
            let mut b = GlobSetBuilder::new();
            for p in &m.domain {
                match domain_globs(&p.text) {
                    Ok(gs) => gs.into_iter().for_each(|g| {
                        b.add(g);
                    }),
                    Err(e) => diags.error(p.pos, format!("invalid domain `{}`: {e}", p.text)),
                }
            }
            domain = match b.build() {
                Ok(set) => Some(set),
                Err(e) => {
                    diags.error(
                        doc.match_pos,
                        format!("cannot compile the domain globs: {e}"),
                    );
                    None
                }
            };
        }
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
            tool: set_of(&m.tool, "tool", diags, false),
            session: set_of(&m.session, "session", diags, false),
            access: m.access.clone(),
            workspace: m.workspace,
            has_path: !m.path.is_empty(),
            url: set_of(&m.url, "url", diags, false),
            domain,
            args: m.args.clone(),
        };
        match kind {
            Kind::Command => {
                for p in &m.command {
                    match command_globs(&p.text) {
                        Ok(globs) => {
                            let bucket = match command_program(&p.text) {
                                Some(prog) => {
                                    command_globs_by_program.entry(prog.to_owned()).or_default()
                                }
                                None => &mut wildcard_commands,
                            };
                            bucket.extend(globs.into_iter().map(|g| (g, idx)));
                        }
                        Err(e) => {
                            diags.error(p.pos, format!("invalid command glob `{}`: {e}", p.text))
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
                    match path_glob(&p.text) {
                        Ok(g) => path_globs.push((g, idx)),
                        Err(e) => {
                            diags.error(p.pos, format!("invalid path glob `{}`: {e}", p.text))
                        }
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
                    for p in &m.tool {
                        if let Ok(g) = loose_glob(&p.text) {
                            tool_globs.push((g, idx));
                        }
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
            let idx = GlobIndex::build(globs);
            (prog, idx)
        })
        .collect();
    out.commands.wildcard = GlobIndex::build(wildcard_commands);
    out.paths = GlobIndex::build(path_globs);
    out.calls.globbed = GlobIndex::build(tool_globs);
    out
}
