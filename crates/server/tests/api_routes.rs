//! The router serves every documented route and the OpenAPI document
//! describes every served route; auth and roles hold on each.

mod common;

use axum::http::StatusCode;
use common::{ADMIN, AGENT, send as call};
use gatehouse_policy::Policy;

fn state(dir: &std::path::Path) -> gatehouse_server::AppState {
    common::state(dir, Policy::bundled())
}

#[test]
fn openapi_document_describes_every_route() {
    let doc: serde_json::Value =
        serde_json::from_str(gatehouse_server::openapi::DOCUMENT).expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path) in gatehouse_server::ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is served but missing from openapi.json"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|p| p.as_object().map_or(0, |m| m.len()))
        .sum();
    assert_eq!(
        documented,
        gatehouse_server::ROUTES.len(),
        "openapi.json documents routes the router does not serve"
    );
}

#[tokio::test]
async fn every_route_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = gatehouse_server::router(state(dir.path()));
    for (method, path) in gatehouse_server::ROUTES {
        let concrete = path.replace("{id}", "nope").replace("{name}", "nope");
        let (status, body) = call(
            &app,
            &method.to_uppercase(),
            &concrete,
            Some(ADMIN),
            Some("{}"),
        )
        .await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        // 404 only as the API's own JSON answer about a missing object, never a missing route.
        if status == StatusCode::NOT_FOUND {
            assert!(body.contains("\"error\""), "{method} {path} is not routed");
        }
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = gatehouse_server::router(state(dir.path()));
    let (status, _) = call(&app, "GET", "/v1/approvals?status=pending", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&app, "GET", "/v1/approvals", Some("gh_wrong"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&app, "GET", "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn agent_tokens_cannot_list_lock_or_mint_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = gatehouse_server::router(state(dir.path()));
    for (method, path, body) in [
        ("GET", "/v1/approvals", None),
        ("PUT", "/v1/lockdown", Some(r#"{"on":false}"#)),
        ("POST", "/v1/tokens", Some(r#"{"name":"x","role":"admin"}"#)),
        ("GET", "/v1/audit", None),
    ] {
        let (status, body) = call(&app, method, path, Some(AGENT), body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn lockdown_denies_every_call_and_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = gatehouse_server::router(state(dir.path()));
    let submit = r#"{"tool":"Read","input":{"file_path":"/tmp/x"}}"#;
    let (status, body) = call(&app, "POST", "/v1/decisions", Some(AGENT), Some(submit)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains(r#""action":"deny""#), "{body}");

    let (status, _) = call(
        &app,
        "PUT",
        "/v1/lockdown",
        Some(ADMIN),
        Some(r#"{"on":true}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = call(&app, "POST", "/v1/decisions", Some(AGENT), Some(submit)).await;
    assert!(body.contains(r#""action":"deny""#), "{body}");
    assert!(body.contains("lockdown"), "{body}");

    let (_, audit) = call(&app, "GET", "/v1/audit?limit=10", Some(ADMIN), None).await;
    let entries: Vec<serde_json::Value> = serde_json::from_str(&audit).expect("audit JSON");
    assert_eq!(entries.len(), 3, "{audit}");
    assert_eq!(entries[0]["record"]["decision"], "deny");
    assert_eq!(entries[1]["record"]["outcome"], "on");
    assert_eq!(entries[1]["record"]["actor"], "admin");

    let (_, metrics) = call(&app, "GET", "/metrics", None, None).await;
    assert!(
        metrics.contains("gatehouse_decisions_total{action=\"deny\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("gatehouse_lockdown 1"), "{metrics}");
}

#[tokio::test]
async fn tokens_are_created_once_listed_without_secrets_and_revoked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = gatehouse_server::router(state(dir.path()));
    let (status, body) = call(
        &app,
        "POST",
        "/v1/tokens",
        Some(ADMIN),
        Some(r#"{"name":"alice","role":"approver"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let secret = v["token"].as_str().expect("secret").to_owned();
    let (status, who) = call(&app, "GET", "/v1/whoami", Some(&secret), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(who.contains(r#""role":"approver""#), "{who}");
    let (status, _) = call(
        &app,
        "POST",
        "/v1/tokens",
        Some(ADMIN),
        Some(r#"{"name":"alice","role":"admin"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, list) = call(&app, "GET", "/v1/tokens", Some(ADMIN), None).await;
    assert!(
        list.contains("alice") && !list.contains(&secret) && !list.contains("hash"),
        "{list}"
    );
    let (status, _) = call(&app, "DELETE", "/v1/tokens/alice", Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, "GET", "/v1/whoami", Some(&secret), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
