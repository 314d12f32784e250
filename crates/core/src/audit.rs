//! The audit record, its canonical encoding, the hash chain and redaction.
//!
//! Every decision, every approval resolution and every outcome gatehouse sees
//! becomes one [`AuditRecord`]. Records are appended to a chain: each carries a
//! sequence number and a SHA-256 hash that commits to the previous record's
//! hash, its own sequence number and its canonical encoding, so a verifier can
//! name the first record that was modified, deleted, reordered or inserted, and
//! a separately stored [`ChainHead`] exposes truncation of the tail.
//!
//! # Canonical encoding, version 1
//!
//! The hash never covers whatever serde happens to emit: it covers the byte
//! string defined here, which only changes together with [`ENCODING_VERSION`].
//!
//! ```text
//! encoding  := 0x01 field{19}              version byte, then every field, in this order
//! str       := u32be(len) utf8-bytes       length-prefixed UTF-8
//! opt       := 0x00 | 0x01 str             absent | present (absent != empty string)
//! list      := u32be(count) str{count}
//! fields    := time      i64be (ms since the Unix epoch, UTC)
//!              kind      str   (AuditKind::as_str)
//!              host      opt
//!              session   opt
//!              host_session opt
//!              agent     opt
//!              cwd       opt
//!              tool      str
//!              class     opt   (ToolClass::as_str)
//!              input     str   (canonical JSON, below)
//!              decision  opt   (Action::as_str)
//!              rules     list
//!              severity  opt   (Severity::as_str)
//!              message   opt
//!              approval_id opt
//!              actor     opt
//!              channel   opt
//!              reason    opt
//!              outcome   opt
//! ```
//!
//! Canonical JSON: no whitespace; object keys sorted by their UTF-8 bytes
//! (duplicates cannot occur in a parsed value); strings escaped as `serde_json`
//! escapes them (`\"`, `\\`, `\b\f\n\r\t`, other control characters as
//! `\u00XX`, everything else literal UTF-8); integers in decimal; floats in the
//! shortest form that round-trips (`serde_json`'s `float_roundtrip` is on so the
//! stored text parses back to the same value).
//!
//! # Chain
//!
//! ```text
//! hash_0 = 32 zero bytes (genesis)
//! hash_n = SHA-256(hash_{n-1} || u64be(seq_n) || encoding_n)     seq_1 = 1, seq_n = seq_{n-1} + 1
//! head   = (seq_last, hash_last), stored apart from the records
//! ```
//!
//! Each stored record also keeps the `prev` hash it was chained to, so the
//! verifier can tell a record that was edited in place (its own hash no longer
//! matches) from one that was moved (it matches at another sequence number) or
//! one that does not belong (it matches itself but not its predecessor).
//!
//! What the chain cannot do on its own: someone who can write the database can
//! rewrite the whole chain and the head consistently. Anchor the head elsewhere
//! (`gatehouse audit head`) to catch that.

mod chain;
mod encoding;
mod record;
mod redact;

pub use chain::{
    ChainFault, ChainHead, ChainLink, ChainSummary, ChainVerifier, Hash, verify_chain,
};
pub use encoding::{ENCODING_VERSION, canonical_json, chain_hash, encode};
pub use record::{AuditKind, AuditRecord};
pub use redact::{REDACTED, redact, redact_str};
