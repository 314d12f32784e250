//! Insights over past approvals: volume per rule per day, how they were
//! resolved, how long people took, and which rules look mis-tuned.
//!
//! Pure: approvals and `now` in, numbers out.

use std::collections::BTreeMap;

use gatehouse_core::Timestamp;
use gatehouse_core::approval::{Approval, ApprovalStatus, rule_key};
use serde::Serialize;

/// A rule approved at least this share of the time is a candidate to relax
/// (every prompt people always accept trains them to click without reading).
pub const RELAX_APPROVE_SHARE: f64 = 0.9;
/// A rule denied at least this share of the time might as well deny outright.
pub const OFTEN_DENIED_SHARE: f64 = 0.5;
/// Fewer decisions than this say nothing about a rule.
pub const MIN_DECISIONS: u32 = 5;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// One rule's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleStats {
    /// The rule's label (id or name), `(default)` for asks no rule made.
    pub rule: String,
    /// Approvals created, in the window.
    pub total: u32,
    /// Approved by people.
    pub approved: u32,
    /// Denied by people (lockdown included).
    pub denied: u32,
    /// Nobody answered in time.
    pub expired: u32,
    /// The caller withdrew.
    pub cancelled: u32,
    /// Approvals per day, oldest day first (aligned with [`Insights::days`]).
    pub by_day: Vec<u32>,
    /// Median milliseconds from ask to a person's decision.
    pub median_ms: Option<i64>,
}

/// Everything the insights page draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Insights {
    /// Start (ms, UTC midnight) of each day in the window, oldest first.
    pub days: Vec<i64>,
    /// Per rule, busiest first.
    pub rules: Vec<RuleStats>,
    /// Approved in the window, all rules.
    pub approved: u32,
    /// Denied in the window.
    pub denied: u32,
    /// Expired in the window.
    pub expired: u32,
    /// Cancelled in the window.
    pub cancelled: u32,
    /// Still pending.
    pub pending: u32,
    /// Median time to a person's decision over all rules.
    pub median_ms: Option<i64>,
    /// Rules almost always approved, with enough decisions to tell.
    pub relax_candidates: Vec<String>,
    /// Rules often denied.
    pub often_denied: Vec<String>,
}

/// Compute the insights of `approvals` created in the `days` days up to `now`.
pub fn compute(approvals: &[Approval], now: Timestamp, days: u32) -> Insights {
    let days = days.clamp(1, 366);
    let today = now.millis().div_euclid(DAY_MS) * DAY_MS;
    let first = today - i64::from(days - 1) * DAY_MS;
    let day_starts: Vec<i64> = (0..i64::from(days)).map(|i| first + i * DAY_MS).collect();
    let mut out = Insights {
        days: day_starts,
        ..Insights::default()
    };
    let mut rules: BTreeMap<String, (RuleStats, Vec<i64>)> = BTreeMap::new();
    let mut all_latencies = Vec::new();
    for a in approvals {
        let created = a.created_at.millis();
        if created < first {
            continue;
        }
        let day = usize::try_from((created - first) / DAY_MS).unwrap_or(usize::MAX);
        let latency = decided_after(a);
        match a.status {
            ApprovalStatus::Approved => out.approved += 1,
            ApprovalStatus::Denied => out.denied += 1,
            ApprovalStatus::Expired => out.expired += 1,
            ApprovalStatus::Cancelled => out.cancelled += 1,
            ApprovalStatus::Pending => out.pending += 1,
        }
        if let Some(ms) = latency {
            all_latencies.push(ms);
        }
        let mut labels = rule_key(&a.decision);
        if labels.is_empty() {
            labels.push("(default)".into());
        }
        for label in labels {
            let (stats, latencies) = rules.entry(label.clone()).or_insert_with(|| {
                (
                    RuleStats {
                        rule: label,
                        by_day: vec![0; out.days.len()],
                        ..RuleStats::default()
                    },
                    Vec::new(),
                )
            });
            stats.total += 1;
            if let Some(n) = stats.by_day.get_mut(day) {
                *n += 1;
            }
            match a.status {
                ApprovalStatus::Approved => stats.approved += 1,
                ApprovalStatus::Denied => stats.denied += 1,
                ApprovalStatus::Expired => stats.expired += 1,
                ApprovalStatus::Cancelled => stats.cancelled += 1,
                ApprovalStatus::Pending => {}
            }
            if let Some(ms) = latency {
                latencies.push(ms);
            }
        }
    }
    out.median_ms = median(&mut all_latencies);
    let mut list: Vec<RuleStats> = rules
        .into_values()
        .map(|(mut stats, mut latencies)| {
            stats.median_ms = median(&mut latencies);
            stats
        })
        .collect();
    list.sort_by(|a, b| b.total.cmp(&a.total).then(a.rule.cmp(&b.rule)));
    for r in &list {
        let decided = r.approved + r.denied;
        if decided < MIN_DECISIONS {
            continue;
        }
        let share = |n: u32| f64::from(n) / f64::from(decided);
        if share(r.approved) >= RELAX_APPROVE_SHARE {
            out.relax_candidates.push(r.rule.clone());
        }
        if share(r.denied) >= OFTEN_DENIED_SHARE {
            out.often_denied.push(r.rule.clone());
        }
    }
    out.rules = list;
    out
}

/// Milliseconds from ask to a person's approve/deny (expiry and cancel are not decisions).
fn decided_after(a: &Approval) -> Option<i64> {
    let r = a.resolution.as_ref()?;
    matches!(r.status, ApprovalStatus::Approved | ApprovalStatus::Denied)
        .then(|| (r.at.millis() - a.created_at.millis()).max(0))
}

fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    let upper = *values.get(mid)?;
    if values.len() % 2 == 1 {
        Some(upper)
    } else {
        let lower = *values.get(mid - 1)?;
        Some(lower + (upper - lower) / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::approval::{Channel, Event};
    use gatehouse_core::{Action, CallContext, Decision, MatchedRule, ToolCall};

    const NOW: i64 = 1_700_000_000_000;

    fn approval(id: &str, rule: &str, created: i64, outcome: Option<(bool, i64)>) -> Approval {
        let mut decision = Decision::bare(Action::Ask, "needs approval");
        decision.rules.push(MatchedRule {
            name: rule.into(),
            id: None,
            action: Action::Ask,
            severity: None,
            message: None,
        });
        let mut a = Approval::new(
            id.into(),
            ToolCall::exec("kubectl apply -f x"),
            CallContext::default(),
            decision,
            "agent".into(),
            Timestamp(created),
            3600,
        );
        if let Some((approve, after)) = outcome {
            let ev = if approve {
                Event::Approve {
                    approver: "alice".into(),
                    channel: Channel::Dashboard,
                    reason: None,
                    grant_ttl_secs: None,
                }
            } else {
                Event::Deny {
                    approver: "alice".into(),
                    channel: Channel::Dashboard,
                    reason: Some("no".into()),
                }
            };
            a.apply(ev, Timestamp(created + after)).expect("resolves");
        }
        a
    }

    #[test]
    fn rules_always_approved_are_relax_candidates_and_often_denied_ones_are_flagged() {
        let mut list = Vec::new();
        for i in 0..6 {
            list.push(approval(
                &format!("a{i}"),
                "deploys",
                NOW - 1000,
                Some((true, 1000 * (i + 1))),
            ));
        }
        for i in 0..5 {
            list.push(approval(
                &format!("d{i}"),
                "refunds",
                NOW - 1000,
                Some((i >= 3, 500)),
            ));
        }
        list.push(approval("p", "deploys", NOW - 10, None));
        let ins = compute(&list, Timestamp(NOW), 7);
        assert_eq!(ins.days.len(), 7);
        assert_eq!(ins.relax_candidates, vec!["deploys".to_string()]);
        assert_eq!(ins.often_denied, vec!["refunds".to_string()]);
        assert_eq!((ins.approved, ins.denied, ins.pending), (8, 3, 1));
        let deploys = ins
            .rules
            .iter()
            .find(|r| r.rule == "deploys")
            .expect("deploys");
        assert_eq!(deploys.total, 7);
        assert_eq!(deploys.by_day.last(), Some(&7));
        assert_eq!(deploys.median_ms, Some(3500));
    }

    #[test]
    fn few_decisions_flag_nothing_and_old_approvals_are_outside_the_window() {
        let list = vec![
            approval("a", "r", NOW - 1000, Some((true, 10))),
            approval("old", "r", NOW - 30 * DAY_MS, Some((false, 10))),
        ];
        let ins = compute(&list, Timestamp(NOW), 7);
        assert!(ins.relax_candidates.is_empty() && ins.often_denied.is_empty());
        assert_eq!((ins.approved, ins.denied), (1, 0));
        assert_eq!(ins.median_ms, Some(10));
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5]), Some(5));
        assert_eq!(median(&mut [1, 3]), Some(2));
        assert_eq!(median(&mut [9, 1, 4]), Some(4));
    }
}
