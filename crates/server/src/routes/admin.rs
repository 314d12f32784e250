//! Admin routes: grants, lockdown, tokens, policy reload, audit queries.

use axum::Json;
use axum::extract::{Path, Query, State};
use gatehouse_core::approval::Grant;
use gatehouse_store::AuditQuery;
use gatehouse_store::daemon_store::{Role, TokenRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /v1/grants`: active session grants.
pub async fn grants(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Grant>>, ApiError> {
    caller.require(Role::Approver)?;
    Ok(Json(s.grants()))
}

/// `DELETE /v1/grants/{id}`: revoke a grant now.
pub async fn revoke_grant(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Grant>, ApiError> {
    caller.require(Role::Admin)?;
    Ok(Json(s.revoke_grant(&id, &caller).await?))
}

/// `GET /v1/lockdown`: `{"on": bool}`.
pub async fn get_lockdown(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Agent)?;
    Ok(Json(json!({ "on": s.is_locked_down() })))
}

/// `{"on": bool}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockdownBody {
    pub on: bool,
}

/// `PUT /v1/lockdown`: switch the kill switch (admin).
pub async fn put_lockdown(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<LockdownBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    s.set_lockdown(body.on, &caller).await?;
    Ok(Json(json!({ "on": body.on })))
}

/// `GET /v1/tokens`: names, roles, dates; never secrets or hashes.
pub async fn tokens(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenRecord>>, ApiError> {
    caller.require(Role::Admin)?;
    Ok(Json(s.tokens()))
}

/// `{"name": "...", "role": "agent|approver|admin"}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub name: String,
    pub role: Role,
}

/// `POST /v1/tokens`: the secret is in the answer, once.
pub async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<TokenBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    let secret = s.create_token(&body.name, body.role, &caller).await?;
    Ok(Json(
        json!({ "name": body.name, "role": body.role.as_str(), "token": secret }),
    ))
}

/// `DELETE /v1/tokens/{name}`.
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    s.revoke_token(&name, &caller).await?;
    Ok(Json(json!({ "name": name, "revoked": true })))
}

/// `POST /v1/policy/reload`: load the policy again; a broken one keeps the old in force.
pub async fn reload_policy(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin)?;
    s.reload_policy().map_err(|e| {
        ApiError::BadRequest(format!(
            "policy not reloaded, the old one stays in force: {e}"
        ))
    })?;
    Ok(Json(json!({ "reloaded": true })))
}

/// `?limit=100&approval_id=...&session=...`
#[derive(Debug, Deserialize)]
pub struct AuditParams {
    pub limit: Option<usize>,
    pub approval_id: Option<String>,
    pub session: Option<String>,
    pub tool: Option<String>,
}

/// `GET /v1/audit`: the newest audit records, filtered, newest first.
pub async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> Result<Json<Vec<Value>>, ApiError> {
    caller.require(Role::Approver)?;
    let query = AuditQuery {
        limit: Some(q.limit.unwrap_or(100).min(10_000)),
        newest: true,
        approval_id: q.approval_id,
        session: q.session,
        tool: q.tool,
        ..AuditQuery::default()
    };
    let entries = s
        .audit()
        .query(&query)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(
        entries
            .into_iter()
            .rev()
            .map(|e| json!({ "seq": e.seq, "hash": e.hash.to_hex(), "record": e.record }))
            .collect(),
    ))
}
