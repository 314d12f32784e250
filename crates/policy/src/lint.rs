//! `gatehouse policy lint`: every load error plus warnings about rules that
//! are probably not what the author meant — unknown keys, empty `match:`
//! blocks, duplicate names, rules that can never match, and allow rules
//! that never take effect because a restrictive rule covers them.

use gatehouse_core::Action;
use globset::GlobMatcher;

use crate::ast::{MatchDoc, Pattern, RuleDoc};
use crate::diag::{Diagnostic, Diagnostics};
use crate::glob::{command_globs, loose_glob, path_glob, path_pattern};

/// Lint policy text. Errors mean the policy does not load.
pub fn lint(text: &str, origin: &str) -> Vec<Diagnostic> {
    let (doc, mut diags) = crate::parse::parse_policy(text, origin);
    if !diags.has_errors() {
        // Compile errors (bad globs) surface through load.
        if let Err(e) = crate::Policy::load(text, origin) {
            let known: Vec<String> = diags.items.iter().map(|d| d.render(origin)).collect();
            for line in e.0.lines() {
                if !known.iter().any(|k| k == line) {
                    diags.error(Default::default(), line.to_owned());
                }
            }
        }
    }
    let presets = crate::bundled::preset_docs(&doc.presets);
    let preset_rules: Vec<&RuleDoc> = presets.iter().flat_map(|(_, d)| d.rules.iter()).collect();
    for (i, rule) in doc.rules.iter().enumerate() {
        if rule.matcher.is_empty() {
            diags.warn(
                rule.match_pos,
                format!("rule `{}` has an empty `match:` and applies to every call; add conditions or make that explicit with `tool: \"*\"`", rule.name),
            );
        }
        if let Some(prev) = doc.rules.iter().take(i).find(|r| r.name == rule.name) {
            diags.warn(
                rule.pos,
                format!("duplicate rule name `{}` (also at line {}); decisions would not say which one fired — rename one", rule.name, prev.pos.line),
            );
        }
        if let Some(id) = &rule.id
            && let Some(prev) = doc.rules.iter().take(i).find(|r| r.id.as_ref() == Some(id))
        {
            diags.warn(
                rule.pos,
                format!("duplicate rule id `{id}` (also at line {}); ids identify detections and must be unique", prev.pos.line),
            );
        }
        never_matches(rule, &mut diags);
        let rule_action = rule_action(rule);
        if rule_action == Some(Action::Allow) {
            let covering = doc
                .rules
                .iter()
                .chain(preset_rules.iter().copied())
                .find(|d| {
                    !std::ptr::eq(*d, rule)
                        && d.action.is_some_and(|a| a >= Action::Ask)
                        && covers(&d.matcher, &rule.matcher)
                });
            if let Some(d) = covering {
                diags.warn(
                    rule.pos,
                    format!(
                        "allow rule `{}` never takes effect: every call it matches is also matched by `{}` ({}), and the most restrictive rule wins; narrow or remove one",
                        rule.name,
                        d.id.as_deref().unwrap_or(&d.name),
                        d.action.map(|a| a.as_str()).unwrap_or("?")
                    ),
                );
            }
        }
    }
    let mut items = diags.items;
    items.sort_by_key(|d| (d.pos, d.level));
    items
}

fn rule_action(rule: &RuleDoc) -> Option<Action> {
    rule.action.or(rule.severity.map(|_| Action::Ask))
}

const CLASSES: [&str; 7] = ["exec", "read", "write", "fetch", "mcp", "agent", "other"];

fn never_matches(rule: &RuleDoc, diags: &mut Diagnostics) {
    let m = &rule.matcher;
    for p in &m.command {
        let first = p.text.split(' ').next().unwrap_or("");
        if first.contains('/') && !first.starts_with('*') {
            let base = first.rsplit('/').next().unwrap_or(first);
            let rest = p.text.get(first.len()..).unwrap_or("");
            diags.warn(
                p.pos,
                format!(
                    "command glob `{}` never matches: argv[0] is normalised to its base name (`/bin/rm` is `rm`); write `{base}{rest}`",
                    p.text
                ),
            );
        }
    }
    // A rule about commands (or files) whose tool list names only classes that have none.
    let only_classes: Vec<&str> = m
        .tool
        .iter()
        .map(|p| p.text.as_str())
        .filter(|t| CLASSES.contains(t))
        .collect();
    if !m.tool.is_empty() && only_classes.len() == m.tool.len() {
        if !m.command.is_empty() && !only_classes.contains(&"exec") {
            diags.warn(
                m.tool.first().map(|p| p.pos).unwrap_or(rule.match_pos),
                format!("rule `{}` has `command:` but `tool:` excludes exec, so it can never match; add `exec` or drop `tool:`", rule.name),
            );
        }
        let has_path = !m.path.is_empty() || !m.access.is_empty() || m.workspace.is_some();
        if has_path && !only_classes.iter().any(|c| *c == "read" || *c == "write") {
            diags.warn(
                m.tool.first().map(|p| p.pos).unwrap_or(rule.match_pos),
                format!("rule `{}` matches paths but `tool:` names no read or write class (files touched by shell commands count as read/write), so it can never match", rule.name),
            );
        }
    }
}

/// Whether a glob using only `*` wildcards matches the text of another glob
/// (taken literally): then everything the other matches, it matches too.
fn glob_covers(matcher: &GlobMatcher, broad: &str, narrow: &str) -> bool {
    let simple = |s: &str| !s.contains(['?', '[', '{', '\\']);
    simple(broad) && simple(narrow) && matcher.is_match(narrow)
}

fn covers_patterns(
    broad: &[Pattern],
    narrow: &[Pattern],
    compile: impl Fn(&str) -> Vec<(GlobMatcher, String)>,
    narrow_forms: impl Fn(&str) -> Vec<String>,
) -> bool {
    if broad.is_empty() {
        return true;
    }
    if narrow.is_empty() {
        return false;
    }
    let broad: Vec<(GlobMatcher, String)> = broad.iter().flat_map(|p| compile(&p.text)).collect();
    narrow.iter().all(|n| {
        narrow_forms(&n.text)
            .iter()
            .all(|form| broad.iter().any(|(m, text)| glob_covers(m, text, form)))
    })
}

/// Whether restrictive rule `d` matches every call that allow rule `a` matches
/// (conservative: `d` may only use tool/command/path conditions).
fn covers(d: &MatchDoc, a: &MatchDoc) -> bool {
    if !d.session.is_empty()
        || !d.args.is_empty()
        || !d.url.is_empty()
        || !d.domain.is_empty()
        || !d.access.is_empty()
        || d.workspace.is_some()
    {
        return false;
    }
    if d.is_empty() {
        return true;
    }
    let loose = |t: &str| {
        loose_glob(t)
            .map(|g| vec![(g.compile_matcher(), t.to_owned())])
            .unwrap_or_default()
    };
    let tool_ok = covers_patterns(&d.tool, &a.tool, loose, |t| vec![t.to_owned()]);
    let command_ok = if d.command.is_empty() {
        // A tool-only deny covers an allow about the same tools.
        d.path.is_empty() || !a.command.is_empty()
    } else {
        let compile = |t: &str| {
            command_globs(t)
                .unwrap_or_default()
                .into_iter()
                .map(|g| (g.compile_matcher(), g.glob().to_owned()))
                .collect()
        };
        let forms = |t: &str| {
            command_globs(t)
                .unwrap_or_default()
                .into_iter()
                .map(|g| g.glob().to_owned())
                .collect()
        };
        covers_patterns(&d.command, &a.command, compile, forms)
    };
    let path_ok = if d.path.is_empty() {
        true
    } else {
        let compile = |t: &str| {
            path_glob(t)
                .map(|g| vec![(g.compile_matcher(), path_pattern(t))])
                .unwrap_or_default()
        };
        covers_patterns(&d.path, &a.path, compile, |t| vec![path_pattern(t)])
    };
    tool_ok && command_ok && path_ok && (d.path.is_empty() || a.command.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Level;

    fn warnings(text: &str) -> Vec<String> {
        lint(text, "p.yaml")
            .into_iter()
            .filter(|d| d.level == Level::Warning)
            .map(|d| d.render("p.yaml"))
            .collect()
    }

    #[test]
    fn allow_covered_by_deny_is_reported() {
        let w = warnings(
            "version: 1\nrules:\n  - name: no-rm\n    match: {command: \"rm *\"}\n    action: deny\n  - name: rm-build\n    match: {command: \"rm -rf build/*\"}\n    action: allow\n",
        );
        assert!(
            w.iter()
                .any(|l| l
                    .starts_with("p.yaml:6:5: warning: allow rule `rm-build` never takes effect")),
            "{w:?}"
        );
    }

    #[test]
    fn allow_not_covered_is_quiet() {
        let w = warnings(
            "version: 1\nrules:\n  - name: no-rm-root\n    match: {command: \"rm -rf /\"}\n    action: deny\n  - name: rm-build\n    match: {command: \"rm -rf build/*\"}\n    action: allow\n",
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn empty_match_duplicates_and_never_matching_rules() {
        let w = warnings(
            "version: 1\nrules:\n  - name: a\n    match: {}\n    action: ask\n  - name: a\n    match: {command: \"/bin/rm *\"}\n    action: deny\n  - name: b\n    match: {tool: read, command: \"ls\"}\n    action: deny\n",
        );
        let all = w.join("\n");
        assert!(
            all.contains("p.yaml:4:12: warning: rule `a` has an empty `match:`"),
            "{all}"
        );
        assert!(
            all.contains("p.yaml:6:5: warning: duplicate rule name `a`"),
            "{all}"
        );
        assert!(all.contains("argv[0] is normalised"), "{all}");
        assert!(all.contains("excludes exec"), "{all}");
    }

    #[test]
    fn unknown_keys_warn_outside_match_and_fail_inside() {
        let d = lint(
            "version: 1\ndefualt: deny\nrules:\n  - name: a\n    match: {comand: \"rm *\"}\n    action: deny\n",
            "p.yaml",
        );
        let rendered: Vec<String> = d.iter().map(|d| d.render("p.yaml")).collect();
        assert!(
            rendered.iter().any(
                |l| l.starts_with("p.yaml:2:1: warning: unknown key `defualt`")
                    && l.contains("did you mean `default`")
            ),
            "{rendered:?}"
        );
        assert!(
            rendered.iter().any(|l| l
                .starts_with("p.yaml:5:13: error: unknown match key `comand`")
                && l.contains("did you mean `command`")),
            "{rendered:?}"
        );
    }
}
