//! The one writer: groups the audit records and state changes of many
//! requests into one SQLite transaction, so durable writes cost a commit per
//! batch rather than per request.
//!
//! Requests send a [`Job`] and wait for its acknowledgement; nothing is
//! acknowledged before its batch has committed. Jobs are applied in the order
//! they were sent, so a caller that sends while holding a lock gets its
//! writes ordered by that lock.

use gatehouse_core::Timestamp;
use gatehouse_core::approval::{Approval, Grant};
use gatehouse_core::audit::AuditRecord;
use gatehouse_store::daemon_store::{DaemonStore, TokenRecord};
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;

use gatehouse_store::AuditStore;

/// The most jobs committed together: bounds the latency of the first one.
const MAX_BATCH: usize = 2048;

/// A state change of the daemon's tables.
#[derive(Debug)]
pub enum StateWrite {
    /// Insert or rewrite an approval.
    Approval(Box<Approval>),
    /// Insert or rewrite a grant.
    Grant(Grant),
    /// Insert a token.
    Token(TokenRecord),
    /// Revoke a token by name.
    RevokeToken(String, Timestamp),
    /// Switch lockdown.
    Lockdown(bool),
}

/// One request's writes and where to acknowledge them.
pub struct Job {
    /// Appended to the audit chain, in order.
    pub audit: Vec<AuditRecord>,
    /// Applied to the daemon's tables.
    pub state: Vec<StateWrite>,
    /// Told once the batch holding this job committed (or failed).
    pub ack: oneshot::Sender<Result<(), String>>,
}

/// Start the writer thread; it ends when every sender is gone.
pub fn spawn(
    mut store: DaemonStore,
    audit: Arc<dyn AuditStore>,
) -> std::io::Result<(mpsc::UnboundedSender<Job>, std::thread::JoinHandle<()>)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    let handle = std::thread::Builder::new()
        .name("gatehouse-writer".into())
        .spawn(move || {
            let mut batch: Vec<Job> = Vec::new();
            let mut records: Vec<AuditRecord> = Vec::new();
            while let Some(first) = rx.blocking_recv() {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let result = commit(&mut store, audit.as_ref(), &mut batch, &mut records);
                if let Err(e) = &result {
                    tracing::error!("write batch of {} failed: {e}", batch.len());
                }
                for job in batch.drain(..) {
                    let _ = job.ack.send(result.clone());
                }
            }
        })?;
    Ok((tx, handle))
}

fn commit(
    store: &mut DaemonStore,
    audit: &dyn AuditStore,
    batch: &mut [Job],
    records: &mut Vec<AuditRecord>,
) -> Result<(), String> {
    // State first: an acknowledged resolution is then never missing from the
    // restored state, and the audit append follows in its own transaction.
    if batch.iter().any(|j| !j.state.is_empty()) {
        store
            .transaction(|tx| {
                for job in batch.iter() {
                    for w in &job.state {
                        match w {
                            StateWrite::Approval(a) => tx.put_approval(a)?,
                            StateWrite::Grant(g) => tx.put_grant(g)?,
                            StateWrite::Token(t) => {
                                tx.insert_token(t)?;
                            }
                            StateWrite::RevokeToken(name, at) => {
                                tx.revoke_token(name, *at)?;
                            }
                            StateWrite::Lockdown(on) => tx.set_lockdown(*on)?,
                        }
                    }
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
    }
    records.clear();
    for job in batch.iter_mut() {
        records.append(&mut job.audit);
    }
    if records.is_empty() {
        return Ok(());
    }
    audit
        .append_batch(records)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
