//! The stdio event loop against real child processes (a shell that echoes
//! every line back, or one that exits mid-call), with the client side on an
//! in-memory pipe.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::{Action, CallContext, Decision, ToolCall};
use gatehouse_mcp::audit::NoAudit;
use gatehouse_mcp::hold::Fixed;
use gatehouse_mcp::stdio::{self, Ending, StdioOptions};
use gatehouse_mcp::{Gate, HoldOutcome, Proxy};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

fn rules(call: &ToolCall, _: &CallContext) -> Decision {
    match call.tool.as_str() {
        "mcp__t__rm" => Decision::bare(Action::Deny, "no rm"),
        "mcp__t__ask" => Decision::bare(Action::Ask, "needs a person"),
        _ => Decision::bare(Action::Allow, "fine"),
    }
}

struct Harness {
    to_proxy: DuplexStream,
    from_proxy: BufReader<DuplexStream>,
    run: tokio::task::JoinHandle<Ending>,
}

fn start(script: &str, hold: HoldOutcome) -> Harness {
    let (to_proxy, proxy_in) = tokio::io::duplex(1 << 16);
    let (proxy_out, from_proxy) = tokio::io::duplex(1 << 16);
    let child =
        stdio::spawn_upstream(&["sh".into(), "-c".into(), script.into()]).expect("spawn sh");
    let proxy = Proxy::new(Gate::new("t", Arc::new(rules)), true);
    let options = StdioOptions {
        progress_interval: Duration::from_secs(60),
        context: CallContext::default(),
    };
    let run = tokio::spawn(stdio::run(
        proxy,
        Arc::new(Fixed(hold)),
        Arc::new(NoAudit),
        child,
        proxy_in,
        proxy_out,
        options,
    ));
    Harness {
        to_proxy,
        from_proxy: BufReader::new(from_proxy),
        run,
    }
}

impl Harness {
    async fn send(&mut self, v: Value) {
        let line = format!("{v}\n");
        self.to_proxy
            .write_all(line.as_bytes())
            .await
            .expect("write");
    }

    async fn recv(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            self.from_proxy.read_line(&mut line),
        )
        .await
        .expect("an answer in time")
        .expect("read");
        line.trim_end().to_owned()
    }
}

fn call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":{"k":"v"}}})
}

/// `cat` as the server: whatever reaches it comes back, so the client sees
/// exactly which frames were forwarded, byte for byte.
const ECHO: &str = "exec cat";

#[tokio::test]
async fn forwarded_frames_arrive_unchanged_and_denied_ones_never_reach_the_server() {
    let mut h = start(ECHO, HoldOutcome::Approved);
    // Unusual spacing and key order must survive the trip untouched.
    let odd = r#"{ "method":"ping" ,"jsonrpc":"2.0","id":"x-1" ,"params":{}}"#;
    h.to_proxy
        .write_all(format!("{odd}\n").as_bytes())
        .await
        .expect("write");
    assert_eq!(h.recv().await, odd);
    h.send(call(1, "rm")).await;
    let denied: Value = serde_json::from_str(&h.recv().await).expect("json");
    assert_eq!(denied["id"], json!(1));
    assert_eq!(denied["result"]["isError"], json!(true));
    // The next frame back is the allowed call's echo: the denied one never reached cat.
    h.send(call(2, "ls")).await;
    let echoed: Value = serde_json::from_str(&h.recv().await).expect("json");
    assert_eq!(echoed, call(2, "ls"));
    // An approved ask is forwarded as originally sent.
    h.send(call(3, "ask")).await;
    let echoed: Value = serde_json::from_str(&h.recv().await).expect("json");
    assert_eq!(echoed, call(3, "ask"));
    drop(h.to_proxy);
    let ending = tokio::time::timeout(Duration::from_secs(10), h.run)
        .await
        .expect("stops")
        .expect("no panic");
    assert!(matches!(ending, Ending::ClientClosed), "{ending:?}");
}

#[tokio::test]
async fn denied_ask_is_answered_with_the_reason() {
    let mut h = start(ECHO, HoldOutcome::Denied("nobody is around".into()));
    h.send(call(7, "ask")).await;
    let v: Value = serde_json::from_str(&h.recv().await).expect("json");
    assert_eq!(v["id"], json!(7));
    assert_eq!(
        v["result"]["content"][0]["text"],
        json!("gatehouse denied mcp__t__ask: nobody is around")
    );
}

#[tokio::test]
async fn upstream_exit_answers_pending_requests_and_ends_the_run() {
    // Reads one request, then exits with status 3 without answering.
    let mut h = start("read line; exit 3", HoldOutcome::Approved);
    h.send(call(9, "ls")).await;
    let v: Value = serde_json::from_str(&h.recv().await).expect("json");
    assert_eq!(v["id"], json!(9));
    assert_eq!(
        v["error"]["code"],
        json!(gatehouse_mcp::message::UPSTREAM_GONE)
    );
    let ending = tokio::time::timeout(Duration::from_secs(10), h.run)
        .await
        .expect("stops")
        .expect("no panic");
    match ending {
        Ending::UpstreamExited(Some(status)) => assert_eq!(status.code(), Some(3)),
        other => panic!("expected the upstream's exit, got {other:?}"),
    }
}
