//! `POST /v1/decisions`: submit a tool call for a decision.

use axum::Json;
use axum::extract::State;
use gatehouse_core::{CallContext, ToolCall, ToolClass};
use gatehouse_store::daemon_store::Role;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, Submitted};

/// A call as submitted: the tool, its arguments, optionally what a connector
/// already extracted, and where it comes from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// Raw tool name (`Bash`, `send_refund`).
    pub tool: String,
    /// Tool class; inferred from the name when absent.
    #[serde(default)]
    pub class: Option<ToolClass>,
    /// Arguments.
    #[serde(default)]
    pub input: Value,
    /// Shell command, when the connector extracted it.
    #[serde(default)]
    pub command: Option<String>,
    /// Paths read or written, when the connector extracted them.
    #[serde(default)]
    pub paths: Vec<String>,
    /// URLs fetched, when the connector extracted them.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Where the call comes from.
    #[serde(default)]
    pub context: ContextBody,
    /// Cancel the approval if every waiter goes away for longer than the grace period.
    #[serde(default)]
    pub cancel_on_disconnect: bool,
}

/// [`CallContext`] without `now`: the daemon's clock decides.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextBody {
    pub session: Option<String>,
    pub host_session_id: Option<String>,
    pub cwd: Option<String>,
    pub home: Option<String>,
    pub host: Option<String>,
    pub agent: Option<String>,
}

/// Decide the call; an `ask` answers with the pending approval to wait on.
pub async fn submit(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<SubmitBody>,
) -> Result<Json<Submitted>, ApiError> {
    caller.require(Role::Agent)?;
    if body.tool.is_empty() {
        return Err(ApiError::BadRequest("`tool` must not be empty".into()));
    }
    let class = body.class.unwrap_or_else(|| ToolClass::infer(&body.tool));
    let mut call = ToolCall::new(body.tool, class, body.input);
    if body.command.is_some() {
        call.command = body.command;
    }
    if !body.paths.is_empty() {
        call.paths = body.paths;
    }
    if !body.urls.is_empty() {
        call.urls = body.urls;
    }
    let c = body.context;
    let ctx = CallContext {
        now: gatehouse_core::Timestamp(0),
        session: c.session,
        host_session_id: c.host_session_id,
        cwd: c.cwd,
        home: c.home,
        host: c.host.or_else(|| Some("http".into())),
        agent: c.agent,
    };
    let out = s
        .decide(call, ctx, &caller, body.cancel_on_disconnect)
        .await?;
    Ok(Json(out))
}
