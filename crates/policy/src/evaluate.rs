//! Evaluation: a pure, total function from (compiled policy, call, context) to a [`Decision`].
//!
//! A call is broken into *subjects*: the call itself, each executed command
//! (exec), each file it reads/writes/deletes (direct paths, or what the shell
//! analysis found), each URL. Restrictive rules (ask/deny) match if **any**
//! subject matches; a granting rule (allow) must cover **every** subject of
//! its kind (every executed command, every path). Most restrictive wins.

use gatehouse_core::{Action, CallContext, Decision, MatchedRule, ToolCall, ToolClass};
use gatehouse_shell::{AccessKind, Analysis};

use crate::ast::{Access, Workspace};
use crate::compile::{Compiled, Kind, Rule};
use crate::glob::{ResolvedPath, resolve_path, url_host};

/// Policy-wide settings evaluation needs besides the rules.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `default:`.
    pub default: Action,
    /// `defaults:` — per-class overrides of `default` (at most one per class).
    pub class_defaults: [Option<Action>; 7],
    /// `unresolved:` — floor for exec calls with unresolved shell parts.
    pub unresolved: Action,
    /// `approval.via`.
    pub via: gatehouse_core::Via,
    /// `approval.timeout` seconds.
    pub timeout_secs: u64,
}

/// Name of the pseudo-rule reported when unresolved shell parts raise a decision.
pub const UNRESOLVED_RULE: &str = "shell-unresolved";

/// What the rules found, before it is shaped into a decision.
#[derive(Default)]
struct Findings {
    /// Restrictive rules that matched (may repeat).
    restrictive: Vec<usize>,
    /// Granting rules that covered their subjects.
    granted: Vec<usize>,
    /// Evaluation problems.
    diagnostics: Vec<String>,
}

/// Decide one call, analysing its shell command if it is an exec call.
pub fn evaluate(c: &Compiled, s: &Settings, call: &ToolCall, ctx: &CallContext) -> Decision {
    let analysis = (call.class == ToolClass::Exec)
        .then(|| gatehouse_shell::analyze(call.command.as_deref().unwrap_or("")));
    evaluate_analyzed(c, s, call, ctx, analysis.as_ref())
}

/// Whether a command line has something besides blanks and comments.
fn has_code(command: &str) -> bool {
    command
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Decide one call whose shell command (for exec) has already been analysed.
pub fn evaluate_analyzed(
    c: &Compiled,
    s: &Settings,
    call: &ToolCall,
    ctx: &CallContext,
    analysis: Option<&Analysis>,
) -> Decision {
    let mut f = Findings::default();
    let mut commands = Vec::new();
    let mut unresolved = Vec::new();
    call_rules(c, call, ctx, &mut f);
    if call.class == ToolClass::Exec {
        let empty = Analysis::default();
        let analysis = analysis.unwrap_or(&empty);
        exec_rules(c, call, ctx, analysis, &mut f);
        commands = analysis.commands.iter().map(|c| c.argv.clone()).collect();
        unresolved = analysis
            .unresolved
            .iter()
            .map(|u| format!("unresolved shell ({:?}): {}", u.kind, u.detail))
            .collect();
        unresolved.extend(opaque_file_use(analysis, ctx));
        if analysis.commands.is_empty()
            && unresolved.is_empty()
            && has_code(call.command.as_deref().unwrap_or(""))
        {
            // Text that runs nothing we can see is not proof that nothing runs.
            unresolved.push("shell analysis found no command in a non-empty command line".into());
        }
    } else {
        direct_path_rules(c, call, ctx, &mut f);
    }
    url_rules(c, call, ctx, &commands, &mut f);
    let default = ToolClass::ALL
        .iter()
        .position(|k| *k == call.class)
        .and_then(|i| s.class_defaults.get(i).copied().flatten())
        .unwrap_or(s.default);
    let mut decision = decide(c, s, default, &f);
    decision.commands = commands;
    decision.diagnostics = f.diagnostics;
    if !unresolved.is_empty() && c.restrictive_exec && decision.action < s.unresolved {
        decision.action = s.unresolved;
        decision.rules = vec![MatchedRule {
            name: UNRESOLVED_RULE.into(),
            id: None,
            action: s.unresolved,
            severity: None,
            message: Some(format!(
                "the command could not be fully analysed ({}); a person must look at it",
                unresolved.join("; ")
            )),
        }];
        decision.severity = None;
        decision.message = decision.rules.first().and_then(|r| r.message.clone());
        decision.approval_timeout_secs = (s.unresolved == Action::Ask).then_some(s.timeout_secs);
    }
    decision.diagnostics.extend(unresolved);
    decision
}

/// Programs that run a file they are given: a script written earlier in the
/// same command line and then run by one of these is code nobody has seen.
const SCRIPT_RUNNERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "fish", "source", ".", "python", "python3", "node", "perl",
    "ruby", "php", "deno", "bun",
];

/// File uses the static analysis cannot vouch for: operands not known until
/// run time (`{}` from `find -exec`, `$VAR`), and scripts the same command
/// line writes and then runs. Each counts as unresolved (stricter, never looser).
fn opaque_file_use(analysis: &Analysis, ctx: &CallContext) -> Vec<String> {
    let mut out = Vec::new();
    let resolve = |p: &str| {
        resolve_path(p, ctx.cwd.as_deref(), ctx.home.as_deref())
            .forms
            .last()
            .cloned()
            .unwrap_or_else(|| p.to_owned())
    };
    let written: Vec<String> = analysis
        .files
        .iter()
        .filter(|f| f.kind == AccessKind::Write)
        .map(|f| resolve(&f.path))
        .collect();
    for f in &analysis.files {
        if f.path.is_empty() || f.path.contains(['$', '`']) || f.path.contains("{}") {
            out.push(format!(
                "`{}` {} a file known only at run time ({})",
                f.by,
                match f.kind {
                    AccessKind::Read => "reads",
                    AccessKind::Write => "writes",
                    AccessKind::Delete => "deletes",
                },
                if f.path.is_empty() {
                    "<empty>"
                } else {
                    &f.path
                }
            ));
        } else if f.kind == AccessKind::Read
            && SCRIPT_RUNNERS.contains(&f.by.as_str())
            && written.contains(&resolve(&f.path))
        {
            out.push(format!(
                "`{}` runs `{}`, a script written by the same command line",
                f.by, f.path
            ));
        }
    }
    for cmd in &analysis.commands {
        let program = cmd.program();
        let runs_written = !program.is_empty()
            && written
                .iter()
                .any(|w| w.rsplit('/').next() == Some(program));
        if runs_written {
            out.push(format!(
                "runs `{program}`, a file written by the same command line"
            ));
        }
    }
    out
}

/// Session and args conditions, shared by every kind. `Err` means the rule
/// could not be evaluated.
fn common_conditions(rule: &Rule, call: &ToolCall, ctx: &CallContext) -> Result<bool, String> {
    if let Some(sessions) = &rule.session {
        match &ctx.session {
            Some(sess) if sessions.is_match(sess) => {}
            _ => return Ok(false),
        }
    }
    for pred in &rule.args {
        match pred.eval(&call.input) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => return Err(e.0),
        }
    }
    Ok(true)
}

/// Record the outcome of checking `rule` against one subject. Returns whether it held.
fn record(rule: &Rule, outcome: Result<bool, String>, f: &mut Findings) -> bool {
    match outcome {
        Ok(held) => held,
        Err(e) => {
            let side = if rule.restrictive() {
                "treated as matching"
            } else {
                "not granting"
            };
            f.diagnostics.push(format!(
                "rule `{}` could not be evaluated ({e}); {side}",
                rule.name
            ));
            // Safe side: a restrictive rule matches, a granting rule does not.
            rule.restrictive()
        }
    }
}

fn call_rules(c: &Compiled, call: &ToolCall, ctx: &CallContext, f: &mut Findings) {
    let mut cands = Vec::new();
    c.calls.candidates(call.class, &call.tool, &mut cands);
    cands.sort_unstable();
    cands.dedup();
    for idx in cands {
        let Some(rule) = c.rules.get(idx) else {
            continue;
        };
        if rule.kind != Kind::Call || !rule.tool_matches(call.class, &call.tool) {
            continue;
        }
        let outcome = common_conditions(rule, call, ctx);
        if record(rule, outcome, f) {
            if rule.restrictive() {
                f.restrictive.push(idx);
            } else {
                f.granted.push(idx);
            }
        }
    }
}

fn exec_rules(
    c: &Compiled,
    call: &ToolCall,
    ctx: &CallContext,
    analysis: &Analysis,
    f: &mut Findings,
) {
    // Commands: restrictive = any command matches; granting = every command matches.
    let mut covered: Option<Vec<usize>> = None;
    let mut cands = Vec::new();
    for cmd in &analysis.commands {
        cands.clear();
        let joined = cmd.argv.join(" ");
        c.commands.candidates(cmd.program(), &joined, &mut cands);
        cands.sort_unstable();
        cands.dedup();
        let mut held_here = Vec::new();
        for &idx in &cands {
            let Some(rule) = c.rules.get(idx) else {
                continue;
            };
            if !rule.tool_matches(call.class, &call.tool) {
                continue;
            }
            let words: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
            let outcome =
                common_conditions(rule, call, ctx).map(|ok| ok && url_conditions(rule, &words));
            if record(rule, outcome, f) {
                if rule.restrictive() {
                    f.restrictive.push(idx);
                } else {
                    held_here.push(idx);
                }
            }
        }
        covered = Some(match covered {
            None => held_here,
            Some(prev) => prev.into_iter().filter(|i| held_here.contains(i)).collect(),
        });
    }
    if analysis.unresolved.is_empty()
        && !analysis.commands.is_empty()
        && let Some(all) = covered
    {
        f.granted.extend(all);
    }
    // Files the command line touches feed read/write path rules (restrictive only:
    // a path allow does not cover the commands that run).
    for access in &analysis.files {
        let (class, kind) = match access.kind {
            AccessKind::Read => (ToolClass::Read, Access::Read),
            AccessKind::Write => (ToolClass::Write, Access::Write),
            AccessKind::Delete => (ToolClass::Write, Access::Delete),
        };
        let resolved = resolve_path(&access.path, ctx.cwd.as_deref(), ctx.home.as_deref());
        for idx in path_candidates(c, &resolved) {
            let Some(rule) = c.rules.get(idx) else {
                continue;
            };
            if !rule.restrictive() || !rule.tool_matches(class, class.as_str()) {
                continue;
            }
            let outcome = common_conditions(rule, call, ctx)
                .map(|ok| ok && access_conditions(rule, kind, &resolved));
            if record(rule, outcome, f) {
                f.restrictive.push(idx);
            }
        }
    }
}

fn path_candidates(c: &Compiled, resolved: &ResolvedPath) -> Vec<usize> {
    let mut out = Vec::new();
    for form in &resolved.forms {
        c.paths.matches_into(form, &mut out);
    }
    out.extend(&c.pathless);
    out.sort_unstable();
    out.dedup();
    out
}

fn access_conditions(rule: &Rule, kind: Access, resolved: &ResolvedPath) -> bool {
    let access_ok = rule.access.is_empty() || rule.access.contains(&kind);
    let workspace_ok = match rule.workspace {
        None => true,
        Some(Workspace::Inside) => resolved.inside_workspace,
        Some(Workspace::Outside) => !resolved.inside_workspace,
    };
    access_ok && workspace_ok
}

fn direct_path_rules(c: &Compiled, call: &ToolCall, ctx: &CallContext, f: &mut Findings) {
    if call.paths.is_empty() {
        return;
    }
    let kind = match call.class {
        ToolClass::Read => Access::Read,
        _ if call.tool.eq_ignore_ascii_case("delete") => Access::Delete,
        _ => Access::Write,
    };
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for raw in &call.paths {
        let resolved = resolve_path(raw, ctx.cwd.as_deref(), ctx.home.as_deref());
        for idx in path_candidates(c, &resolved) {
            let Some(rule) = c.rules.get(idx) else {
                continue;
            };
            if !rule.tool_matches(call.class, &call.tool) {
                continue;
            }
            let outcome = common_conditions(rule, call, ctx)
                .map(|ok| ok && access_conditions(rule, kind, &resolved));
            if record(rule, outcome, f) {
                if rule.restrictive() {
                    f.restrictive.push(idx);
                } else {
                    match counts.iter_mut().find(|(i, _)| *i == idx) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((idx, 1)),
                    }
                }
            }
        }
    }
    let total = call.paths.len();
    f.granted.extend(
        counts
            .into_iter()
            .filter(|(_, n)| *n == total)
            .map(|(i, _)| i),
    );
}

/// `url:`/`domain:` conditions against words that look like URLs (`None` rule keys hold).
fn url_conditions(rule: &Rule, words: &[&str]) -> bool {
    if rule.url.is_none() && rule.domain.is_none() {
        return true;
    }
    words.iter().any(|w| url_matches(rule, w))
}

fn url_matches(rule: &Rule, url: &str) -> bool {
    let url_ok = rule.url.as_ref().is_none_or(|set| set.is_match(url));
    let domain_ok = rule.domain.as_ref().is_none_or(|set| {
        url_host(url)
            .or_else(|| bare_host(url))
            .is_some_and(|h| set.is_match(&h))
    });
    url_ok && domain_ok
}

/// A command argument like `example.com/x` names a host too (curl accepts it).
fn bare_host(word: &str) -> Option<String> {
    let host = word.split(['/', ':']).next()?;
    (host.contains('.')
        && !host.starts_with(['-', '.'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
    .then(|| host.to_ascii_lowercase())
}

fn url_rules(
    c: &Compiled,
    call: &ToolCall,
    ctx: &CallContext,
    commands: &[Vec<String>],
    f: &mut Findings,
) {
    if c.urls.is_empty() {
        return;
    }
    let mut subjects: Vec<&str> = call.urls.iter().map(String::as_str).collect();
    for argv in commands {
        subjects.extend(argv.iter().skip(1).map(String::as_str));
    }
    if subjects.is_empty() {
        return;
    }
    for &idx in &c.urls {
        let Some(rule) = c.rules.get(idx) else {
            continue;
        };
        if !rule.tool_matches(call.class, &call.tool) {
            continue;
        }
        let outcome = common_conditions(rule, call, ctx);
        let held = |subjects: &[&str]| -> bool {
            if rule.restrictive() {
                subjects.iter().any(|u| url_matches(rule, u))
            } else {
                // Grants only a fetch whose every URL it covers; never an exec.
                call.class != ToolClass::Exec
                    && !call.urls.is_empty()
                    && call.urls.iter().all(|u| url_matches(rule, u))
            }
        };
        if record(rule, outcome.map(|ok| ok && held(&subjects)), f) {
            if rule.restrictive() {
                f.restrictive.push(idx);
            } else {
                f.granted.push(idx);
            }
        }
    }
}

fn decide(c: &Compiled, s: &Settings, default: Action, f: &Findings) -> Decision {
    let top_restrictive = f
        .restrictive
        .iter()
        .filter_map(|i| c.rules.get(*i))
        .map(|r| r.action)
        .max();
    let action = match (top_restrictive, f.granted.is_empty()) {
        (Some(a), _) => a,
        (None, false) => Action::Allow,
        (None, true) => default,
    };
    let mut deciding: Vec<usize> = f
        .restrictive
        .iter()
        .chain(&f.granted)
        .copied()
        .filter(|i| c.rules.get(*i).is_some_and(|r| r.action == action))
        .collect();
    deciding.sort_unstable();
    deciding.dedup();
    let rules: Vec<&Rule> = deciding.iter().filter_map(|i| c.rules.get(*i)).collect();
    let mut d = Decision::bare(action, "");
    d.message = message(&rules, action, default);
    d.severity = rules.iter().filter_map(|r| r.severity).max();
    d.approvers = rules.iter().filter_map(|r| r.approvers).max().unwrap_or(1);
    d.via = rules.iter().find_map(|r| r.via).unwrap_or(s.via);
    if action == Action::Ask {
        d.approval_timeout_secs = Some(
            rules
                .iter()
                .filter_map(|r| r.timeout_secs)
                .min()
                .unwrap_or(s.timeout_secs),
        );
    }
    d.rules = rules
        .iter()
        .map(|r| MatchedRule {
            name: r.name.clone(),
            id: r.id.clone(),
            action: r.action,
            severity: r.severity,
            message: r.message.clone(),
        })
        .collect();
    d
}

fn message(rules: &[&Rule], action: Action, default: Action) -> Option<String> {
    if rules.is_empty() {
        return Some(format!(
            "no rule matched; the policy default for this call is {default}"
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for r in rules {
        if let Some(m) = r.message.as_deref()
            && !parts.contains(&m)
        {
            parts.push(m);
        }
    }
    if parts.is_empty() {
        let labels: Vec<&str> = rules
            .iter()
            .map(|r| r.id.as_deref().unwrap_or(&r.name))
            .collect();
        Some(format!("{action} by rule {}", labels.join(", ")))
    } else {
        Some(parts.join("; "))
    }
}
