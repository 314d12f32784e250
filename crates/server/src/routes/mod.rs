//! The HTTP API: `/v1/...` JSON routes, `/healthz`, `/metrics`.

mod admin;
mod approvals;
mod decisions;
mod ops;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// Largest request body accepted: a 1 MB here-doc in a command must still be analysed.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Every route as (method, path in OpenAPI form). The OpenAPI document must
/// describe each; a test checks both that and that the router serves each.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/decisions"),
    ("get", "/v1/approvals"),
    ("get", "/v1/approvals/{id}"),
    ("get", "/v1/approvals/{id}/wait"),
    ("get", "/v1/approvals/{id}/events"),
    ("post", "/v1/approvals/{id}/approve"),
    ("post", "/v1/approvals/{id}/deny"),
    ("post", "/v1/approvals/{id}/cancel"),
    ("get", "/v1/grants"),
    ("delete", "/v1/grants/{id}"),
    ("get", "/v1/lockdown"),
    ("put", "/v1/lockdown"),
    ("get", "/v1/tokens"),
    ("post", "/v1/tokens"),
    ("delete", "/v1/tokens/{name}"),
    ("post", "/v1/policy/reload"),
    ("get", "/v1/audit"),
    ("get", "/v1/whoami"),
];

/// The daemon's router over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/v1/openapi.json", get(ops::openapi))
        .route("/v1/whoami", get(ops::whoami))
        .route("/v1/decisions", post(decisions::submit))
        .route("/v1/approvals", get(approvals::list))
        .route("/v1/approvals/{id}", get(approvals::show))
        .route("/v1/approvals/{id}/wait", get(approvals::wait))
        .route("/v1/approvals/{id}/events", get(approvals::events))
        .route("/v1/approvals/{id}/approve", post(approvals::approve))
        .route("/v1/approvals/{id}/deny", post(approvals::deny))
        .route("/v1/approvals/{id}/cancel", post(approvals::cancel))
        .route("/v1/grants", get(admin::grants))
        .route("/v1/grants/{id}", delete(admin::revoke_grant))
        .route(
            "/v1/lockdown",
            get(admin::get_lockdown).put(admin::put_lockdown),
        )
        .route("/v1/tokens", get(admin::tokens).post(admin::create_token))
        .route("/v1/tokens/{name}", delete(admin::revoke_token))
        .route("/v1/policy/reload", post(admin::reload_policy))
        .route("/v1/audit", get(admin::audit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
