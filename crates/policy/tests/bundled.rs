//! The bundled files load cleanly and their `tests:` pass.

use gatehouse_policy::bundled::{self, FILES};
use gatehouse_policy::policy_tests::run_bundled;
use gatehouse_policy::{Headless, Policy};

#[test]
fn every_bundled_file_parses_without_diagnostics() {
    for (name, _) in FILES {
        let pack = bundled::pack(name).unwrap_or_else(|| panic!("{name} missing"));
        let rendered: Vec<String> = pack.diagnostics.iter().map(|d| d.render(name)).collect();
        assert!(rendered.is_empty(), "{name}:\n{}", rendered.join("\n"));
    }
}

#[test]
fn every_bundled_file_lints_clean() {
    for (name, text) in FILES {
        let diags = gatehouse_policy::lint::lint(text, name);
        let rendered: Vec<String> = diags.iter().map(|d| d.render(name)).collect();
        assert!(rendered.is_empty(), "{}", rendered.join("\n"));
    }
}

#[test]
fn bundled_default_is_defer_balanced_with_the_packs() {
    let policy = Policy::bundled();
    assert_eq!(policy.default_action(), gatehouse_core::Action::Defer);
    assert_eq!(policy.approval().timeout_secs, 3600);
    assert_eq!(policy.approval().headless, Headless::Deny);
    assert!(policy.rule_count() >= 15, "{}", policy.rule_count());
}

#[test]
fn bundled_pack_tests_pass() {
    let results = run_bundled().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let mut total = 0;
    for pack in &results {
        for o in &pack.outcomes {
            total += 1;
            if !o.passed {
                failures.push(o.describe_failure(&format!("bundled:{}", pack.name)));
            }
        }
    }
    assert!(total >= 50, "only {total} bundled tests");
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
