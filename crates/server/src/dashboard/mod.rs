//! The web dashboard for approvers, served by the daemon at `/`.
//!
//! Plain HTML/CSS/JS embedded in the binary (no CDN, works offline) talking
//! to a small JSON API under `/ui/api`. People authenticate with a password
//! and a TOTP code; a session lives in an HttpOnly, SameSite=Strict cookie and
//! every state-changing request must carry the session's CSRF token. Actions
//! go through the same [`AppState`] operations as the bearer-token API, with
//! channel `dashboard` and the user's name as the approver.

mod api;
mod assets;
pub mod credentials;
mod insights;
mod login;
mod session;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use gatehouse_store::users::UserStore;

use crate::state::AppState;

/// What every dashboard handler gets: the daemon's state, the users table and
/// the login rate limiter.
#[derive(Clone)]
pub(crate) struct Dash {
    /// The daemon: approvals, grants, lockdown, audit, policy.
    app: AppState,
    /// Users and sessions; `None` when the table could not be opened (every
    /// login then fails closed with 503).
    users: Arc<Mutex<Option<UserStore>>>,
    /// Failed logins per (user, address).
    limiter: Arc<login::RateLimiter>,
}

impl Dash {
    fn new(app: AppState) -> Dash {
        let users = match UserStore::open(app.db_path()) {
            Ok(u) => Some(u),
            Err(e) => {
                tracing::error!("dashboard logins are disabled: {e}");
                None
            }
        };
        Dash {
            app,
            users: Arc::new(Mutex::new(users)),
            limiter: Arc::new(login::RateLimiter::default()),
        }
    }
}

/// The dashboard's routes over the daemon's `state`, to merge into its router.
pub fn router(state: AppState) -> Router {
    let dash = Dash::new(state);
    Router::new()
        .route("/", get(assets::index))
        .route("/ui/api/login", get(login::start).post(login::login))
        .route("/ui/api/logout", post(login::logout))
        .route("/ui/api/me", get(login::me))
        .route("/ui/api/pending", get(api::pending))
        .route("/ui/api/stream", get(api::stream))
        .route("/ui/api/approvals/{id}", get(api::context))
        .route("/ui/api/approvals/{id}/approve", post(api::approve))
        .route("/ui/api/approvals/{id}/deny", post(api::deny))
        .route("/ui/api/history", get(api::history))
        .route("/ui/api/verify", get(api::verify))
        .route("/ui/api/insights", get(api::insights))
        .route("/ui/api/policy", get(api::policy))
        .route("/ui/api/grants/{id}/revoke", post(api::revoke_grant))
        .route("/ui/api/lockdown", post(api::lockdown))
        .layer(axum::middleware::map_response(assets::security_headers))
        .with_state(dash)
}
