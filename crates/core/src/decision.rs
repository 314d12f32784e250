//! What the policy answered ([`Decision`]) and the scales it answers on.

use serde::{Deserialize, Serialize};

/// The outcome of a decision, ordered by restrictiveness: `Defer < Allow < Ask < Deny`.
/// Combining rules takes the maximum ("most restrictive wins").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// No opinion: the host's own permission system decides (allow where it has none).
    Defer,
    Allow,
    /// Hold the call until a person approves it.
    Ask,
    Deny,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Defer => "defer",
            Action::Allow => "allow",
            Action::Ask => "ask",
            Action::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "defer" => Some(Action::Defer),
            "allow" => Some(Action::Allow),
            "ask" => Some(Action::Ask),
            "deny" => Some(Action::Deny),
            _ => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One scale for bundled detections and user rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an `ask` is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// The host's native prompt where it has one, else the gateway.
    #[default]
    Auto,
    /// Always the host's native prompt.
    Native,
    /// Always a held approval on the daemon.
    Gateway,
}

/// A rule that contributed to a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedRule {
    pub name: String,
    /// Stable detection id (`PATH-ENV-FILE`), when the rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What this rule alone resolved to (after severity thresholds).
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl MatchedRule {
    /// The id if the rule has one, else its name: how the rule is shown to people.
    pub fn label(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }
}

/// The answer of policy evaluation. Evaluation never fails: a rule that cannot
/// be evaluated pushes `action` to the safe side and adds a diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub action: Action,
    /// The rules that decided it: every matching rule whose action equals `action`.
    pub rules: Vec<MatchedRule>,
    /// The highest severity among the deciding rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Why, for the agent and the approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Distinct approvers an `ask` needs (quorum); 1 unless a rule says more.
    pub approvers: u32,
    /// Where an `ask` is answered.
    pub via: Via,
    /// How long an `ask` may stay pending before it expires as a denial, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_secs: Option<u64>,
    /// For `exec` calls: every command that would execute, as normalised argv.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Vec<String>>,
    /// Problems met while deciding (a rule that failed to evaluate, unresolvable shell).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
}

impl Decision {
    /// A decision made without any rule (lockdown, a failed gate): `action` with `message`.
    pub fn bare(action: Action, message: impl Into<String>) -> Decision {
        Decision {
            action,
            rules: Vec::new(),
            severity: None,
            message: Some(message.into()),
            approvers: 1,
            via: Via::Auto,
            approval_timeout_secs: None,
            commands: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// Rule labels, comma-separated, for one-line output.
    pub fn rule_labels(&self) -> String {
        self.rules
            .iter()
            .map(MatchedRule::label)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictiveness_order_is_defer_allow_ask_deny() {
        let mut v = vec![Action::Deny, Action::Defer, Action::Ask, Action::Allow];
        v.sort();
        assert_eq!(
            v,
            vec![Action::Defer, Action::Allow, Action::Ask, Action::Deny]
        );
        assert_eq!(
            [Action::Allow, Action::Deny, Action::Ask].into_iter().max(),
            Some(Action::Deny)
        );
    }
}
