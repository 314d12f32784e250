//! Policy evaluation cost: typical calls against the bundled policy, and how
//! it grows with 100 / 1,000 / 10,000 generated rules.
//!
//! Run: `cargo bench -p gatehouse-policy --bench evaluate`.
//! `full` includes the shell analysis of the command line; `policy_only`
//! evaluates a pre-analysed call (what the policy engine itself costs).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gatehouse_core::{CallContext, ToolCall};
use gatehouse_policy::Policy;
use serde_json::json;

fn ctx() -> CallContext {
    CallContext {
        cwd: Some("/home/user/project".into()),
        home: Some("/home/user".into()),
        session: Some("project/main".into()),
        ..CallContext::default()
    }
}

/// A policy with `n` rules: mostly command rules on distinct programs, some
/// wildcard command rules, path rules and tool rules, plus the balanced preset.
fn generated(n: usize) -> Policy {
    let mut yaml = String::from("version: 1\ndefault: defer\npresets: [balanced]\nrules:\n");
    for i in 0..n {
        let rule = match i % 10 {
            0..=6 => format!(
                "  - name: cmd-{i}\n    match: {{ tool: exec, command: [\"tool{i} deploy *\", \"tool{i} delete --all*\"] }}\n    action: ask\n"
            ),
            7 => format!(
                "  - name: wild-{i}\n    match: {{ command: \"*--secret-{i}*\" }}\n    action: deny\n"
            ),
            8 => format!(
                "  - name: path-{i}\n    match: {{ tool: read, path: \"/srv/data{i}/**\" }}\n    severity: high\n"
            ),
            _ => format!(
                "  - name: api-{i}\n    match: {{ tool: api_{i}, args: {{ amount: {{ gt: {i} }} }} }}\n    action: ask\n"
            ),
        };
        yaml.push_str(&rule);
    }
    Policy::load(&yaml, "generated.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn typical_bash() -> ToolCall {
    ToolCall::infer(
        "Bash",
        json!({"command": "git status && cargo test --workspace 2>&1 | tail -n 20"}),
    )
}

fn bench_bundled(c: &mut Criterion) {
    let policy = Policy::bundled();
    let ctx = ctx();
    let bash = typical_bash();
    let analysis = gatehouse_shell::analyze(bash.command.as_deref().unwrap_or(""));
    let env = ToolCall::infer("Bash", json!({"command": "cat app/.env"}));
    let read = ToolCall::infer(
        "Read",
        json!({"file_path": "/home/user/project/src/main.rs"}),
    );
    let mut g = c.benchmark_group("bundled");
    g.bench_function("bash_typical/full", |b| {
        b.iter(|| policy.evaluate(black_box(&bash), &ctx))
    });
    g.bench_function("bash_typical/policy_only", |b| {
        b.iter(|| policy.evaluate_analyzed(black_box(&bash), &ctx, Some(&analysis)))
    });
    g.bench_function("bash_cat_env/full", |b| {
        b.iter(|| policy.evaluate(black_box(&env), &ctx))
    });
    g.bench_function("read/full", |b| {
        b.iter(|| policy.evaluate(black_box(&read), &ctx))
    });
    g.finish();
}

fn bench_scaling(c: &mut Criterion) {
    let ctx = ctx();
    let bash = typical_bash();
    let analysis = gatehouse_shell::analyze(bash.command.as_deref().unwrap_or(""));
    let hit = ToolCall::infer("Bash", json!({"command": "tool7 deploy prod"}));
    let hit_analysis = gatehouse_shell::analyze("tool7 deploy prod");
    let read = ToolCall::infer("Read", json!({"file_path": "/srv/data8/x/y.csv"}));
    let mut g = c.benchmark_group("rules");
    for n in [100usize, 1_000, 10_000] {
        let policy = generated(n);
        g.bench_with_input(BenchmarkId::new("bash_typical", n), &n, |b, _| {
            b.iter(|| policy.evaluate_analyzed(black_box(&bash), &ctx, Some(&analysis)))
        });
        g.bench_with_input(BenchmarkId::new("bash_matching", n), &n, |b, _| {
            b.iter(|| policy.evaluate_analyzed(black_box(&hit), &ctx, Some(&hit_analysis)))
        });
        g.bench_with_input(BenchmarkId::new("read", n), &n, |b, _| {
            b.iter(|| policy.evaluate(black_box(&read), &ctx))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("load");
    g.sample_size(10);
    g.bench_function("bundled_default", |b| {
        b.iter(|| Policy::load(gatehouse_policy::bundled::DEFAULT, "default.yaml"))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = bench_bundled, bench_scaling }
criterion_main!(benches);
