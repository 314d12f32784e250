//! Health, metrics, the OpenAPI document, and who the caller is.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::auth::Caller;
use crate::state::AppState;

/// `GET /healthz`: 200 while the daemon serves.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /metrics`: Prometheus text. Unauthenticated, like most exporters, and
/// free of call contents: counts only.
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let text = s
        .metrics()
        .render(s.registry().pending_count(), s.is_locked_down());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// `GET /v1/openapi.json`: the API description.
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
}

/// `GET /v1/whoami`: the caller's identity, role and channel.
pub async fn whoami(caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "name": caller.name,
        "role": caller.role.as_str(),
        "channel": caller.channel.as_str(),
    }))
}
