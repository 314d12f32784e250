//! Held approvals through the router: long-poll, SSE, resume by id, roles.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ADMIN, AGENT};
use gatehouse_policy::Policy;
use serde_json::Value;
use tower::ServiceExt;

const POLICY: &str = r#"
version: 1
default: allow
rules:
  - name: refunds
    match: { tool: send_refund, args: { amount: { gt: 1000 } } }
    action: ask
"#;

fn app(dir: &std::path::Path) -> axum::Router {
    let policy = Policy::load(POLICY, "test.yaml").expect("policy");
    gatehouse_server::router(common::state(dir, policy))
}

/// One request as `token`; the body parsed as JSON (or kept as a string).
async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (StatusCode, Value) {
    let (status, text) = common::send(app, method, path, Some(token), Some(body)).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `POST /v1/approvals/{id}/{verb}` (approve, deny, cancel) as `token`.
async fn resolve(
    app: &axum::Router,
    id: &str,
    verb: &str,
    token: &str,
    body: &str,
) -> (StatusCode, Value) {
    call(
        app,
        "POST",
        &format!("/v1/approvals/{id}/{verb}"),
        token,
        body,
    )
    .await
}

async fn submit_refund(app: &axum::Router, amount: u64) -> Value {
    let body = format!(
        r#"{{"tool":"send_refund","input":{{"amount":{amount}}},"context":{{"session":"billing"}}}}"#
    );
    let (status, v) = call(app, "POST", "/v1/decisions", AGENT, &body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn small_refund_is_allowed_large_one_is_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path());
    assert_eq!(submit_refund(&app, 10).await["action"], "allow");
    let held = submit_refund(&app, 5000).await;
    assert_eq!(held["action"], "ask");
    assert_eq!(held["approval"]["status"], "pending");
    assert_eq!(held["approval"]["decision"]["rules"][0]["name"], "refunds");
    assert_eq!(held["approval"]["context"]["session"], "billing");
}

#[tokio::test]
async fn long_poll_returns_pending_at_timeout_then_the_final_state_on_resume() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path());
    let id = submit_refund(&app, 5000).await["approval"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let wait = format!("/v1/approvals/{id}/wait?timeout=1");
    let (_, v) = call(&app, "GET", &wait, AGENT, "").await;
    assert_eq!(v["status"], "pending");

    // A waiter is woken by the resolution, not by its timeout.
    let waiter = {
        let app = app.clone();
        let wait = format!("/v1/approvals/{id}/wait?timeout=60");
        tokio::spawn(async move { call(&app, "GET", &wait, AGENT, "").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, v) = resolve(&app, &id, "deny", ADMIN, r#"{"reason":"over budget"}"#).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, v) = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("waiter woken")
        .expect("join");
    assert_eq!(v["status"], "denied");
    assert_eq!(v["action"], "deny");
    assert!(
        v["outcome"].as_str().unwrap_or("").contains("over budget"),
        "{v}"
    );

    // Resuming after the fact answers at once with the final state.
    let (_, v) = call(&app, "GET", &wait, AGENT, "").await;
    assert_eq!(v["status"], "denied");
    // And nothing changes a final approval.
    let (status, _) = resolve(&app, &id, "approve", ADMIN, "{}").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn event_stream_sends_the_current_state_then_the_final_one_and_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path());
    let id = submit_refund(&app, 5000).await["approval"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let stream = {
        let app = app.clone();
        let path = format!("/v1/approvals/{id}/events");
        tokio::spawn(async move {
            let req = Request::builder()
                .uri(path)
                .header("authorization", format!("Bearer {AGENT}"))
                .body(Body::empty())
                .expect("request");
            let resp = app.oneshot(req).await.expect("response");
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .expect("stream");
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _) = resolve(&app, &id, "approve", ADMIN, r#"{"reason":"ok"}"#).await;
    assert_eq!(status, StatusCode::OK);
    let text = tokio::time::timeout(Duration::from_secs(5), stream)
        .await
        .expect("stream ended after the final state")
        .expect("join");
    let events: Vec<&str> = text.lines().filter(|l| l.starts_with("data:")).collect();
    assert_eq!(events.len(), 2, "{text}");
    assert!(events[0].contains(r#""status":"pending""#));
    assert!(events[1].contains(r#""status":"approved""#));
}

#[tokio::test]
async fn agent_may_cancel_its_own_call_but_not_list_or_approve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path());
    let id = submit_refund(&app, 5000).await["approval"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = resolve(&app, &id, "approve", AGENT, "{}").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, v) = resolve(&app, &id, "cancel", AGENT, r#"{"reason":"not needed"}"#).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "cancelled");
    let (_, audit) = call(&app, "GET", "/v1/audit?limit=10", ADMIN, "").await;
    let outcomes: Vec<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["record"]["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, vec!["cancelled", "refused"], "{audit}");
}
