//! The sweep that expires overdue approvals (a denial, audited) and prunes memory.

use std::time::Duration;

use gatehouse_core::approval::Event;

use crate::clock;
use crate::state::AppState;

/// How often overdue approvals are looked for: expiry is late by at most this.
const SWEEP_EVERY: Duration = Duration::from_millis(200);

/// Run forever: expire what is due, forget what is stale.
pub async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        let now = clock::now();
        for id in state.registry().due(now) {
            if let Err(e) = state.transition(&id, Event::Expire).await {
                tracing::warn!("could not expire approval {id}: {e}");
            }
        }
        rounds += 1;
        if rounds.is_multiple_of(50) {
            state.prune(now);
        }
    }
}
