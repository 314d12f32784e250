//! [`AuditRecord`]: one line of the audit log, in domain terms.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Action, CallContext, Decision, Severity, Timestamp, ToolCall, ToolClass};

/// What kind of event a record describes. Stored and encoded by name, so new
/// kinds can be added without re-encoding old records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditKind {
    /// The policy (or a gate such as lockdown) decided a call.
    Decision,
    /// A person or the clock resolved a held approval (approved, denied, expired, cancelled).
    Resolution,
    /// What happened after the call was let through (the host ran it, it failed).
    Outcome,
    /// An administrative act: lockdown on/off, a grant created or revoked, a policy reload.
    Admin,
}

impl AuditKind {
    /// Every kind, for parsers and tests.
    pub const ALL: [AuditKind; 4] = [
        AuditKind::Decision,
        AuditKind::Resolution,
        AuditKind::Outcome,
        AuditKind::Admin,
    ];

    /// The stable name used in the encoding, the database and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Decision => "decision",
            AuditKind::Resolution => "resolution",
            AuditKind::Outcome => "outcome",
            AuditKind::Admin => "admin",
        }
    }

    /// The kind a stable name denotes; `None` for anything else.
    pub fn parse(s: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit event. Plain data: the store adds the sequence number and hash.
///
/// `input` must already be redacted ([`crate::audit::redact`]); the
/// constructors here do it, so prefer them over building the struct by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When it happened (the caller's clock; the core never reads one).
    pub time: Timestamp,
    /// What kind of event this is.
    pub kind: AuditKind,
    /// Which host sent the call (`claude-code`, `codex`, `http`, `mcp`...), to tell sources apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The session identity rules match on (`GATEHOUSE_SESSION`, `repo/branch`, or the host's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The host's own session id, kept even when `session` is `repo/branch`, to find the transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_session: Option<String>,
    /// Which agent made the call, when the host says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's working directory, since relative paths in `input` mean nothing without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The raw tool name (`Bash`, `send_refund`); empty for events about no tool (lockdown).
    #[serde(default)]
    pub tool: String,
    /// The tool class the connector mapped the tool onto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<ToolClass>,
    /// The call's arguments, secrets redacted.
    #[serde(default)]
    pub input: Value,
    /// The action taken: the policy's decision, or for a resolution the final
    /// one (approved = allow, denied/expired/cancelled = deny).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Action>,
    /// Labels of the deciding rules ([`crate::MatchedRule::label`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// The highest severity among the deciding rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Why, as told to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The held approval this record belongs to, linking decision, resolution and outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// Who acted: the approver's identity for a resolution, the admin for an admin act.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Through which channel they acted (`cli`, `dashboard`, `slack`, `link`, `host`, `clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The approver's stated reason, which reaches the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A kind-specific result word: `approved|denied|expired|cancelled` for a
    /// resolution, `success|error` for an outcome, `on|off` for lockdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl AuditRecord {
    /// An empty record of `kind` at `time`; fill in what applies.
    pub fn new(time: Timestamp, kind: AuditKind) -> AuditRecord {
        AuditRecord {
            time,
            kind,
            host: None,
            session: None,
            host_session: None,
            agent: None,
            cwd: None,
            tool: String::new(),
            class: None,
            input: Value::Null,
            decision: None,
            rules: Vec::new(),
            severity: None,
            message: None,
            approval_id: None,
            actor: None,
            channel: None,
            reason: None,
            outcome: None,
        }
    }

    /// A record about `call` in `ctx` with its input redacted, of any kind.
    /// Time is `ctx.now`.
    pub fn for_call(kind: AuditKind, call: &ToolCall, ctx: &CallContext) -> AuditRecord {
        AuditRecord {
            host: ctx.host.clone(),
            session: ctx.session.clone(),
            host_session: ctx.host_session_id.clone(),
            agent: ctx.agent.clone(),
            cwd: ctx.cwd.clone(),
            tool: call.tool.clone(),
            class: Some(call.class),
            input: super::redact(&call.input),
            ..AuditRecord::new(ctx.now, kind)
        }
    }

    /// The record of a policy decision on `call` (input redacted). Time is `ctx.now`.
    pub fn decision(call: &ToolCall, ctx: &CallContext, decision: &Decision) -> AuditRecord {
        AuditRecord {
            decision: Some(decision.action),
            rules: decision
                .rules
                .iter()
                .map(|r| r.label().to_owned())
                .collect(),
            severity: decision.severity,
            message: decision.message.clone(),
            ..AuditRecord::for_call(AuditKind::Decision, call, ctx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MatchedRule;
    use serde_json::json;

    #[test]
    fn kind_names_round_trip() {
        for k in AuditKind::ALL {
            assert_eq!(AuditKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AuditKind::parse("Decision"), None);
    }

    #[test]
    fn decision_record_copies_context_and_redacts_input() {
        let call = ToolCall::infer(
            "Bash",
            json!({"command": "curl -H 'Authorization: Bearer abcdefghijklmnop1234' x", "token": "t0p"}),
        );
        let ctx = CallContext {
            now: Timestamp(42),
            session: Some("repo/main".into()),
            host_session_id: Some("abc".into()),
            cwd: Some("/w".into()),
            host: Some("claude-code".into()),
            agent: Some("main".into()),
            home: None,
        };
        let mut decision = Decision::bare(Action::Ask, "needs a human");
        decision.rules.push(MatchedRule {
            name: "curl".into(),
            id: Some("NET-CURL".into()),
            action: Action::Ask,
            severity: Some(Severity::High),
            message: None,
        });
        decision.severity = Some(Severity::High);
        let rec = AuditRecord::decision(&call, &ctx, &decision);
        assert_eq!(rec.time, Timestamp(42));
        assert_eq!(rec.kind, AuditKind::Decision);
        assert_eq!(rec.session.as_deref(), Some("repo/main"));
        assert_eq!(rec.host_session.as_deref(), Some("abc"));
        assert_eq!(rec.class, Some(ToolClass::Exec));
        assert_eq!(rec.decision, Some(Action::Ask));
        assert_eq!(rec.rules, vec!["NET-CURL".to_string()]);
        assert_eq!(rec.input["token"], json!(super::super::REDACTED));
        let cmd = rec.input["command"].as_str().unwrap_or_default();
        assert!(!cmd.contains("abcdefghijklmnop1234"), "{cmd}");
    }
}
