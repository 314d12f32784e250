//! The hash chain: hashes, the head, and the verifier that names the first bad record.

use serde::{Deserialize, Serialize};

use super::{AuditRecord, chain_hash, encode};

/// A SHA-256 chain hash. Shown as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev` of the first record.
    pub const GENESIS: Hash = Hash([0; 32]);

    /// The hash stored as raw bytes; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }

    /// The hash written as 64 hex digits; `None` for anything else.
    pub fn from_hex(s: &str) -> Option<Hash> {
        let bytes = hex::decode(s).ok()?;
        Hash::from_slice(&bytes)
    }

    /// Lowercase hex, as shown to people and in exports.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// The last record's sequence number and hash, stored apart from the records
/// so that cutting records off the end is detectable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Sequence number of the last record (= number of records).
    pub seq: u64,
    /// Hash of the last record.
    pub hash: Hash,
}

/// One stored record as the verifier sees it: what the store holds, unchecked.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainLink {
    /// The stored sequence number.
    pub seq: u64,
    /// The stored hash of the previous record, which this one was chained to.
    pub prev: Hash,
    /// The stored hash of this record.
    pub hash: Hash,
    /// The stored fields, or why they could not be read back (a tampered
    /// column holding an unknown decision, a hash of the wrong length...).
    pub record: Result<AuditRecord, String>,
}

/// What is wrong with a chain: always about the first bad record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainFault {
    /// The record's contents no longer match its hash.
    #[error("record #{seq}: modified ({detail})")]
    Modified {
        /// The record.
        seq: u64,
        /// What does not match.
        detail: String,
    },
    /// Records `seq..=through` are gone from the middle of the chain.
    #[error("record #{seq}: missing (deleted{})", if through > seq { format!("; #{seq}..#{through} are gone") } else { String::new() })]
    Missing {
        /// The first missing record.
        seq: u64,
        /// The last missing record.
        through: u64,
    },
    /// The record at `seq` was written as record `written_as`.
    #[error("record #{seq}: reordered (it was written as record #{written_as})")]
    Reordered {
        /// Where the record sits now.
        seq: u64,
        /// The sequence number its hash was computed for.
        written_as: u64,
    },
    /// The record does not belong to the chain.
    #[error("record #{seq}: inserted ({detail})")]
    Inserted {
        /// The record.
        seq: u64,
        /// Why it does not belong.
        detail: String,
    },
    /// The log ends before the head says it should.
    #[error("record #{}: missing (truncated: the log ends at #{last} but its head records #{head})", last + 1)]
    Truncated {
        /// The last record present (0 for none).
        last: u64,
        /// The last record according to the head.
        head: u64,
    },
    /// The head does not match the last record.
    #[error("record #{seq}: head mismatch ({detail})")]
    HeadMismatch {
        /// The last record.
        seq: u64,
        /// What does not match.
        detail: String,
    },
}

impl ChainFault {
    /// The number of the first bad record.
    pub fn seq(&self) -> u64 {
        match self {
            ChainFault::Modified { seq, .. }
            | ChainFault::Missing { seq, .. }
            | ChainFault::Reordered { seq, .. }
            | ChainFault::Inserted { seq, .. }
            | ChainFault::HeadMismatch { seq, .. } => *seq,
            ChainFault::Truncated { last, .. } => last.saturating_add(1),
        }
    }

    /// One word for the kind of damage, for scripts and exports.
    pub fn kind(&self) -> &'static str {
        match self {
            ChainFault::Modified { .. } => "modified",
            ChainFault::Missing { .. } => "missing",
            ChainFault::Reordered { .. } => "reordered",
            ChainFault::Inserted { .. } => "inserted",
            ChainFault::Truncated { .. } => "truncated",
            ChainFault::HeadMismatch { .. } => "head-mismatch",
        }
    }
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// How many records were checked.
    pub records: u64,
    /// The head they end in (`None` for an empty log).
    pub head: Option<ChainHead>,
}

/// How far around a mismatching record to look for the sequence number it was
/// written as. Wide enough for any hand edit; bounded so a damaged log with
/// millions of records still verifies in bounded time.
const REORDER_WINDOW: u64 = 1024;

/// Checks records one at a time, in stored order, so a log of any length is
/// verified in constant memory. Stops being useful after the first fault.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    head: Option<ChainHead>,
    prev: Hash,
    last: u64,
}

impl ChainVerifier {
    /// A verifier for a log whose stored head is `head` (`None` if there is none).
    pub fn new(head: Option<ChainHead>) -> ChainVerifier {
        ChainVerifier {
            head,
            prev: Hash::GENESIS,
            last: 0,
        }
    }

    /// Checks the next stored record.
    pub fn push(&mut self, link: &ChainLink) -> Result<(), ChainFault> {
        let expected = self.last.saturating_add(1);
        if link.seq < expected {
            return Err(ChainFault::Inserted {
                seq: link.seq,
                detail: format!(
                    "it comes after record #{} (duplicate or out of order)",
                    self.last
                ),
            });
        }
        if link.seq > expected {
            return Err(ChainFault::Missing {
                seq: expected,
                through: link.seq - 1,
            });
        }
        if let Some(head) = self.head
            && link.seq > head.seq
        {
            return Err(ChainFault::Inserted {
                seq: link.seq,
                detail: format!("it lies beyond the head, which ends at #{}", head.seq),
            });
        }
        let record = link.record.as_ref().map_err(|why| ChainFault::Modified {
            seq: link.seq,
            detail: why.clone(),
        })?;
        let encoding = encode(record);
        if chain_hash(&link.prev, link.seq, &encoding) != link.hash {
            let lo = link.seq.saturating_sub(REORDER_WINDOW).max(1);
            let hi = link.seq.saturating_add(REORDER_WINDOW);
            if let Some(written_as) = (lo..=hi)
                .filter(|k| *k != link.seq)
                .find(|k| chain_hash(&link.prev, *k, &encoding) == link.hash)
            {
                return Err(ChainFault::Reordered {
                    seq: link.seq,
                    written_as,
                });
            }
            return Err(ChainFault::Modified {
                seq: link.seq,
                detail: "its contents no longer match its hash".into(),
            });
        }
        if link.prev != self.prev {
            let detail = if link.seq == 1 {
                "it does not start from the genesis hash".to_owned()
            } else {
                format!(
                    "it does not chain to record #{}, or #{} was rewritten",
                    self.last, self.last
                )
            };
            return Err(ChainFault::Inserted {
                seq: link.seq,
                detail,
            });
        }
        self.prev = link.hash;
        self.last = link.seq;
        Ok(())
    }

    /// Checks the end of the log against the head.
    pub fn finish(self) -> Result<ChainSummary, ChainFault> {
        let head = match self.head {
            None if self.last == 0 => {
                return Ok(ChainSummary {
                    records: 0,
                    head: None,
                });
            }
            None => {
                return Err(ChainFault::HeadMismatch {
                    seq: self.last,
                    detail: "the head is missing".into(),
                });
            }
            Some(head) => head,
        };
        if self.last < head.seq {
            return Err(ChainFault::Truncated {
                last: self.last,
                head: head.seq,
            });
        }
        if head.hash != self.prev {
            return Err(ChainFault::HeadMismatch {
                seq: self.last,
                detail: format!(
                    "the head records hash {} but the last record's hash is {}",
                    head.hash, self.prev
                ),
            });
        }
        Ok(ChainSummary {
            records: self.last,
            head: Some(head),
        })
    }
}

/// Verifies a whole log: `links` in stored order, `head` as stored.
/// `Ok` with a summary, or the first bad record and what is wrong with it.
pub fn verify_chain<'a>(
    links: impl IntoIterator<Item = &'a ChainLink>,
    head: Option<ChainHead>,
) -> Result<ChainSummary, ChainFault> {
    let mut verifier = ChainVerifier::new(head);
    for link in links {
        verifier.push(link)?;
    }
    verifier.finish()
}

#[cfg(test)]
mod tests;
