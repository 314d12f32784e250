//! Prometheus metrics in the text exposition format, kept by hand: three
//! families do not justify a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use gatehouse_core::Action;
use gatehouse_core::approval::ApprovalStatus;

/// Upper bounds (seconds) of the approval latency histogram: people take
/// seconds to hours.
const LATENCY_BUCKETS: [f64; 11] = [
    0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0,
];

/// Counters the daemon updates as it works.
#[derive(Default)]
pub struct Metrics {
    decisions: [AtomicU64; 4],
    resolutions: [AtomicU64; 4],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ms: AtomicU64,
}

const ACTIONS: [Action; 4] = [Action::Defer, Action::Allow, Action::Ask, Action::Deny];
const FINAL: [ApprovalStatus; 4] = [
    ApprovalStatus::Approved,
    ApprovalStatus::Denied,
    ApprovalStatus::Expired,
    ApprovalStatus::Cancelled,
];

impl Metrics {
    /// Count one decision.
    pub fn decision(&self, action: Action) {
        if let Some(i) = ACTIONS.iter().position(|a| *a == action) {
            self.decisions[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Count one resolution that took `latency_ms` from creation.
    pub fn resolved(&self, status: ApprovalStatus, latency_ms: i64) {
        if let Some(i) = FINAL.iter().position(|s| *s == status) {
            self.resolutions[i].fetch_add(1, Ordering::Relaxed);
        }
        let ms = u64::try_from(latency_ms).unwrap_or(0);
        let secs = ms as f64 / 1000.0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The exposition text, with the pending gauge and lockdown state given.
    pub fn render(&self, pending: usize, lockdown: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP gatehouse_decisions_total Decisions made, by action."
        );
        let _ = writeln!(out, "# TYPE gatehouse_decisions_total counter");
        for (i, a) in ACTIONS.iter().enumerate() {
            let n = self.decisions[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "gatehouse_decisions_total{{action=\"{a}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP gatehouse_approvals_resolved_total Approvals resolved, by final status."
        );
        let _ = writeln!(out, "# TYPE gatehouse_approvals_resolved_total counter");
        for (i, s) in FINAL.iter().enumerate() {
            let n = self.resolutions[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "gatehouse_approvals_resolved_total{{status=\"{s}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP gatehouse_approvals_pending Approvals waiting for a person."
        );
        let _ = writeln!(out, "# TYPE gatehouse_approvals_pending gauge");
        let _ = writeln!(out, "gatehouse_approvals_pending {pending}");
        let _ = writeln!(out, "# HELP gatehouse_lockdown 1 while lockdown is on.");
        let _ = writeln!(out, "# TYPE gatehouse_lockdown gauge");
        let _ = writeln!(out, "gatehouse_lockdown {}", u8::from(lockdown));
        let _ = writeln!(
            out,
            "# HELP gatehouse_approval_latency_seconds Time from an approval's creation to its resolution."
        );
        let _ = writeln!(out, "# TYPE gatehouse_approval_latency_seconds histogram");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let n = self.latency_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "gatehouse_approval_latency_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let sum = self.latency_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "gatehouse_approval_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(out, "gatehouse_approval_latency_seconds_sum {sum}");
        let _ = writeln!(out, "gatehouse_approval_latency_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.decision(Action::Ask);
        m.resolved(ApprovalStatus::Approved, 2_000);
        m.resolved(ApprovalStatus::Denied, 100);
        let text = m.render(3, false);
        assert!(text.contains("gatehouse_decisions_total{action=\"ask\"} 1"));
        assert!(text.contains("gatehouse_approvals_pending 3"));
        assert!(text.contains("gatehouse_approval_latency_seconds_bucket{le=\"0.1\"} 1"));
        assert!(text.contains("gatehouse_approval_latency_seconds_bucket{le=\"5\"} 2"));
        assert!(text.contains("gatehouse_approval_latency_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("gatehouse_approval_latency_seconds_sum 2.1"));
    }
}
