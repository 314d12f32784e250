//! Held approvals: the state machine `pending -> approved | denied | expired | cancelled`,
//! quorum over distinct approvers, and session grants ("approve for this session").
//!
//! Pure: no I/O, no clock (every transition takes `now`), no panics. The daemon
//! persists what these functions return and wakes waiters; the rules live here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Action, CallContext, Decision, Timestamp, ToolCall};

/// Where an approval stands. Every state but `Pending` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    /// Waiting for a person (or for enough people, under a quorum).
    Pending,
    /// Enough distinct approvers approved: the call may run.
    Approved,
    /// A person denied it: the call must not run, and the reason goes to the agent.
    Denied,
    /// Nobody decided before the deadline: a denial.
    Expired,
    /// The caller withdrew it (or went away and asked to cancel on disconnect).
    Cancelled,
}

impl ApprovalStatus {
    /// The lowercase wire name (`"pending"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Cancelled => "cancelled",
        }
    }

    /// The status a wire name denotes; `None` for anything else.
    pub fn parse(s: &str) -> Option<ApprovalStatus> {
        match s {
            "pending" => Some(ApprovalStatus::Pending),
            "approved" => Some(ApprovalStatus::Approved),
            "denied" => Some(ApprovalStatus::Denied),
            "expired" => Some(ApprovalStatus::Expired),
            "cancelled" => Some(ApprovalStatus::Cancelled),
            _ => None,
        }
    }

    /// True once nothing can change it any more.
    pub fn is_final(self) -> bool {
        self != ApprovalStatus::Pending
    }

    /// What the waiting call does in this state: only `Approved` lets it run.
    /// `Pending` has no action yet.
    pub fn action(self) -> Option<Action> {
        match self {
            ApprovalStatus::Pending => None,
            ApprovalStatus::Approved => Some(Action::Allow),
            _ => Some(Action::Deny),
        }
    }
}

impl std::fmt::Display for ApprovalStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a person reached the approval, recorded on every resolution so the audit
/// shows not only who decided but through which door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The `gatehouse` CLI (local credentials after a TTY confirmation, or a token).
    Cli,
    /// The HTTP API by any other client.
    Api,
    /// The web dashboard.
    Dashboard,
    /// A Slack button.
    Slack,
    /// A signed link (e-mail, webhook).
    Link,
    /// The daemon itself (expiry, a caller that went away).
    System,
}

impl Channel {
    /// The lowercase wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Cli => "cli",
            Channel::Api => "api",
            Channel::Dashboard => "dashboard",
            Channel::Slack => "slack",
            Channel::Link => "link",
            Channel::System => "system",
        }
    }

    /// The channel a wire name denotes; `None` for anything else.
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "cli" => Some(Channel::Cli),
            "api" => Some(Channel::Api),
            "dashboard" => Some(Channel::Dashboard),
            "slack" => Some(Channel::Slack),
            "link" => Some(Channel::Link),
            "system" => Some(Channel::System),
            _ => None,
        }
    }
}

/// One person's approval, kept until the quorum is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The approver's identity (token or user name): quorum counts distinct ones.
    pub approver: String,
    /// Through which channel they approved.
    pub channel: Channel,
    /// When.
    pub at: Timestamp,
    /// What they said, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How and by whom an approval reached its final state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// The final state.
    pub status: ApprovalStatus,
    /// When it was reached.
    pub at: Timestamp,
    /// Who resolved it (the approver whose vote completed the quorum, the denier,
    /// the canceller); `None` for expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Through which channel.
    pub channel: Channel,
    /// Why: the approver's reason, or the daemon's ("expired after 3600 s").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For an approval "for this session": how long the grant lasts, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_ttl_secs: Option<u64>,
}

/// A held call: everything an approver needs to decide, and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Opaque id; also the waiter's resume key after a dropped connection.
    pub id: String,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it expires as a denial if still pending.
    pub expires_at: Timestamp,
    /// The call that is held.
    pub call: ToolCall,
    /// Where the call came from (session, agent, host, cwd).
    pub context: CallContext,
    /// The policy's answer that asked for approval (matched rules, severity, message, commands).
    pub decision: Decision,
    /// Distinct approvers needed (quorum); at least 1.
    pub required_approvers: u32,
    /// Approvals given so far, one per distinct approver.
    #[serde(default)]
    pub votes: Vec<Vote>,
    /// The identity that submitted the call: it may cancel, never approve.
    pub submitted_by: String,
    /// Whether a waiter going away before the resolution cancels the approval.
    #[serde(default)]
    pub cancel_on_disconnect: bool,
    /// Set once the approval is final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

/// Something that happens to an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A person approves; `grant_ttl_secs` asks for a session grant as well.
    Approve {
        approver: String,
        channel: Channel,
        reason: Option<String>,
        grant_ttl_secs: Option<u64>,
    },
    /// A person denies, with a reason for the agent.
    Deny {
        approver: String,
        channel: Channel,
        reason: Option<String>,
    },
    /// The caller withdraws the call.
    Cancel {
        by: String,
        channel: Channel,
        reason: Option<String>,
    },
    /// The deadline passed.
    Expire,
}

/// What an accepted event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// An approval was counted but the quorum is not reached yet.
    VoteRecorded {
        /// Distinct approvals so far.
        have: u32,
        /// Distinct approvals needed.
        need: u32,
    },
    /// The approval reached this final state.
    Resolved(ApprovalStatus),
}

/// Why an event was refused. The approval is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("approval is already {0}; nothing can change it any more")]
    AlreadyFinal(ApprovalStatus),
    #[error("approval expired at {0} ms; it is a denial now")]
    Expired(i64),
    #[error("{0} has already approved; the quorum needs a different approver")]
    DuplicateApprover(String),
    #[error("{0} submitted this call and cannot approve it")]
    SelfApproval(String),
    #[error("cannot expire before the deadline ({0} ms)")]
    NotDue(i64),
    #[error("a session grant needs a session, and this call has none")]
    NoSession,
}

impl Approval {
    /// A new pending approval for `call`, asked for by `decision`.
    ///
    /// The quorum comes from the decision (at least 1); the deadline from the
    /// decision's per-rule timeout, else `default_timeout_secs`.
    pub fn new(
        id: String,
        call: ToolCall,
        context: CallContext,
        decision: Decision,
        submitted_by: String,
        now: Timestamp,
        default_timeout_secs: u64,
    ) -> Approval {
        let timeout = decision
            .approval_timeout_secs
            .unwrap_or(default_timeout_secs);
        let timeout_ms = i64::try_from(timeout.saturating_mul(1000)).unwrap_or(i64::MAX);
        Approval {
            id,
            status: ApprovalStatus::Pending,
            created_at: now,
            expires_at: now.plus_millis(timeout_ms),
            required_approvers: decision.approvers.max(1),
            call,
            context,
            decision,
            votes: Vec::new(),
            submitted_by,
            cancel_on_disconnect: false,
            resolution: None,
        }
    }

    /// True when the approval is pending and its deadline has passed.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.status == ApprovalStatus::Pending && now >= self.expires_at
    }

    /// Apply `event` at `now`. On error nothing changed.
    ///
    /// Pending approvals past their deadline accept only [`Event::Expire`], so a
    /// late approval can never release a call that has already been denied by time.
    pub fn apply(&mut self, event: Event, now: Timestamp) -> Result<Effect, ApprovalError> {
        if self.status.is_final() {
            return Err(ApprovalError::AlreadyFinal(self.status));
        }
        match event {
            Event::Expire => {
                if now < self.expires_at {
                    return Err(ApprovalError::NotDue(self.expires_at.millis()));
                }
                let secs = (self.expires_at.millis() - self.created_at.millis()) / 1000;
                Ok(self.resolve(Resolution {
                    status: ApprovalStatus::Expired,
                    at: now,
                    by: None,
                    channel: Channel::System,
                    reason: Some(format!("no decision within {secs} s")),
                    grant_ttl_secs: None,
                }))
            }
            _ if now >= self.expires_at => Err(ApprovalError::Expired(self.expires_at.millis())),
            Event::Approve {
                approver,
                channel,
                reason,
                grant_ttl_secs,
            } => {
                if approver == self.submitted_by {
                    return Err(ApprovalError::SelfApproval(approver));
                }
                if self.votes.iter().any(|v| v.approver == approver) {
                    return Err(ApprovalError::DuplicateApprover(approver));
                }
                if grant_ttl_secs.is_some() && self.context.session.is_none() {
                    return Err(ApprovalError::NoSession);
                }
                self.votes.push(Vote {
                    approver: approver.clone(),
                    channel,
                    at: now,
                    reason: reason.clone(),
                });
                let have = u32::try_from(self.votes.len()).unwrap_or(u32::MAX);
                if have < self.required_approvers {
                    return Ok(Effect::VoteRecorded {
                        have,
                        need: self.required_approvers,
                    });
                }
                // A session grant is made only if the vote completing the quorum
                // asks for it: that approver sees the whole picture last.
                Ok(self.resolve(Resolution {
                    status: ApprovalStatus::Approved,
                    at: now,
                    by: Some(approver),
                    channel,
                    reason,
                    grant_ttl_secs,
                }))
            }
            Event::Deny {
                approver,
                channel,
                reason,
            } => Ok(self.resolve(Resolution {
                status: ApprovalStatus::Denied,
                at: now,
                by: Some(approver),
                channel,
                reason,
                grant_ttl_secs: None,
            })),
            Event::Cancel {
                by,
                channel,
                reason,
            } => Ok(self.resolve(Resolution {
                status: ApprovalStatus::Cancelled,
                at: now,
                by: Some(by),
                channel,
                reason,
                grant_ttl_secs: None,
            })),
        }
    }

    fn resolve(&mut self, resolution: Resolution) -> Effect {
        self.status = resolution.status;
        self.resolution = Some(resolution);
        Effect::Resolved(self.status)
    }

    /// The message the waiting agent gets once the approval is final: the
    /// approver's reason, with who and how. `None` while pending.
    pub fn outcome_message(&self) -> Option<String> {
        let r = self.resolution.as_ref()?;
        let who = r.by.as_deref().unwrap_or("gatehouse");
        let because = r
            .reason
            .as_deref()
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        Some(match r.status {
            ApprovalStatus::Pending => return None,
            ApprovalStatus::Approved => {
                format!("approved by {who} via {}{because}", r.channel.as_str())
            }
            ApprovalStatus::Denied => {
                format!("denied by {who} via {}{because}", r.channel.as_str())
            }
            ApprovalStatus::Expired => format!("approval expired{because}"),
            ApprovalStatus::Cancelled => format!("approval cancelled by {who}{because}"),
        })
    }

    /// The session grant an approval "for this session" creates, if it asked for one.
    pub fn grant(&self, grant_id: String) -> Option<Grant> {
        let r = self.resolution.as_ref()?;
        if r.status != ApprovalStatus::Approved {
            return None;
        }
        let ttl = r.grant_ttl_secs?;
        let session = self.context.session.clone()?;
        let ttl_ms = i64::try_from(ttl.saturating_mul(1000)).unwrap_or(i64::MAX);
        Some(Grant {
            id: grant_id,
            session,
            tool: self.call.tool.clone(),
            rules: rule_key(&self.decision),
            shape: call_shape(&self.call, &self.decision),
            created_at: r.at,
            expires_at: r.at.plus_millis(ttl_ms),
            created_by: r.by.clone().unwrap_or_default(),
            approval_id: self.id.clone(),
            revoked_at: None,
        })
    }
}

/// "Approve for this session": later calls of the same shape, by the same
/// session, under the same rules, pass without asking until the TTL ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Opaque id, for listing and revoking.
    pub id: String,
    /// The session it is bound to: another session gets no benefit from it.
    pub session: String,
    /// The raw tool name of the granted call.
    pub tool: String,
    /// Sorted labels of the rules that asked: a call that trips another rule still asks.
    pub rules: Vec<String>,
    /// The normalised call shape ([`call_shape`]).
    pub shape: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops applying.
    pub expires_at: Timestamp,
    /// The approver who granted it.
    pub created_by: String,
    /// The approval it came from.
    pub approval_id: String,
    /// Set when someone revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

impl Grant {
    /// True while the grant is neither revoked nor past its TTL.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }

    /// Whether this grant lets `call` through instead of asking. Only an `ask`
    /// can be granted: a deny stays a deny whatever was approved before.
    pub fn covers(
        &self,
        call: &ToolCall,
        ctx: &CallContext,
        decision: &Decision,
        now: Timestamp,
    ) -> bool {
        decision.action == Action::Ask
            && self.is_active(now)
            && ctx.session.as_deref() == Some(self.session.as_str())
            && call.tool == self.tool
            && rule_key(decision) == self.rules
            && call_shape(call, decision) == self.shape
    }
}

/// Sorted, de-duplicated labels of the rules behind a decision.
pub fn rule_key(decision: &Decision) -> Vec<String> {
    let mut labels: Vec<String> = decision
        .rules
        .iter()
        .map(|r| r.label().to_owned())
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// The normalised shape of a call that a grant binds to: for shell commands,
/// every command that would execute as normalised argv (so `rm  -rf x` and
/// `'rm' -rf x` are one shape); otherwise the tool name and its arguments in a
/// canonical encoding (keys sorted), so only the same arguments match.
pub fn call_shape(call: &ToolCall, decision: &Decision) -> String {
    if !decision.commands.is_empty() {
        let commands: Vec<String> = decision
            .commands
            .iter()
            .map(|argv| {
                let words: Vec<&str> = argv.iter().map(String::as_str).collect();
                crate::call::shell_join(&words)
            })
            .collect();
        return format!("exec:{}", commands.join(" ; "));
    }
    if let Some(command) = &call.command {
        return format!("exec:{command}");
    }
    let mut out = format!("{}:", call.tool);
    canonical_json(&call.input, &mut out);
    out
}

/// JSON with object keys sorted, whatever map order serde_json was built with.
fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(inner) = map.get(k) {
                    canonical_json(inner, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MatchedRule, Severity};
    use serde_json::json;

    fn ask(approvers: u32) -> Decision {
        let mut d = Decision::bare(Action::Ask, "needs approval");
        d.approvers = approvers;
        d.rules.push(MatchedRule {
            name: "deploys".into(),
            id: None,
            action: Action::Ask,
            severity: Some(Severity::High),
            message: None,
        });
        d.commands = vec![vec![
            "kubectl".into(),
            "apply".into(),
            "-f".into(),
            "x.yaml".into(),
        ]];
        d
    }

    fn pending(approvers: u32) -> Approval {
        let ctx = CallContext {
            session: Some("app/main".into()),
            ..CallContext::default()
        };
        Approval::new(
            "a1".into(),
            ToolCall::exec("kubectl apply -f x.yaml"),
            ctx,
            ask(approvers),
            "agent".into(),
            Timestamp(1_000),
            60,
        )
    }

    fn approve(who: &str) -> Event {
        Event::Approve {
            approver: who.into(),
            channel: Channel::Cli,
            reason: None,
            grant_ttl_secs: None,
        }
    }

    #[test]
    fn single_approval_resolves() {
        let mut a = pending(1);
        assert_eq!(
            a.apply(approve("alice"), Timestamp(2_000)),
            Ok(Effect::Resolved(ApprovalStatus::Approved))
        );
        assert_eq!(a.status, ApprovalStatus::Approved);
        let r = a.resolution.as_ref().map(|r| (r.by.clone(), r.channel));
        assert_eq!(r, Some((Some("alice".into()), Channel::Cli)));
    }

    #[test]
    fn quorum_needs_distinct_approvers() {
        let mut a = pending(2);
        assert_eq!(
            a.apply(approve("alice"), Timestamp(2_000)),
            Ok(Effect::VoteRecorded { have: 1, need: 2 })
        );
        assert_eq!(
            a.apply(approve("alice"), Timestamp(2_100)),
            Err(ApprovalError::DuplicateApprover("alice".into()))
        );
        assert_eq!(a.status, ApprovalStatus::Pending);
        assert_eq!(
            a.apply(approve("bob"), Timestamp(2_200)),
            Ok(Effect::Resolved(ApprovalStatus::Approved))
        );
    }

    #[test]
    fn deny_after_partial_quorum_denies() {
        let mut a = pending(2);
        assert!(a.apply(approve("alice"), Timestamp(2_000)).is_ok());
        let deny = Event::Deny {
            approver: "bob".into(),
            channel: Channel::Dashboard,
            reason: Some("use staging".into()),
        };
        assert_eq!(
            a.apply(deny, Timestamp(2_100)),
            Ok(Effect::Resolved(ApprovalStatus::Denied))
        );
        assert_eq!(
            a.outcome_message().as_deref(),
            Some("denied by bob via dashboard: use staging")
        );
    }

    #[test]
    fn final_states_accept_nothing() {
        for event in [
            approve("bob"),
            Event::Expire,
            Event::Cancel {
                by: "agent".into(),
                channel: Channel::Api,
                reason: None,
            },
        ] {
            let mut a = pending(1);
            assert!(a.apply(approve("alice"), Timestamp(2_000)).is_ok());
            let before = a.clone();
            assert_eq!(
                a.apply(event, Timestamp(90_000)),
                Err(ApprovalError::AlreadyFinal(ApprovalStatus::Approved))
            );
            assert_eq!(a, before);
        }
    }

    #[test]
    fn late_approval_after_deadline_is_refused() {
        let mut a = pending(1);
        assert_eq!(a.expires_at, Timestamp(61_000));
        assert!(a.is_due(Timestamp(61_000)));
        assert_eq!(
            a.apply(approve("alice"), Timestamp(61_000)),
            Err(ApprovalError::Expired(61_000))
        );
        assert_eq!(
            a.apply(Event::Expire, Timestamp(61_000)),
            Ok(Effect::Resolved(ApprovalStatus::Expired))
        );
        assert_eq!(ApprovalStatus::Expired.action(), Some(Action::Deny));
        assert_eq!(
            a.outcome_message().as_deref(),
            Some("approval expired: no decision within 60 s")
        );
    }

    #[test]
    fn expire_before_deadline_is_refused() {
        let mut a = pending(1);
        assert_eq!(
            a.apply(Event::Expire, Timestamp(60_999)),
            Err(ApprovalError::NotDue(61_000))
        );
    }

    #[test]
    fn per_rule_timeout_overrides_default() {
        let mut d = ask(1);
        d.approval_timeout_secs = Some(5);
        let a = Approval::new(
            "a".into(),
            ToolCall::exec("x"),
            CallContext::default(),
            d,
            "agent".into(),
            Timestamp(0),
            3600,
        );
        assert_eq!(a.expires_at, Timestamp(5_000));
    }

    #[test]
    fn submitter_cannot_approve_own_call() {
        let mut a = pending(1);
        assert_eq!(
            a.apply(approve("agent"), Timestamp(2_000)),
            Err(ApprovalError::SelfApproval("agent".into()))
        );
    }

    #[test]
    fn grant_covers_same_shape_same_session_only() {
        let mut a = pending(1);
        let ev = Event::Approve {
            approver: "alice".into(),
            channel: Channel::Cli,
            reason: None,
            grant_ttl_secs: Some(3600),
        };
        assert!(a.apply(ev, Timestamp(2_000)).is_ok());
        let grant = a.grant("g1".into());
        let Some(grant) = grant else {
            panic!("approval for session made no grant");
        };
        let call = ToolCall::exec("kubectl apply -f x.yaml");
        let ctx = a.context.clone();
        let d = ask(1);
        assert!(grant.covers(&call, &ctx, &d, Timestamp(3_000)));
        // Another session.
        let other = CallContext {
            session: Some("app/feature".into()),
            ..CallContext::default()
        };
        assert!(!grant.covers(&call, &other, &d, Timestamp(3_000)));
        // Another command.
        let mut d2 = ask(1);
        d2.commands = vec![vec!["kubectl".into(), "delete".into(), "ns".into()]];
        assert!(!grant.covers(&call, &ctx, &d2, Timestamp(3_000)));
        // A deny is never granted away.
        let mut deny = ask(1);
        deny.action = Action::Deny;
        assert!(!grant.covers(&call, &ctx, &deny, Timestamp(3_000)));
        // After the TTL.
        assert!(!grant.covers(&call, &ctx, &d, Timestamp(2_000 + 3_600_000)));
        // Revoked.
        let mut revoked = grant.clone();
        revoked.revoked_at = Some(Timestamp(2_500));
        assert!(!revoked.covers(&call, &ctx, &d, Timestamp(3_000)));
    }

    #[test]
    fn grant_needs_a_session() {
        let mut a = pending(1);
        a.context.session = None;
        let ev = Event::Approve {
            approver: "alice".into(),
            channel: Channel::Cli,
            reason: None,
            grant_ttl_secs: Some(60),
        };
        assert_eq!(a.apply(ev, Timestamp(2_000)), Err(ApprovalError::NoSession));
    }

    #[test]
    fn call_shape_of_non_exec_is_canonical_args() {
        let d = Decision::bare(Action::Ask, "x");
        let a = ToolCall::infer("send_refund", json!({"b": 1, "a": {"y": 2, "x": 1}}));
        let b = ToolCall::infer("send_refund", json!({"a": {"x": 1, "y": 2}, "b": 1}));
        assert_eq!(call_shape(&a, &d), call_shape(&b, &d));
        assert_eq!(
            call_shape(&a, &d),
            r#"send_refund:{"a":{"x":1,"y":2},"b":1}"#
        );
    }

    #[test]
    fn approval_round_trips_through_json() {
        let a = pending(2);
        let text = serde_json::to_string(&a).unwrap_or_default();
        let back: Result<Approval, _> = serde_json::from_str(&text);
        assert_eq!(back.ok(), Some(a));
    }
}
