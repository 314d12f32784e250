//! How an `ask` is held: the seam between the proxy and whoever answers it.
//!
//! The binary plugs in the approval daemon's client; without a daemon it plugs
//! in [`Fixed`], which answers every hold at once as the policy's
//! `approval.headless` setting says.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::oneshot;

use crate::session::{HoldOutcome, HoldTicket};

/// A boxed future of a hold's outcome.
pub type HoldFuture = Pin<Box<dyn Future<Output = HoldOutcome> + Send>>;

/// Holds a call until a person decides.
pub trait Approver: Send + Sync + 'static {
    /// Holds `ticket`'s call. The future ends with the person's answer, or a
    /// denial on expiry or error (fail closed). When `cancelled` fires (the
    /// client cancelled the call, or the proxy is shutting down) the approver
    /// should withdraw the pending approval and end promptly; its outcome is
    /// then ignored.
    fn hold(&self, ticket: HoldTicket, cancelled: oneshot::Receiver<()>) -> HoldFuture;
}

/// Answers every hold at once with the same outcome: the policy's
/// `approval.headless` behaviour when no approval daemon is available.
#[derive(Debug, Clone)]
pub struct Fixed(pub HoldOutcome);

impl Approver for Fixed {
    fn hold(&self, _ticket: HoldTicket, _cancelled: oneshot::Receiver<()>) -> HoldFuture {
        let outcome = self.0.clone();
        Box::pin(async move { outcome })
    }
}
