//! The proxy's own work per `tools/call` on the allow path, without the
//! transport: route the client's frame (parse, classify, evaluate against the
//! MCP test policy) and the server's answer. The end-to-end added latency
//! (pipes, scheduling) is measured by tests/mcp/bench.py.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_core::CallContext;
use gatehouse_mcp::{ClientAction, Gate, Proxy};
use gatehouse_policy::Policy;

fn route(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/mcp/policy.yaml"
    ))
    .unwrap_or_default();
    let policy = Policy::load(&text, "tests/mcp/policy.yaml").unwrap_or_else(|_| Policy::bundled());
    let mut proxy = Proxy::new(Gate::new("fx", Arc::new(policy)), true);
    let ctx = CallContext::default();
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}}"#;
    let answer = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}}"#;
    c.bench_function("mcp_route_allowed_tools_call_round_trip", |b| {
        b.iter(|| {
            let step = proxy.on_client_frame(std::hint::black_box(call), &ctx);
            assert_eq!(step.action, ClientAction::Forward);
            proxy.on_server_frame(std::hint::black_box(answer), &ctx)
        })
    });
}

criterion_group!(benches, route);
criterion_main!(benches);
