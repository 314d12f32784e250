//! The gatehouse daemon: held approvals behind an HTTP API.
//!
//! [`run`] serves on a listener it is handed, with a [`ServerConfig`] it is
//! handed, until a shutdown future completes (the `run(listener, shutdown)`
//! shape of tokio's mini-redis). It reads no environment variables and no
//! files of its own: the binary resolves paths, loads the policy, watches it
//! and passes reloads in through [`ServerConfig::reload`].
//!
//! Inside: an in-memory registry of approvals whose waiters are woken by a
//! `tokio::sync::watch` channel per approval; a single writer thread that
//! groups audit records and state changes into one SQLite transaction per
//! batch (a request is answered only after its batch commits); an expiry
//! sweep; Prometheus metrics.

pub mod auth;
mod clock;
pub mod dashboard;
mod error;
mod expiry;
mod metrics;
pub mod openapi;
mod registry;
mod routes;
mod state;
mod writer;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use gatehouse_policy::Policy;
pub use gatehouse_store::AuditStore;
use tokio::net::TcpListener;

pub use auth::{LocalToken, hash_token, new_token};
pub use gatehouse_store::daemon_store::Role;
pub use routes::{ROUTES, router};
pub use state::AppState;

/// Loads the policy again (from wherever the binary got it) for `POST /v1/policy/reload`.
pub type ReloadFn = Arc<dyn Fn() -> Result<Policy, String> + Send + Sync>;

/// Everything the daemon needs, resolved by the caller.
pub struct ServerConfig {
    /// SQLite file for approvals, grants, tokens and lockdown (created if missing).
    pub db_path: PathBuf,
    /// The audit log: decisions and every approval transition are appended
    /// to its one hash chain, and `GET /v1/audit` reads it.
    pub audit: Arc<dyn AuditStore>,
    /// The policy in force at start.
    pub policy: Policy,
    /// Reloads the policy on request; `None` disables `POST /v1/policy/reload`.
    pub reload: Option<ReloadFn>,
    /// Tokens that must exist (the local credentials), upserted at start.
    pub local_tokens: Vec<LocalToken>,
    /// Seconds a disconnected waiter of a `cancel_on_disconnect` approval has
    /// to come back before the approval is cancelled.
    pub disconnect_grace_secs: u64,
}

/// A failure to start the daemon.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the daemon database: {0}")]
    Store(#[from] gatehouse_store::daemon_store::DaemonStoreError),
    #[error("cannot start the writer thread: {0}")]
    Writer(std::io::Error),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Serve the API on `listener` until `shutdown` completes.
///
/// Returns the [`AppState`] handle early through `on_ready` so the binary can
/// swap in reloaded policies; see [`start`] for that.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let state = start(config)?;
    serve(listener, state, shutdown).await
}

/// Open storage, restore pending approvals and start the background tasks;
/// the returned handle is what [`serve`] serves and what reloads go through.
pub fn start(config: ServerConfig) -> Result<AppState, ServerError> {
    state::AppState::open(config)
}

/// Serve `state` on `listener` until `shutdown` completes, then flush the writer.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let sweeper = tokio::spawn(expiry::sweep(state.clone()));
    let app = routes::router(state.clone()).merge(dashboard::router(state.clone()));
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stop_waiters(shutdown, state.clone()))
    .await
    .map_err(ServerError::Serve);
    sweeper.abort();
    result
}

/// Completes with `shutdown`, after telling long-polls and event streams to
/// answer now, so graceful shutdown does not wait out their timeouts; their
/// callers resume with the same id against the next daemon.
async fn stop_waiters(shutdown: impl Future<Output = ()>, state: AppState) {
    shutdown.await;
    state.shutdown().await;
}
