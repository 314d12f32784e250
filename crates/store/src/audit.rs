//! The audit log's storage contract: one trait, implemented by every backend.

use gatehouse_core::audit::{AuditKind, AuditRecord, ChainFault, ChainHead, ChainSummary, Hash};
use gatehouse_core::{Action, Timestamp};

use crate::StoreError;

/// A record as stored: its place in the chain plus the record itself.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the log, from 1 without gaps; the resume key for tails and exports.
    pub seq: u64,
    /// This record's chain hash.
    pub hash: Hash,
    /// The previous record's hash, which this one was chained to.
    pub prev: Hash,
    /// The record.
    pub record: AuditRecord,
}

/// Which records a query returns. The default returns everything, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// Only records after this sequence number (a tail's or export's resume point).
    pub after: u64,
    /// At most this many records.
    pub limit: Option<usize>,
    /// Take the newest matching records instead of the oldest (`tail -n`);
    /// they are still returned oldest first.
    pub newest: bool,
    /// Only records at or after this time.
    pub since: Option<Timestamp>,
    /// Only records before this time.
    pub until: Option<Timestamp>,
    /// Only records of this kind.
    pub kind: Option<AuditKind>,
    /// Only records with this decision.
    pub decision: Option<Action>,
    /// Only records of this session (`session`, or the host's own session id).
    pub session: Option<String>,
    /// Only records of this raw tool name.
    pub tool: Option<String>,
    /// Only records one of whose deciding rules has this label.
    pub rule: Option<String>,
    /// Only records about this approval.
    pub approval_id: Option<String>,
}

/// What verification found: the chain is intact, or the first bad record.
pub type Verification = Result<ChainSummary, ChainFault>;

/// Append-only, hash-chained storage of [`AuditRecord`]s.
///
/// Every backend guarantees that appends from any number of threads and
/// processes form one chain (no fork, no gap), and that a record is durable
/// when `append` returns. The trait is synchronous; async callers use
/// `spawn_blocking`.
pub trait AuditStore: Send + Sync {
    /// Appends one record durably and returns where it landed in the chain:
    /// a batch of one, so both backends share one append path.
    fn append(&self, record: &AuditRecord) -> Result<AuditEntry, StoreError> {
        let mut entries = self.append_batch(std::slice::from_ref(record))?;
        entries.pop().ok_or(StoreError::Database {
            context: "append",
            source: "no entry was written".into(),
        })
    }

    /// Appends records in order in one transaction (one durable write for
    /// all): all land consecutively or none does.
    fn append_batch(&self, records: &[AuditRecord]) -> Result<Vec<AuditEntry>, StoreError>;

    /// The stored head: the last record's sequence number and hash.
    fn head(&self) -> Result<Option<ChainHead>, StoreError>;

    /// The records matching `query`, oldest first.
    fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Walks the whole chain against the head in one consistent snapshot.
    /// `Err` only when the store cannot be read at all; damage is `Ok(Err(fault))`.
    fn verify(&self) -> Result<Verification, StoreError>;
}
