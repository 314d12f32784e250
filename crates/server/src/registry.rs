//! Approvals in memory, each with a `watch` channel its waiters sleep on.
//!
//! `latest` is the state after every accepted event; `published` (what the
//! channel carries) is the latest state that is *durable*. Waiters only ever
//! see durable states, in order: a version number stops a slow
//! acknowledgement from publishing an older state over a newer one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use gatehouse_core::Timestamp;
use gatehouse_core::approval::{Approval, ApprovalStatus};
use tokio::sync::watch;

/// One approval in memory.
pub struct Entry {
    /// State after every accepted event (possibly not yet durable).
    pub latest: Approval,
    /// Bumped by every accepted event.
    pub version: u64,
    /// The version last published to waiters.
    pub published_version: u64,
    /// Carries the durable state to waiters.
    pub tx: Arc<watch::Sender<Arc<Approval>>>,
}

/// Every approval the daemon holds in memory: all pending ones and recently
/// resolved ones (so a waiter resuming after a drop is answered at once).
#[derive(Default)]
pub struct Registry {
    map: Mutex<HashMap<String, Entry>>,
}

impl Registry {
    /// Lock the map. A poisoned lock (a panic elsewhere while holding it) is
    /// taken over: the map itself stays consistent between statements.
    pub fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add an approval whose state is already durable.
    pub fn insert(&self, approval: Approval) {
        let (tx, _) = watch::channel(Arc::new(approval.clone()));
        self.lock().insert(
            approval.id.clone(),
            Entry {
                latest: approval.clone(),
                version: 0,
                published_version: 0,
                tx: Arc::new(tx),
            },
        );
    }

    /// Publish `snapshot` as version `version` of approval `id`, unless a newer one is out.
    pub fn publish(&self, id: &str, version: u64, snapshot: Approval) {
        let mut map = self.lock();
        if let Some(entry) = map.get_mut(id)
            && entry.published_version < version
        {
            entry.published_version = version;
            entry.tx.send_replace(Arc::new(snapshot));
        }
    }

    /// A receiver for `id`'s durable state, if it is in memory.
    pub fn subscribe(&self, id: &str) -> Option<watch::Receiver<Arc<Approval>>> {
        self.lock().get(id).map(|e| e.tx.subscribe())
    }

    /// The durable state of `id`, if in memory.
    pub fn get(&self, id: &str) -> Option<Arc<Approval>> {
        self.lock().get(id).map(|e| e.tx.borrow().clone())
    }

    /// Durable states of the pending approvals, oldest first.
    pub fn pending(&self) -> Vec<Arc<Approval>> {
        let mut out: Vec<Arc<Approval>> = self
            .lock()
            .values()
            .map(|e| e.tx.borrow().clone())
            .filter(|a| a.status == ApprovalStatus::Pending)
            .collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        out
    }

    /// How many are pending now.
    pub fn pending_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| e.latest.status == ApprovalStatus::Pending)
            .count()
    }

    /// Ids of pending approvals whose deadline has passed at `now`.
    pub fn due(&self, now: Timestamp) -> Vec<String> {
        self.lock()
            .values()
            .filter(|e| e.latest.is_due(now))
            .map(|e| e.latest.id.clone())
            .collect()
    }

    /// Forget resolved approvals resolved before `before` (they stay in the database).
    pub fn evict_resolved(&self, before: Timestamp) {
        self.lock().retain(|_, e| match &e.latest.resolution {
            Some(r) => r.at >= before || e.published_version < e.version,
            None => true,
        });
    }

    /// Whether anyone is waiting on `id` right now.
    pub fn has_waiters(&self, id: &str) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|e| e.tx.receiver_count() > 0)
    }
}
