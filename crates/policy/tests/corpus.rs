//! Decision-level corpus: `tests/corpus/*.yaml` hold calls and the decision
//! the bundled policy must give (evasions, false-positive traps, tool calls).

use gatehouse_policy::Policy;
use gatehouse_policy::parse::parse_policy;
use gatehouse_policy::policy_tests::run;

#[test]
fn bundled_policy_decides_the_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    entries.sort();
    let policy = Policy::bundled();
    let (mut total, mut failures) = (0, Vec::new());
    for path in entries {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{origin}: {e}"));
        let (doc, diags) = parse_policy(&text, &origin);
        let problems: Vec<String> = diags.items.iter().map(|d| d.render(&origin)).collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        for outcome in run(&policy, &doc.tests) {
            total += 1;
            if !outcome.passed {
                failures.push(outcome.describe_failure(&origin));
            }
        }
    }
    assert!(total >= 100, "corpus has only {total} cases");
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
