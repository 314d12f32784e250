//! Approvals: list, show, wait (long-poll or SSE), approve, deny, cancel.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use gatehouse_core::approval::{Approval, ApprovalStatus, Event};
use gatehouse_store::daemon_store::Role;
use serde::Deserialize;
use tokio::sync::watch;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, ApprovalView};

/// The longest a single long-poll is held; callers loop until their own deadline.
const MAX_WAIT_SECS: u64 = 300;
/// Default TTL of an "approve for this session" grant.
const DEFAULT_GRANT_TTL_SECS: u64 = 3600;

/// `?status=pending&limit=100`
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub limit: Option<u32>,
}

/// `GET /v1/approvals`: newest first; `status=pending` is the live queue.
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ApprovalView>>, ApiError> {
    caller.require(Role::Approver)?;
    let status = match q.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(name) => Some(ApprovalStatus::parse(name).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown status {name:?}; use pending, approved, denied, expired, cancelled or all"
            ))
        })?),
    };
    let limit = q.limit.unwrap_or(100).min(10_000);
    let list = s.list(status, limit)?;
    Ok(Json(list.iter().map(ApprovalView::from).collect()))
}

/// `GET /v1/approvals/{id}`: the full context. Agents see only their own.
pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApprovalView>, ApiError> {
    let a = s.approval(&id)?;
    if caller.role < Role::Approver && a.submitted_by != caller.name {
        return Err(ApiError::Forbidden(
            "agents may only look at approvals they submitted".into(),
        ));
    }
    Ok(Json(ApprovalView::from(&*a)))
}

/// `?timeout=30` (seconds).
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    pub timeout: Option<u64>,
}

/// Arms the cancel-on-disconnect check when a waiter goes away while pending.
struct WaiterGuard {
    state: AppState,
    id: String,
    rx: watch::Receiver<Arc<Approval>>,
}

impl Drop for WaiterGuard {
    fn drop(&mut self) {
        let a = self.rx.borrow();
        if a.status == ApprovalStatus::Pending && a.cancel_on_disconnect {
            self.state.waiter_left(self.id.clone());
        }
    }
}

fn receiver(s: &AppState, id: &str) -> Result<watch::Receiver<Arc<Approval>>, ApiError> {
    if let Some(rx) = s.registry().subscribe(id) {
        return Ok(rx);
    }
    // Resolved and evicted from memory: a closed channel holding the final state.
    let (_tx, rx) = watch::channel(s.approval(id)?);
    Ok(rx)
}

/// `GET /v1/approvals/{id}/wait?timeout=S`: long-poll. Answers as soon as the
/// approval is final, or with its pending state after `timeout` seconds (at
/// most 300); the caller then asks again with the same id. Resuming after a
/// dropped connection is the same request.
pub async fn wait(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<ApprovalView>, ApiError> {
    caller.require(Role::Agent)?;
    let timeout = Duration::from_secs(q.timeout.unwrap_or(30).min(MAX_WAIT_SECS));
    let mut guard = WaiterGuard {
        state: s.clone(),
        id: id.clone(),
        rx: receiver(&s, &id)?,
    };
    let mut stop = s.shutdown_signal();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        let current = guard.rx.borrow_and_update().clone();
        if current.status.is_final() || *stop.borrow() {
            return Ok(Json(ApprovalView::from(&*current)));
        }
        tokio::select! {
            changed = guard.rx.changed() => if changed.is_err() { break },
            _ = &mut deadline => break,
            _ = stop.changed() => break,
        }
    }
    let current = guard.rx.borrow().clone();
    Ok(Json(ApprovalView::from(&*current)))
}

/// `GET /v1/approvals/{id}/events`: server-sent events, one `approval` event
/// with the full state now and after every change; the stream ends after the
/// final state. Reconnecting with the same id resumes (the first event is the
/// current state, final if it was resolved meanwhile).
pub async fn events(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    caller.require(Role::Agent)?;
    let guard = WaiterGuard {
        state: s.clone(),
        id: id.clone(),
        rx: receiver(&s, &id)?,
    };
    let stop = s.shutdown_signal();
    let stream = futures_util::stream::unfold(
        (guard, stop, true, false),
        |(mut guard, mut stop, first, done)| async move {
            if done {
                return None;
            }
            if !first {
                tokio::select! {
                    changed = guard.rx.changed() => changed.ok()?,
                    _ = stop.changed() => return None,
                }
            }
            let current = guard.rx.borrow_and_update().clone();
            let done = current.status.is_final();
            let data = serde_json::to_string(&ApprovalView::from(&*current)).unwrap_or_default();
            let event = SseEvent::default().event("approval").data(data);
            Some((Ok(event), (guard, stop, false, done)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// A duration as seconds or as text (`"1h"`, `"30m"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Ttl {
    Secs(u64),
    Text(String),
}

impl Ttl {
    fn secs(&self) -> Result<u64, ApiError> {
        match self {
            Ttl::Secs(s) => Ok(*s),
            Ttl::Text(t) => humantime::parse_duration(t)
                .map(|d| d.as_secs())
                .map_err(|e| ApiError::BadRequest(format!("bad ttl {t:?}: {e} (try \"1h\")"))),
        }
    }
}

/// `{reason?, for_session?, ttl?}`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    pub reason: Option<String>,
    #[serde(default)]
    pub for_session: bool,
    pub ttl: Option<Ttl>,
}

/// `{reason}`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

fn view(a: &Approval) -> Json<ApprovalView> {
    Json(ApprovalView::from(a))
}

/// `POST /v1/approvals/{id}/approve`. Agent tokens are refused (403) and the attempt is audited.
pub async fn approve(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ApproveBody>>,
) -> Result<Json<ApprovalView>, ApiError> {
    if caller.role < Role::Approver {
        return Err(s.refuse(&id, &caller, "approve").await);
    }
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let grant_ttl_secs = if body.for_session {
        Some(match &body.ttl {
            Some(t) => t.secs()?,
            None => DEFAULT_GRANT_TTL_SECS,
        })
    } else {
        None
    };
    if s.is_locked_down() {
        return Err(ApiError::Conflict(
            "lockdown is on: nothing can be approved until it is lifted".into(),
        ));
    }
    let ev = Event::Approve {
        approver: caller.name.clone(),
        channel: caller.channel,
        reason: body.reason,
        grant_ttl_secs,
    };
    Ok(view(&*s.transition(&id, ev).await?))
}

/// `POST /v1/approvals/{id}/deny`: the reason reaches the agent.
pub async fn deny(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ReasonBody>>,
) -> Result<Json<ApprovalView>, ApiError> {
    if caller.role < Role::Approver {
        return Err(s.refuse(&id, &caller, "deny").await);
    }
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let ev = Event::Deny {
        approver: caller.name.clone(),
        channel: caller.channel,
        reason: body.reason,
    };
    Ok(view(&*s.transition(&id, ev).await?))
}

/// `POST /v1/approvals/{id}/cancel`: the submitter withdraws its call (approvers may too).
pub async fn cancel(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<ReasonBody>>,
) -> Result<Json<ApprovalView>, ApiError> {
    let a = s.approval(&id)?;
    if caller.role < Role::Approver && a.submitted_by != caller.name {
        return Err(ApiError::Forbidden(
            "agents may only cancel approvals they submitted".into(),
        ));
    }
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let ev = Event::Cancel {
        by: caller.name.clone(),
        channel: caller.channel,
        reason: body.reason,
    };
    Ok(view(&*s.transition(&id, ev).await?))
}
