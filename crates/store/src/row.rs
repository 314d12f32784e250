//! A stored audit row in backend-neutral form, and its strict conversion back
//! into domain values. Shared by every backend so they store the same thing.

use gatehouse_core::audit::{
    AuditKind, AuditRecord, ChainLink, ENCODING_VERSION, Hash, canonical_json,
};
use gatehouse_core::{Action, Severity, Timestamp, ToolClass};

use crate::{AuditEntry, StoreError};

/// The columns of one row, as plain values. Column order of every `SELECT`
/// is [`COLUMNS`].
#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub v: i64,
    pub time: i64,
    pub kind: String,
    pub host: Option<String>,
    pub session: Option<String>,
    pub host_session: Option<String>,
    pub agent: Option<String>,
    pub cwd: Option<String>,
    pub tool: String,
    pub class: Option<String>,
    pub input: String,
    pub decision: Option<String>,
    pub rules: String,
    pub severity: Option<String>,
    pub message: Option<String>,
    pub approval_id: Option<String>,
    pub actor: Option<String>,
    pub channel: Option<String>,
    pub reason: Option<String>,
    pub outcome: Option<String>,
    pub prev: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Every column after `seq`, in [`RawRow`] field order.
pub(crate) const COLUMNS: [&str; 22] = [
    "v",
    "time",
    "kind",
    "host",
    "session",
    "host_session",
    "agent",
    "cwd",
    "tool",
    "class",
    "input",
    "decision",
    "rules",
    "severity",
    "message",
    "approval_id",
    "actor",
    "channel",
    "reason",
    "outcome",
    "prev",
    "hash",
];

impl RawRow {
    /// The row that stores `rec` chained as `prev` -> `hash`.
    pub fn from_record(rec: &AuditRecord, prev: &Hash, hash: &Hash) -> RawRow {
        RawRow {
            v: i64::from(ENCODING_VERSION),
            time: rec.time.millis(),
            kind: rec.kind.as_str().to_owned(),
            host: rec.host.clone(),
            session: rec.session.clone(),
            host_session: rec.host_session.clone(),
            agent: rec.agent.clone(),
            cwd: rec.cwd.clone(),
            tool: rec.tool.clone(),
            class: rec.class.map(|c| c.as_str().to_owned()),
            input: canonical_json(&rec.input),
            // A Vec<String> always serialises; the fallback is unreachable.
            rules: serde_json::to_string(&rec.rules).unwrap_or_else(|_| "[]".into()),
            decision: rec.decision.map(|d| d.as_str().to_owned()),
            severity: rec.severity.map(|s| s.as_str().to_owned()),
            message: rec.message.clone(),
            approval_id: rec.approval_id.clone(),
            actor: rec.actor.clone(),
            channel: rec.channel.clone(),
            reason: rec.reason.clone(),
            outcome: rec.outcome.clone(),
            prev: prev.0.to_vec(),
            hash: hash.0.to_vec(),
        }
    }

    /// The record these columns hold, or what is wrong with them.
    pub fn record(&self) -> Result<AuditRecord, String> {
        if self.v != i64::from(ENCODING_VERSION) {
            return Err(format!("encoding version {} is not supported", self.v));
        }
        Ok(AuditRecord {
            time: Timestamp(self.time),
            kind: AuditKind::parse(&self.kind).ok_or_else(|| bad("kind", &self.kind))?,
            host: self.host.clone(),
            session: self.session.clone(),
            host_session: self.host_session.clone(),
            agent: self.agent.clone(),
            cwd: self.cwd.clone(),
            tool: self.tool.clone(),
            class: parse_opt(&self.class, "class", ToolClass::from_class_name)?,
            input: serde_json::from_str(&self.input)
                .map_err(|e| format!("input is not JSON: {e}"))?,
            decision: parse_opt(&self.decision, "decision", Action::parse)?,
            rules: serde_json::from_str(&self.rules)
                .map_err(|e| format!("rules is not a JSON list of strings: {e}"))?,
            severity: parse_opt(&self.severity, "severity", Severity::parse)?,
            message: self.message.clone(),
            approval_id: self.approval_id.clone(),
            actor: self.actor.clone(),
            channel: self.channel.clone(),
            reason: self.reason.clone(),
            outcome: self.outcome.clone(),
        })
    }

    /// The row as the verifier sees it.
    pub fn link(&self, seq: u64) -> ChainLink {
        let hashes = Hash::from_slice(&self.prev)
            .ok_or_else(|| format!("prev holds {} bytes, not 32", self.prev.len()))
            .and_then(|prev| {
                Hash::from_slice(&self.hash)
                    .map(|hash| (prev, hash))
                    .ok_or_else(|| format!("hash holds {} bytes, not 32", self.hash.len()))
            });
        match hashes {
            Ok((prev, hash)) => ChainLink {
                seq,
                prev,
                hash,
                record: self.record(),
            },
            Err(why) => ChainLink {
                seq,
                prev: Hash::GENESIS,
                hash: Hash::GENESIS,
                record: Err(why),
            },
        }
    }

    /// The row as a query result; a row that cannot be read is an error.
    pub fn entry(&self, seq: u64) -> Result<AuditEntry, StoreError> {
        let link = self.link(seq);
        let record = link
            .record
            .map_err(|detail| StoreError::Corrupt { seq, detail })?;
        Ok(AuditEntry {
            seq,
            hash: link.hash,
            prev: link.prev,
            record,
        })
    }
}

fn bad(column: &str, value: &str) -> String {
    format!("{column} holds {value:?}")
}

fn parse_opt<T>(
    value: &Option<String>,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, String> {
    match value {
        None => Ok(None),
        Some(s) => parse(s).map(Some).ok_or_else(|| bad(column, s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::audit::encode;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Arbitrary JSON, with the awkward corners: floats, huge integers,
    /// control characters, non-ASCII keys, nesting.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            "[\\x00-\\x1f\"\\\\]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// What a backend stores reads back into a record with the very same
        /// encoding, so stored records always verify.
        #[test]
        fn stored_columns_reproduce_the_encoding(input in json(), tool in "\\PC{0,10}", rules in prop::collection::vec("\\PC{0,8}", 0..3)) {
            let mut rec = AuditRecord::new(Timestamp(-5), AuditKind::Outcome);
            rec.input = input;
            rec.tool = tool;
            rec.rules = rules;
            rec.outcome = Some("success".into());
            let row = RawRow::from_record(&rec, &Hash::GENESIS, &Hash::GENESIS);
            let back = row.record();
            prop_assert!(back.is_ok(), "{:?}", back);
            let back = back.unwrap_or_else(|_| rec.clone());
            prop_assert_eq!(encode(&back), encode(&rec));
        }
    }
}
