//! Property tests: loading arbitrary text and evaluating arbitrary calls
//! never panic (errors and decisions, always).

use gatehouse_core::{CallContext, ToolCall};
use gatehouse_policy::Policy;
use proptest::prelude::*;
use serde_json::json;

const FRAGMENTS: &[&str] = &[
    "version: 1\n",
    "rules:\n",
    "  - name: x\n",
    "    match: {",
    "tool: exec",
    "command: \"rm *\"",
    "path: [\"**/.env\", \"~/x/**\"]",
    "args: {a: {gt: 1}}",
    "}\n",
    "    action: deny\n",
    "    severity: high\n",
    "tests:\n",
    "  - call: {command: ls}\n",
    "    expect: ask\n",
    "[",
    "{",
    ": ",
    "- ",
    "\"",
    "'",
    "\t",
    "\n",
    "&a ",
    "*a ",
    "!!str ",
    "---\n",
    "presets: [balanced]\n",
    "default: defer\n",
    "approval: {timeout: 5m}\n",
    "domain: x.com",
    "session: \"a/*\"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn loading_any_text_never_panics(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..40), noise in ".{0,40}") {
        let mut text: String = parts.iter().filter_map(|i| FRAGMENTS.get(*i).copied()).collect();
        text.push_str(&noise);
        let _ = Policy::load(&text, "fuzz.yaml");
        let _ = gatehouse_policy::lint::lint(&text, "fuzz.yaml");
    }

    #[test]
    fn evaluating_any_call_never_panics(
        command in ".{0,80}",
        path in "[~./a-z{}$*]{0,30}",
        tool in "(Bash|Read|Write|WebFetch|mcp__a__b|send_refund|)",
        cwd in proptest::option::of("(/|/home/u|relative|/a/../..)"),
    ) {
        let policy = Policy::bundled();
        let ctx = CallContext { cwd, home: Some("/home/u".into()), ..CallContext::default() };
        let _ = policy.evaluate(&ToolCall::exec(command.clone()), &ctx);
        let call = ToolCall::infer(tool, json!({"command": command, "file_path": path, "url": path, "amount": path}));
        let _ = policy.evaluate(&call, &ctx);
    }
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_stack_overflow() {
    for depth in [1_000usize, 100_000] {
        let text = format!(
            "version: 1\nrules: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(Policy::load(&text, "deep.yaml").is_err(), "depth {depth}");
        let text = format!(
            "version: 1\nrules:\n{}",
            (0..depth.min(5_000))
                .map(|i| format!("{}- x\n", " ".repeat(i)))
                .collect::<String>()
        );
        assert!(
            Policy::load(&text, "deep.yaml").is_err(),
            "block depth {depth}"
        );
    }
}
