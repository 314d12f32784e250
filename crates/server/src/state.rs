//! The daemon's shared state and the operations behind the routes: decide a
//! call, resolve an approval, grants, tokens, lockdown, reload.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use arc_swap::ArcSwap;
use gatehouse_core::approval::{Approval, ApprovalStatus, Channel, Effect, Event, Grant};
use gatehouse_core::audit::{AuditKind, AuditRecord};
use gatehouse_core::{Action, CallContext, Decision, Timestamp, ToolCall};
use gatehouse_policy::Policy;
use gatehouse_store::daemon_store::{DaemonStore, Role, TokenRecord};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::auth::{Caller, TokenTable, new_id};
use crate::clock;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::writer::{Job, StateWrite};
use crate::{AuditStore, ReloadFn, ServerConfig, ServerError};

/// What the agent is told while lockdown is on.
pub const LOCKDOWN_MESSAGE: &str =
    "gatehouse is in lockdown: every call is denied until an admin runs `gatehouse lockdown off`";

/// A cheap, cloneable handle to the daemon's state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    policy: ArcSwap<Policy>,
    reload: Option<ReloadFn>,
    registry: Registry,
    grants: RwLock<Vec<Grant>>,
    tokens: RwLock<TokenTable>,
    token_records: Mutex<Vec<TokenRecord>>,
    lockdown: AtomicBool,
    writer: mpsc::UnboundedSender<Job>,
    reader: Mutex<DaemonStore>,
    audit: Arc<dyn AuditStore>,
    metrics: Metrics,
    disconnect_grace_secs: u64,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// The SQLite file of this state; the dashboard keeps its users beside it.
    db_path: std::path::PathBuf,
}

/// An approval as the API shows it: its full state plus what it means for the waiting call.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalView {
    /// The approval.
    #[serde(flatten)]
    pub approval: Approval,
    /// `allow` once approved, `deny` once denied/expired/cancelled, absent while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The message for the agent once final (carries the approver's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl From<&Approval> for ApprovalView {
    fn from(a: &Approval) -> Self {
        ApprovalView {
            action: a.status.action(),
            outcome: a.outcome_message(),
            approval: a.clone(),
        }
    }
}

/// The answer to a submitted call.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    /// What the caller must do now: `allow`, `deny`, `defer`, or `ask` (then wait on `approval`).
    pub action: Action,
    /// The policy's decision (after lockdown and grants).
    pub decision: Decision,
    /// The held approval when `action` is `ask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalView>,
    /// The grant that let the call through, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

impl AppState {
    /// Open storage, restore state, start the writer.
    pub(crate) fn open(config: ServerConfig) -> Result<AppState, ServerError> {
        let ServerConfig {
            db_path,
            audit,
            policy,
            reload,
            local_tokens,
            disconnect_grace_secs,
        } = config;
        let mut store = DaemonStore::open(&db_path)?;
        let now = clock::now();
        store.transaction(|tx| {
            for t in &local_tokens {
                tx.upsert_token(&TokenRecord {
                    name: t.name.clone(),
                    role: t.role,
                    hash: t.hash.clone(),
                    created_at: now,
                    revoked_at: None,
                })?;
            }
            Ok(())
        })?;
        let pending = store.pending_approvals()?;
        let grants = store.active_grants(now)?;
        let token_records = store.tokens()?;
        let lockdown = store.lockdown()?;
        let reader = DaemonStore::open(&db_path)?;
        let (writer, _thread) =
            crate::writer::spawn(store, audit.clone()).map_err(ServerError::Writer)?;
        let registry = Registry::default();
        let restored = pending.len();
        for a in pending {
            registry.insert(a);
        }
        if restored > 0 {
            tracing::info!("restored {restored} pending approvals");
        }
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Ok(AppState {
            inner: Arc::new(Inner {
                policy: ArcSwap::from_pointee(policy),
                reload,
                registry,
                grants: RwLock::new(grants),
                tokens: RwLock::new(TokenTable::from_records(&token_records)),
                token_records: Mutex::new(token_records),
                lockdown: AtomicBool::new(lockdown),
                writer,
                reader: Mutex::new(reader),
                audit,
                metrics: Metrics::default(),
                disconnect_grace_secs,
                shutdown,
                db_path,
            }),
        })
    }

    /// Tell long-polls and streams to return now (the daemon is stopping);
    /// their callers reconnect with the same id.
    pub(crate) async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// A receiver that turns `true` when the daemon stops.
    pub(crate) fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Swap in a new policy atomically; calls in flight finish on the old one.
    pub fn set_policy(&self, policy: Policy) {
        self.inner.policy.store(Arc::new(policy));
    }

    /// The policy in force now (the dashboard shows it).
    pub(crate) fn policy(&self) -> Arc<Policy> {
        self.inner.policy.load_full()
    }

    /// The SQLite file of the daemon's state.
    pub(crate) fn db_path(&self) -> &std::path::Path {
        &self.inner.db_path
    }

    /// Append an admin record (dashboard logins, logouts, lockouts) to the audit chain.
    pub(crate) async fn audit_admin(&self, record: AuditRecord) -> Result<(), ApiError> {
        self.persist(vec![record], Vec::new()).await
    }

    /// Reload through the binary's loader. A broken policy keeps the old one in force.
    pub fn reload_policy(&self) -> Result<(), String> {
        let Some(reload) = &self.inner.reload else {
            return Err("this daemon was started without a reloadable policy".into());
        };
        let policy = reload()?;
        self.set_policy(policy);
        Ok(())
    }

    pub(crate) fn identify(&self, secret: &str) -> Option<(String, Role)> {
        read(&self.inner.tokens).identify(secret)
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub(crate) fn audit(&self) -> &dyn AuditStore {
        self.inner.audit.as_ref()
    }

    pub(crate) fn is_locked_down(&self) -> bool {
        self.inner.lockdown.load(Ordering::SeqCst)
    }

    /// Send a job to the writer. Call while holding whatever lock orders it.
    fn enqueue(
        &self,
        audit: Vec<AuditRecord>,
        state: Vec<StateWrite>,
    ) -> Result<oneshot::Receiver<Result<(), String>>, ApiError> {
        let (ack, rx) = oneshot::channel();
        self.inner
            .writer
            .send(Job { audit, state, ack })
            .map_err(|_| ApiError::Unavailable("the audit writer has stopped".into()))?;
        Ok(rx)
    }

    async fn acked(rx: oneshot::Receiver<Result<(), String>>) -> Result<(), ApiError> {
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::Unavailable(format!(
                "could not persist the audit record: {e}"
            ))),
            Err(_) => Err(ApiError::Unavailable("the audit writer has stopped".into())),
        }
    }

    async fn persist(
        &self,
        audit: Vec<AuditRecord>,
        state: Vec<StateWrite>,
    ) -> Result<(), ApiError> {
        let rx = self.enqueue(audit, state)?;
        Self::acked(rx).await
    }

    /// Decide a submitted call: lockdown, policy, grants; an `ask` becomes a
    /// pending approval. Answered once the decision's audit record is durable.
    pub async fn decide(
        &self,
        call: ToolCall,
        mut ctx: CallContext,
        caller: &Caller,
        cancel_on_disconnect: bool,
    ) -> Result<Submitted, ApiError> {
        let now = clock::now();
        ctx.now = now;
        let policy = self.inner.policy.load();
        let mut decision = if self.is_locked_down() {
            Decision::bare(Action::Deny, LOCKDOWN_MESSAGE)
        } else {
            policy.evaluate(&call, &ctx)
        };
        let mut grant_id = None;
        if decision.action == Action::Ask
            && let Some(g) = read(&self.inner.grants)
                .iter()
                .find(|g| g.covers(&call, &ctx, &decision, now))
        {
            decision.action = Action::Allow;
            decision.message = Some(format!(
                "allowed by session grant {} (approved by {})",
                g.id, g.created_by
            ));
            grant_id = Some(g.id.clone());
        }
        let mut record = AuditRecord::decision(&call, &ctx, &decision);
        record.actor = Some(caller.name.clone());
        record.channel = Some("api".into());
        let action = decision.action;
        let approval = if action == Action::Ask {
            let mut a = Approval::new(
                new_id(12),
                call,
                ctx,
                decision.clone(),
                caller.name.clone(),
                now,
                policy.approval().timeout_secs,
            );
            a.cancel_on_disconnect = cancel_on_disconnect;
            record.approval_id = Some(a.id.clone());
            Some(a)
        } else {
            None
        };
        let state = approval
            .iter()
            .map(|a| StateWrite::Approval(Box::new(a.clone())))
            .collect();
        self.persist(vec![record], state).await?;
        self.inner.metrics.decision(action);
        let approval = approval.map(|a| {
            let view = ApprovalView::from(&a);
            self.inner.registry.insert(a);
            view
        });
        Ok(Submitted {
            action,
            decision,
            approval,
            grant_id,
        })
    }

    /// The current durable state of approval `id`, from memory or the database.
    pub fn approval(&self, id: &str) -> Result<Arc<Approval>, ApiError> {
        if let Some(a) = self.inner.registry.get(id) {
            return Ok(a);
        }
        lock(&self.inner.reader)
            .approval(id)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map(Arc::new)
            .ok_or_else(|| ApiError::NotFound(format!("no approval with id {id:?}")))
    }

    /// Approvals of `status` (pending from memory; others from the database), newest first.
    pub fn list(
        &self,
        status: Option<ApprovalStatus>,
        limit: u32,
    ) -> Result<Vec<Approval>, ApiError> {
        if status == Some(ApprovalStatus::Pending) {
            let mut v: Vec<Approval> = self
                .inner
                .registry
                .pending()
                .iter()
                .map(|a| (**a).clone())
                .collect();
            v.reverse();
            v.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            return Ok(v);
        }
        lock(&self.inner.reader)
            .recent_approvals(status, limit)
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Apply `event` to approval `id`, persist it (with its audit record and
    /// any grant), then wake the waiters.
    pub async fn transition(&self, id: &str, event: Event) -> Result<Arc<Approval>, ApiError> {
        let now = clock::now();
        let (actor, channel) = match &event {
            Event::Approve {
                approver, channel, ..
            }
            | Event::Deny {
                approver, channel, ..
            } => (Some(approver.clone()), *channel),
            Event::Cancel { by, channel, .. } => (Some(by.clone()), *channel),
            Event::Expire => (None, Channel::System),
        };
        let (rx, next, version, grant) = {
            let mut map = self.inner.registry.lock();
            let Some(entry) = map.get_mut(id) else {
                drop(map);
                // Not in memory: resolved long ago, or unknown.
                let a = self.approval(id)?;
                return Err(ApiError::Conflict(format!(
                    "approval is already {}; nothing can change it any more",
                    a.status
                )));
            };
            let mut next = entry.latest.clone();
            let effect = next.apply(event, now)?;
            let grant = match effect {
                Effect::Resolved(ApprovalStatus::Approved) => next.grant(new_id(8)),
                _ => None,
            };
            let mut record = resolution_record(&next, effect, now);
            record.actor = actor;
            record.channel = Some(channel.as_str().into());
            let mut audit = vec![record];
            let mut writes = vec![StateWrite::Approval(Box::new(next.clone()))];
            if let Some(g) = &grant {
                let mut rec = AuditRecord::for_call(AuditKind::Admin, &next.call, &next.context);
                rec.time = now;
                rec.approval_id = Some(next.id.clone());
                rec.actor = Some(g.created_by.clone());
                rec.channel = Some(channel.as_str().into());
                rec.outcome = Some("grant".into());
                rec.message = Some(format!(
                    "session grant {} for {} until {} ms",
                    g.id,
                    g.session,
                    g.expires_at.millis()
                ));
                audit.push(rec);
                writes.push(StateWrite::Grant(g.clone()));
            }
            let rx = self.enqueue(audit, writes)?;
            entry.latest = next.clone();
            entry.version += 1;
            (rx, next, entry.version, grant)
        };
        Self::acked(rx).await?;
        if let Some(g) = grant {
            write(&self.inner.grants).push(g);
        }
        if let Some(r) = &next.resolution {
            self.inner
                .metrics
                .resolved(r.status, r.at.millis() - next.created_at.millis());
        }
        self.inner.registry.publish(id, version, next.clone());
        Ok(Arc::new(next))
    }

    /// Refuse an approval attempt by a caller that may not approve, and audit it.
    pub async fn refuse(&self, id: &str, caller: &Caller, what: &str) -> ApiError {
        let mut rec = AuditRecord::new(clock::now(), AuditKind::Admin);
        rec.approval_id = Some(id.to_owned());
        rec.actor = Some(caller.name.clone());
        rec.channel = Some(caller.channel.as_str().into());
        rec.outcome = Some("refused".into());
        rec.message = Some(format!(
            "{} token {:?} tried to {what} approval {id}",
            caller.role.as_str(),
            caller.name
        ));
        if let Err(e) = self.persist(vec![rec], Vec::new()).await {
            tracing::error!("could not audit a refused {what}: {e}");
        }
        ApiError::Forbidden(format!(
            "a token with role {} can never {what} an approval; use an approver token",
            caller.role.as_str()
        ))
    }

    /// Turn lockdown on or off. Turning it on denies every pending approval too.
    pub async fn set_lockdown(&self, on: bool, caller: &Caller) -> Result<(), ApiError> {
        let now = clock::now();
        let mut rec = AuditRecord::new(now, AuditKind::Admin);
        rec.actor = Some(caller.name.clone());
        rec.channel = Some(caller.channel.as_str().into());
        rec.outcome = Some(if on { "on" } else { "off" }.into());
        rec.message = Some(format!("lockdown {}", if on { "on" } else { "off" }));
        self.persist(vec![rec], vec![StateWrite::Lockdown(on)])
            .await?;
        self.inner.lockdown.store(on, Ordering::SeqCst);
        if on {
            for a in self.inner.registry.pending() {
                let ev = Event::Deny {
                    approver: caller.name.clone(),
                    channel: caller.channel,
                    reason: Some(LOCKDOWN_MESSAGE.into()),
                };
                // Already resolved or expiring meanwhile: nothing to do.
                let _ = self.transition(&a.id, ev).await;
            }
        }
        Ok(())
    }

    /// Active grants.
    pub fn grants(&self) -> Vec<Grant> {
        let now = clock::now();
        read(&self.inner.grants)
            .iter()
            .filter(|g| g.is_active(now))
            .cloned()
            .collect()
    }

    /// Revoke a grant by id.
    pub async fn revoke_grant(&self, id: &str, caller: &Caller) -> Result<Grant, ApiError> {
        let now = clock::now();
        let revoked = {
            let grants = read(&self.inner.grants);
            let g = grants
                .iter()
                .find(|g| g.id == id && g.is_active(now))
                .ok_or_else(|| ApiError::NotFound(format!("no active grant with id {id:?}")))?;
            Grant {
                revoked_at: Some(now),
                ..g.clone()
            }
        };
        let mut rec = AuditRecord::new(now, AuditKind::Admin);
        rec.actor = Some(caller.name.clone());
        rec.channel = Some(caller.channel.as_str().into());
        rec.approval_id = Some(revoked.approval_id.clone());
        rec.outcome = Some("grant-revoked".into());
        rec.message = Some(format!("session grant {id} revoked"));
        self.persist(vec![rec], vec![StateWrite::Grant(revoked.clone())])
            .await?;
        for g in write(&self.inner.grants).iter_mut() {
            if g.id == id {
                g.revoked_at = Some(now);
            }
        }
        Ok(revoked)
    }

    /// Every token, revoked ones included.
    pub fn tokens(&self) -> Vec<TokenRecord> {
        lock(&self.inner.token_records).clone()
    }

    /// Create a token; returns its secret (shown once).
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        caller: &Caller,
    ) -> Result<String, ApiError> {
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(ApiError::BadRequest(
                "token name must be 1-64 printable characters".into(),
            ));
        }
        let secret = crate::auth::new_token()
            .map_err(|e| ApiError::Internal(format!("no randomness for a token: {e}")))?;
        let now = clock::now();
        let record = TokenRecord {
            name: name.to_owned(),
            role,
            hash: crate::auth::hash_token(&secret),
            created_at: now,
            revoked_at: None,
        };
        let mut rec = AuditRecord::new(now, AuditKind::Admin);
        rec.actor = Some(caller.name.clone());
        rec.channel = Some(caller.channel.as_str().into());
        rec.outcome = Some("token-created".into());
        rec.message = Some(format!(
            "token {name:?} created with role {}",
            role.as_str()
        ));
        let rx = {
            let mut records = lock(&self.inner.token_records);
            if records.iter().any(|t| t.name == name) {
                return Err(ApiError::Conflict(format!(
                    "a token named {name:?} exists already; pick another name"
                )));
            }
            let rx = self.enqueue(vec![rec], vec![StateWrite::Token(record.clone())])?;
            records.push(record);
            rx
        };
        Self::acked(rx).await?;
        self.refresh_token_table();
        Ok(secret)
    }

    /// Revoke a token by name.
    pub async fn revoke_token(&self, name: &str, caller: &Caller) -> Result<(), ApiError> {
        let now = clock::now();
        let mut rec = AuditRecord::new(now, AuditKind::Admin);
        rec.actor = Some(caller.name.clone());
        rec.channel = Some(caller.channel.as_str().into());
        rec.outcome = Some("token-revoked".into());
        rec.message = Some(format!("token {name:?} revoked"));
        let rx = {
            let mut records = lock(&self.inner.token_records);
            let Some(t) = records
                .iter_mut()
                .find(|t| t.name == name && t.revoked_at.is_none())
            else {
                return Err(ApiError::NotFound(format!("no live token named {name:?}")));
            };
            t.revoked_at = Some(now);
            self.enqueue(
                vec![rec],
                vec![StateWrite::RevokeToken(name.to_owned(), now)],
            )?
        };
        Self::acked(rx).await?;
        self.refresh_token_table();
        Ok(())
    }

    fn refresh_token_table(&self) {
        let table = TokenTable::from_records(&lock(&self.inner.token_records));
        *write(&self.inner.tokens) = table;
    }

    /// Forget expired grants and long-resolved approvals held in memory.
    pub(crate) fn prune(&self, now: Timestamp) {
        write(&self.inner.grants).retain(|g| g.is_active(now));
        self.inner
            .registry
            .evict_resolved(now.plus_millis(-10 * 60 * 1000));
    }

    /// After a `cancel_on_disconnect` waiter went away: wait the grace period,
    /// then cancel if nobody came back and it is still pending.
    pub(crate) fn waiter_left(&self, id: String) {
        let state = self.clone();
        tokio::spawn(async move {
            let grace = std::time::Duration::from_secs(state.inner.disconnect_grace_secs);
            tokio::time::sleep(grace).await;
            let Some(a) = state.inner.registry.get(&id) else {
                return;
            };
            if a.status != ApprovalStatus::Pending
                || !a.cancel_on_disconnect
                || state.inner.registry.has_waiters(&id)
            {
                return;
            }
            let ev = Event::Cancel {
                by: a.submitted_by.clone(),
                channel: Channel::System,
                reason: Some("the waiting caller went away".into()),
            };
            let _ = state.transition(&id, ev).await;
        });
    }
}

/// The audit record of an accepted event on `a` (already applied).
fn resolution_record(a: &Approval, effect: Effect, now: Timestamp) -> AuditRecord {
    let mut rec = AuditRecord::for_call(AuditKind::Resolution, &a.call, &a.context);
    rec.time = now;
    rec.rules = a
        .decision
        .rules
        .iter()
        .map(|r| r.label().to_owned())
        .collect();
    rec.severity = a.decision.severity;
    rec.approval_id = Some(a.id.clone());
    match effect {
        Effect::VoteRecorded { have, need } => {
            rec.outcome = Some("vote".into());
            rec.message = Some(format!("{have} of {need} approvals"));
            rec.reason = a.votes.last().and_then(|v| v.reason.clone());
        }
        Effect::Resolved(status) => {
            rec.decision = status.action();
            rec.outcome = Some(status.as_str().into());
            rec.message = a.outcome_message();
            rec.reason = a.resolution.as_ref().and_then(|r| r.reason.clone());
        }
    }
    rec
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}
