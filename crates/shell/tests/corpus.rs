//! Data-driven corpus: every `tests/corpus/*.yaml` file holds a list of
//! cases `{input, commands, files?, unresolved?}`.
//! - `commands`: the exact argv of every command that would run, in order.
//! - `files` (optional): exactly these accesses, as `"<kind> <path>"`, any order.
//! - `unresolved` (optional, default none): exactly these kinds, any order.
//! - `via` (optional): the wrapper chain of each command, parallel to `commands`.
//!
//! All failures are reported together with their file and input.

use std::collections::BTreeSet;
use std::path::Path;

use gatehouse_shell::{AccessKind, UnresolvedKind, analyze};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    input: String,
    commands: Vec<Vec<String>>,
    #[serde(default)]
    files: Option<Vec<String>>,
    #[serde(default)]
    unresolved: Vec<String>,
    #[serde(default)]
    via: Option<Vec<Vec<String>>>,
}

fn kind_name(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "read",
        AccessKind::Write => "write",
        AccessKind::Delete => "delete",
    }
}

fn unresolved_name(kind: UnresolvedKind) -> &'static str {
    match kind {
        UnresolvedKind::Unparseable => "unparseable",
        UnresolvedKind::DynamicCommand => "dynamic_command",
        UnresolvedKind::InlineCode => "inline_code",
        UnresolvedKind::PipedIntoInterpreter => "piped_into_interpreter",
        UnresolvedKind::Obfuscated => "obfuscated",
        UnresolvedKind::TooDeep => "too_deep",
    }
}

fn check(case: &Case) -> Result<(), String> {
    let analysis = analyze(&case.input);
    let mut problems = Vec::new();
    let commands: Vec<Vec<String>> = analysis.commands.iter().map(|c| c.argv.clone()).collect();
    if commands != case.commands {
        problems.push(format!(
            "commands: expected {:?}\n              got {:?}",
            case.commands, commands
        ));
    }
    if let Some(via) = &case.via {
        let got: Vec<Vec<String>> = analysis.commands.iter().map(|c| c.via.clone()).collect();
        if &got != via {
            problems.push(format!("via: expected {via:?}\n         got {got:?}"));
        }
    }
    if let Some(files) = &case.files {
        let expected: BTreeSet<String> = files.iter().cloned().collect();
        let got: BTreeSet<String> = analysis
            .files
            .iter()
            .map(|f| format!("{} {}", kind_name(f.kind), f.path))
            .collect();
        if expected != got {
            problems.push(format!(
                "files: expected {expected:?}\n           got {got:?}"
            ));
        }
    }
    let expected: BTreeSet<&str> = case.unresolved.iter().map(String::as_str).collect();
    let got: BTreeSet<&str> = analysis
        .unresolved
        .iter()
        .map(|u| unresolved_name(u.kind))
        .collect();
    if expected != got {
        problems.push(format!(
            "unresolved: expected {expected:?}\n                got {got:?} ({:?})",
            analysis.unresolved
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

#[test]
fn corpus_cases_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    entries.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    for path in &entries {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let cases: Vec<Case> = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("bad YAML in {}: {e}", path.display()));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in &cases {
            total += 1;
            if let Err(problem) = check(case) {
                failures.push(format!("{name}: {:?}\n  {problem}", case.input));
            }
        }
    }
    assert!(
        total >= 300,
        "the corpus must hold at least 300 cases, found {total}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} corpus cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
