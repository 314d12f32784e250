//! The canonical, versioned byte encoding of an [`AuditRecord`] and the chain
//! hash over it. The format is specified in the parent module's docs; change
//! it only together with [`ENCODING_VERSION`].

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{AuditRecord, Hash};

/// The version byte every encoding starts with. Stored beside each record so
/// old records stay verifiable after the format moves on.
pub const ENCODING_VERSION: u8 = 1;

/// The canonical encoding (version [`ENCODING_VERSION`]) of `rec`.
pub fn encode(rec: &AuditRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(ENCODING_VERSION);
    out.extend_from_slice(&rec.time.millis().to_be_bytes());
    put_str(&mut out, rec.kind.as_str());
    put_opt(&mut out, rec.host.as_deref());
    put_opt(&mut out, rec.session.as_deref());
    put_opt(&mut out, rec.host_session.as_deref());
    put_opt(&mut out, rec.agent.as_deref());
    put_opt(&mut out, rec.cwd.as_deref());
    put_str(&mut out, &rec.tool);
    put_opt(&mut out, rec.class.map(|c| c.as_str()));
    put_str(&mut out, &canonical_json(&rec.input));
    put_opt(&mut out, rec.decision.map(|d| d.as_str()));
    put_len(&mut out, rec.rules.len());
    for rule in &rec.rules {
        put_str(&mut out, rule);
    }
    put_opt(&mut out, rec.severity.map(|s| s.as_str()));
    put_opt(&mut out, rec.message.as_deref());
    put_opt(&mut out, rec.approval_id.as_deref());
    put_opt(&mut out, rec.actor.as_deref());
    put_opt(&mut out, rec.channel.as_deref());
    put_opt(&mut out, rec.reason.as_deref());
    put_opt(&mut out, rec.outcome.as_deref());
    out
}

/// `SHA-256(prev || u64be(seq) || encoding)`: the hash of record `seq`.
pub fn chain_hash(prev: &Hash, seq: u64, encoding: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev.0);
    h.update(seq.to_be_bytes());
    h.update(encoding);
    Hash(h.finalize().into())
}

/// `value` as canonical JSON: sorted keys, no whitespace (see the module docs).
/// Also the form the store keeps `input` in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value);
    out
}

fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json's map keeps insertion order when any
            // crate in the build enables `preserve_order`.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(out, k);
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal with the minimal escapes listed in the module docs.
fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths beyond u32 cannot come from a hook (payloads are capped far
    // below 4 GiB); saturate rather than panic, the hash still commits to the bytes.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditKind;
    use crate::{Action, Severity, Timestamp, ToolClass};
    use serde_json::json;

    /// A record with every field set, used by the golden vectors.
    pub(crate) fn golden_record() -> AuditRecord {
        AuditRecord {
            time: Timestamp(1_763_712_000_123),
            kind: AuditKind::Decision,
            host: Some("claude-code".into()),
            session: Some("gatehouse/main".into()),
            host_session: Some("3f2a".into()),
            agent: Some("main".into()),
            cwd: Some("/home/dev/gatehouse".into()),
            tool: "Bash".into(),
            class: Some(ToolClass::Exec),
            input: json!({"description": "wipe", "command": "rm -rf /tmp/x", "n": [1, 2.5, null, true]}),
            decision: Some(Action::Deny),
            rules: vec!["FS-RM-RF".into(), "custom".into()],
            severity: Some(Severity::Critical),
            message: Some("recursive delete".into()),
            approval_id: None,
            actor: None,
            channel: None,
            reason: None,
            outcome: None,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{ "b": 1, "a": {"z": "x\ny", "é": "\u0001", "A": -0.5e3} }"#)
                .unwrap_or_default();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"A":-500.0,"z":"x\ny","é":"\u0001"},"b":1}"#
        );
    }

    #[test]
    fn canonical_json_round_trips_through_text() {
        let v = json!({"f": 0.1, "g": 1e300, "h": -0.0, "i": u64::MAX, "j": i64::MIN, "s": "\u{7f}\"\\"});
        let text = canonical_json(&v);
        let back: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(canonical_json(&back), text);
    }

    /// Golden vector: if this fails, the encoding changed and every existing
    /// audit log would fail verification. Bump ENCODING_VERSION instead.
    #[test]
    fn golden_encoding_and_hash_are_stable() {
        let rec = golden_record();
        let enc = encode(&rec);
        assert_eq!(enc.len(), 263);
        assert_eq!(
            hex::encode(chain_hash(&Hash::GENESIS, 1, &enc).0),
            "8d2d8d9bbbb14aec3fbba8a262e4c567d943b403b8d5287dc32635717d9fc121"
        );
        let mut empty = AuditRecord::new(Timestamp(0), AuditKind::Admin);
        empty.tool = String::new();
        assert_eq!(
            hex::encode(encode(&empty)),
            "0100000000000000000000000561646d696e00000000000000000000000000046e756c6c000000000000000000000000"
        );
    }

    #[test]
    fn absent_differs_from_empty() {
        let a = AuditRecord::new(Timestamp(0), AuditKind::Decision);
        let mut b = a.clone();
        b.host = Some(String::new());
        assert_ne!(encode(&a), encode(&b));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = AuditRecord::new(Timestamp(0), AuditKind::Decision);
        a.host = Some("ab".into());
        a.session = Some("c".into());
        let mut b = a.clone();
        b.host = Some("a".into());
        b.session = Some("bc".into());
        assert_ne!(encode(&a), encode(&b));
    }

    #[test]
    fn key_order_of_input_does_not_matter() {
        let mut a = AuditRecord::new(Timestamp(0), AuditKind::Decision);
        a.input = serde_json::from_str(r#"{"x":1,"y":2}"#).unwrap_or_default();
        let mut b = a.clone();
        b.input = serde_json::from_str(r#"{"y":2,"x":1}"#).unwrap_or_default();
        assert_eq!(encode(&a), encode(&b));
    }

    type Mutation = fn(&mut AuditRecord);

    #[test]
    fn every_field_is_covered_by_the_encoding() {
        let base = golden_record();
        let base_enc = encode(&base);
        let mutations: Vec<(&str, Mutation)> = vec![
            ("time", |r| r.time = Timestamp(r.time.0 + 1)),
            ("kind", |r| r.kind = AuditKind::Outcome),
            ("host", |r| r.host = None),
            ("session", |r| r.session = Some("x".into())),
            ("host_session", |r| r.host_session = None),
            ("agent", |r| r.agent = None),
            ("cwd", |r| r.cwd = Some("/".into())),
            ("tool", |r| r.tool = "Read".into()),
            ("class", |r| r.class = Some(ToolClass::Read)),
            ("input", |r| r.input = json!({})),
            ("decision", |r| r.decision = Some(Action::Allow)),
            ("rules", |r| r.rules.pop().map(drop).unwrap_or_default()),
            ("severity", |r| r.severity = Some(Severity::Low)),
            ("message", |r| r.message = None),
            ("approval_id", |r| r.approval_id = Some("a1".into())),
            ("actor", |r| r.actor = Some("alice".into())),
            ("channel", |r| r.channel = Some("cli".into())),
            ("reason", |r| r.reason = Some("ok".into())),
            ("outcome", |r| r.outcome = Some("approved".into())),
        ];
        for (name, mutate) in mutations {
            let mut r = base.clone();
            mutate(&mut r);
            assert_ne!(encode(&r), base_enc, "field {name} is not covered");
        }
    }
}
