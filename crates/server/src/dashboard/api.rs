//! The dashboard's JSON API: the live queue, one approval's context,
//! approve/deny, history, insights, policy, grants, lockdown.
//!
//! Reads need a session; writes need a session and its CSRF token
//! ([`CsrfSession`]). Every action goes through the daemon's own operations,
//! recorded with channel `dashboard` and the user's name.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use gatehouse_core::approval::{Approval, ApprovalStatus, Event, call_shape, rule_key};
use gatehouse_core::{Action, Timestamp};
use gatehouse_store::AuditQuery;
use gatehouse_store::daemon_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Dash;
use super::insights;
use super::session::{CsrfSession, Session};
use crate::clock;
use crate::error::ApiError;
use crate::state::{AppState, ApprovalView};

/// How often the live queue looks for changes.
const QUEUE_POLL: Duration = Duration::from_millis(200);
/// Most pending approvals sent to a page at once.
const QUEUE_LIMIT: u32 = 500;
/// Default TTL of "approve for this session" from the dashboard.
const DEFAULT_GRANT_TTL_SECS: u64 = 3600;

/// The queue as the page shows it: pending approvals newest first, the
/// server's clock (for ages and countdowns) and the lockdown switch.
fn queue(app: &AppState) -> Result<Value, ApiError> {
    let items: Vec<ApprovalView> = app
        .list(Some(ApprovalStatus::Pending), QUEUE_LIMIT)?
        .iter()
        .map(ApprovalView::from)
        .collect();
    Ok(json!({
        "now": clock::now(),
        "lockdown": app.is_locked_down(),
        "items": items,
    }))
}

/// What changes the queue: the pending ids, their votes, lockdown.
fn queue_fingerprint(app: &AppState) -> String {
    let mut fp = String::from(if app.is_locked_down() { "L" } else { "-" });
    for a in app.registry().pending() {
        fp.push_str(&a.id);
        fp.push(':');
        fp.push_str(&a.votes.len().to_string());
        fp.push(';');
    }
    fp
}

/// `GET /ui/api/pending`.
pub async fn pending(State(dash): State<Dash>, _s: Session) -> Result<Json<Value>, ApiError> {
    Ok(Json(queue(&dash.app)?))
}

/// How often a live stream checks that its session is still valid.
const SESSION_RECHECK: Duration = Duration::from_secs(5);

/// Whether the session `id_hash` is still live (not logged out, not expired).
fn session_live(dash: &Dash, id_hash: &str) -> bool {
    let guard = dash.users.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .and_then(|store| store.session(id_hash, clock::now()).ok())
        .flatten()
        .is_some()
}

/// `GET /ui/api/stream`: server-sent `queue` events, one now and one after
/// every change; ends when the daemon stops or the session ends (the page
/// reconnects, or goes back to the login form).
pub async fn stream(
    State(dash): State<Dash>,
    s: Session,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stop = dash.app.shutdown_signal();
    let checked = std::time::Instant::now();
    let stream = futures_util::stream::unfold(
        (dash, stop, None::<String>, s.id_hash, checked),
        |(dash, mut stop, last, id_hash, mut checked)| async move {
            loop {
                if *stop.borrow() {
                    return None;
                }
                if checked.elapsed() >= SESSION_RECHECK {
                    if !session_live(&dash, &id_hash) {
                        return None;
                    }
                    checked = std::time::Instant::now();
                }
                let fp = queue_fingerprint(&dash.app);
                if last.as_deref() != Some(fp.as_str()) {
                    let data = match queue(&dash.app) {
                        Ok(v) => v.to_string(),
                        Err(e) => json!({ "error": e.to_string() }).to_string(),
                    };
                    let event = SseEvent::default().event("queue").data(data);
                    return Some((Ok(event), (dash, stop, Some(fp), id_hash, checked)));
                }
                tokio::select! {
                    _ = tokio::time::sleep(QUEUE_POLL) => {}
                    _ = stop.changed() => return None,
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A coarse shape for "similar" calls: program and first argument of each
/// command (`kubectl apply`), or the tool name.
fn loose_shape(a: &Approval) -> String {
    if a.decision.commands.is_empty() {
        return a.call.tool.clone();
    }
    a.decision
        .commands
        .iter()
        .map(|argv| argv.iter().take(2).cloned().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(" ; ")
}

/// `GET /ui/api/approvals/{id}`: the full context of one approval.
pub async fn context(
    State(dash): State<Dash>,
    _s: Session,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let a = dash.app.approval(&id)?;
    let rules = rule_key(&a.decision);
    let shape = loose_shape(&a);
    let exact = call_shape(&a.call, &a.decision);
    let similar: Vec<Value> = dash
        .app
        .list(None, 1000)?
        .iter()
        .filter(|p| p.id != a.id && p.status.is_final())
        .filter_map(|p| {
            let same_rule = !rules.is_empty() && rule_key(&p.decision) == rules;
            let same_shape = loose_shape(p) == shape;
            (same_rule || same_shape).then(|| {
                json!({
                    "id": p.id,
                    "status": p.status,
                    "created_at": p.created_at,
                    "tool": p.call.tool,
                    "command": p.call.command,
                    "rules": rule_key(&p.decision),
                    "same_rule": same_rule,
                    "same_shape": same_shape,
                    "same_call": call_shape(&p.call, &p.decision) == exact,
                    "resolution": p.resolution,
                })
            })
        })
        .take(20)
        .collect();
    let session = a
        .context
        .session
        .clone()
        .or_else(|| a.context.host_session_id.clone());
    let recent = match &session {
        Some(session) => {
            audit_json(
                &dash.app,
                AuditQuery {
                    limit: Some(20),
                    newest: true,
                    session: Some(session.clone()),
                    ..AuditQuery::default()
                },
            )
            .await?
        }
        None => Vec::new(),
    };
    Ok(Json(json!({
        "now": clock::now(),
        "approval": ApprovalView::from(&*a),
        "commands": a.decision.commands,
        "shape": exact,
        "session_recent": recent,
        "similar": similar,
    })))
}

/// The newest audit entries matching `query`, newest first, as JSON.
async fn audit_json(app: &AppState, query: AuditQuery) -> Result<Vec<Value>, ApiError> {
    let app = app.clone();
    let entries = tokio::task::spawn_blocking(move || app.audit().query(&query))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(entries
        .into_iter()
        .rev()
        .map(|e| json!({ "seq": e.seq, "hash": e.hash.to_hex(), "record": e.record }))
        .collect())
}

/// A TTL as seconds or text (`"1h"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Ttl {
    /// Seconds.
    Secs(u64),
    /// A humantime duration (`"15m"`, `"8h"`), as the page's selector sends it.
    Text(String),
}

/// `{reason?, for_session?, ttl?}`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    reason: Option<String>,
    #[serde(default)]
    for_session: bool,
    ttl: Option<Ttl>,
}

/// `POST /ui/api/approvals/{id}/approve`.
pub async fn approve(
    State(dash): State<Dash>,
    CsrfSession(s): CsrfSession,
    Path(id): Path<String>,
    Json(body): Json<ApproveBody>,
) -> Result<Json<ApprovalView>, ApiError> {
    s.require(Role::Approver)?;
    if dash.app.is_locked_down() {
        return Err(ApiError::Conflict(
            "lockdown is on: nothing can be approved until it is lifted".into(),
        ));
    }
    let grant_ttl_secs = if body.for_session {
        Some(match body.ttl {
            None => DEFAULT_GRANT_TTL_SECS,
            Some(Ttl::Secs(n)) => n,
            Some(Ttl::Text(t)) => humantime::parse_duration(&t)
                .map(|d| d.as_secs())
                .map_err(|e| ApiError::BadRequest(format!("bad ttl {t:?}: {e} (try \"1h\")")))?,
        })
    } else {
        None
    };
    let ev = Event::Approve {
        approver: s.user.clone(),
        channel: s.caller().channel,
        reason: body.reason.filter(|r| !r.trim().is_empty()),
        grant_ttl_secs,
    };
    let a = dash.app.transition(&id, ev).await?;
    Ok(Json(ApprovalView::from(&*a)))
}

/// `{reason}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyBody {
    reason: String,
}

/// `POST /ui/api/approvals/{id}/deny`: the reason is required; it reaches the agent.
pub async fn deny(
    State(dash): State<Dash>,
    CsrfSession(s): CsrfSession,
    Path(id): Path<String>,
    Json(body): Json<DenyBody>,
) -> Result<Json<ApprovalView>, ApiError> {
    s.require(Role::Approver)?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::BadRequest(
            "say why you deny: the reason is what the agent reads".into(),
        ));
    }
    let ev = Event::Deny {
        approver: s.user.clone(),
        channel: s.caller().channel,
        reason: Some(reason.to_owned()),
    };
    let a = dash.app.transition(&id, ev).await?;
    Ok(Json(ApprovalView::from(&*a)))
}

/// History filters: `?decision=deny&rule=..&session=..&tool=..&since=ms&until=ms&q=text&limit=200`.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryParams {
    decision: Option<String>,
    rule: Option<String>,
    session: Option<String>,
    tool: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    q: Option<String>,
    limit: Option<usize>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `GET /ui/api/history`: audit records, newest first, filtered.
pub async fn history(
    State(dash): State<Dash>,
    _s: Session,
    Query(p): Query<HistoryParams>,
) -> Result<Json<Value>, ApiError> {
    let decision = match non_empty(p.decision) {
        None => None,
        Some(d) => Some(Action::parse(&d).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown decision {d:?}; use allow, ask, deny or defer"
            ))
        })?),
    };
    let limit = p.limit.unwrap_or(200).clamp(1, 2000);
    let text = non_empty(p.q).map(|q| q.to_lowercase());
    let query = AuditQuery {
        // A text search scans a wider page, then keeps `limit` matches.
        limit: Some(if text.is_some() { 10_000 } else { limit }),
        newest: true,
        decision,
        rule: non_empty(p.rule),
        session: non_empty(p.session),
        tool: non_empty(p.tool),
        since: p.since.map(Timestamp),
        until: p.until.map(Timestamp),
        ..AuditQuery::default()
    };
    let mut entries = audit_json(&dash.app, query).await?;
    if let Some(text) = text {
        entries.retain(|e| e.to_string().to_lowercase().contains(&text));
        entries.truncate(limit);
    }
    Ok(Json(json!({ "entries": entries })))
}

/// `GET /ui/api/verify`: walk the audit chain.
pub async fn verify(State(dash): State<Dash>, _s: Session) -> Result<Json<Value>, ApiError> {
    let app = dash.app.clone();
    let result = tokio::task::spawn_blocking(move || app.audit().verify())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(match result {
        Ok(summary) => json!({
            "ok": true,
            "records": summary.records,
            "head": summary.head.map(|h| json!({ "seq": h.seq, "hash": h.hash.to_hex() })),
        }),
        Err(fault) => json!({ "ok": false, "fault": fault.to_string() }),
    }))
}

/// `?days=14`
#[derive(Debug, Deserialize)]
pub struct InsightParams {
    days: Option<u32>,
}

/// `GET /ui/api/insights`: numbers over approvals of the last `days` days.
pub async fn insights(
    State(dash): State<Dash>,
    _s: Session,
    Query(p): Query<InsightParams>,
) -> Result<Json<insights::Insights>, ApiError> {
    let list = dash.app.list(None, 10_000)?;
    Ok(Json(insights::compute(
        &list,
        clock::now(),
        p.days.unwrap_or(14),
    )))
}

/// `GET /ui/api/policy`: the policy in force, grants, lockdown.
pub async fn policy(State(dash): State<Dash>, s: Session) -> Result<Json<Value>, ApiError> {
    let policy = dash.app.policy();
    let approval = policy.approval();
    // The policy's own tests are pure and quick; a failing one is shown as lint.
    let tests = policy.run_tests();
    let failed: Vec<String> = tests
        .iter()
        .filter(|t| !t.passed)
        .map(|t| {
            format!(
                "{} at {}: expected {}, got {}",
                t.name,
                t.pos,
                t.expected.as_str(),
                t.actual.action.as_str()
            )
        })
        .collect();
    Ok(Json(json!({
        "source": policy.origin(),
        "text": policy.text(),
        "default": policy.default_action(),
        "rules": policy.rule_count(),
        "warnings": policy
            .warnings()
            .iter()
            .map(|d| d.render(policy.origin()))
            .collect::<Vec<_>>(),
        "tests": { "total": tests.len(), "failed": failed },
        "approval": {
            "timeout_secs": approval.timeout_secs,
            "headless": format!("{:?}", approval.headless).to_lowercase(),
            "via": approval.via,
        },
        "grants": dash.app.grants(),
        "lockdown": dash.app.is_locked_down(),
        "can_admin": s.role >= Role::Admin,
    })))
}

/// `POST /ui/api/grants/{id}/revoke` (admin).
pub async fn revoke_grant(
    State(dash): State<Dash>,
    CsrfSession(s): CsrfSession,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.require(Role::Admin)?;
    let g = dash.app.revoke_grant(&id, &s.caller()).await?;
    Ok(Json(json!({ "revoked": g.id })))
}

/// `{"on": bool}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockdownBody {
    on: bool,
}

/// `POST /ui/api/lockdown` (admin): the kill switch.
pub async fn lockdown(
    State(dash): State<Dash>,
    CsrfSession(s): CsrfSession,
    Json(body): Json<LockdownBody>,
) -> Result<Json<Value>, ApiError> {
    s.require(Role::Admin)?;
    dash.app.set_lockdown(body.on, &s.caller()).await?;
    Ok(Json(json!({ "on": body.on })))
}
