//! What the router tests share: a daemon state over a temp database with an
//! agent and an admin token, and one request helper.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_policy::Policy;
use gatehouse_server::{AppState, LocalToken, Role, ServerConfig, hash_token};
use gatehouse_store::SqliteStore;
use tower::ServiceExt;

/// The agent's bearer token.
pub const AGENT: &str = "gh_agent-secret";
/// The admin's bearer token.
pub const ADMIN: &str = "gh_admin-secret";

/// A started daemon state in `dir` deciding with `policy`.
pub fn state(dir: &std::path::Path, policy: Policy) -> AppState {
    let db = dir.join("gatehouse.db");
    let audit = Arc::new(SqliteStore::open(&db).expect("open audit store"));
    gatehouse_server::start(ServerConfig {
        db_path: db,
        audit,
        policy,
        reload: None,
        local_tokens: vec![
            LocalToken {
                name: "agent".into(),
                role: Role::Agent,
                hash: hash_token(AGENT),
            },
            LocalToken {
                name: "admin".into(),
                role: Role::Admin,
                hash: hash_token(ADMIN),
            },
        ],
        disconnect_grace_secs: 1,
    })
    .expect("start")
}

/// Sends one request (bearer `token`, JSON `body`) and returns status and body text.
pub async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Body::from(body.unwrap_or("").to_owned()))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
