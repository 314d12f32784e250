//! Audit records as JSON Lines or CSV, for `gatehouse audit export`, the
//! daemon's audit API and anything else that hands records to people or tools.
//!
//! Both formats carry the same flat fields in the same order ([`FIELDS`]),
//! with secrets redacted again on the way out (records are redacted when
//! written; this also covers records written by older or foreign writers).

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use gatehouse_core::Timestamp;
use gatehouse_core::audit::{canonical_json, redact, redact_str};
use serde::Serialize;

use crate::AuditEntry;

/// The exported fields, in order: the CSV header and the JSON key order.
pub const FIELDS: [&str; 22] = [
    "seq",
    "time",
    "kind",
    "host",
    "session",
    "host_session",
    "agent",
    "cwd",
    "tool",
    "class",
    "decision",
    "rules",
    "severity",
    "message",
    "approval_id",
    "actor",
    "channel",
    "reason",
    "outcome",
    "input",
    "hash",
    "prev",
];

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line; `input` stays a JSON value, `rules` a list.
    Jsonl,
    /// RFC 4180 CSV with a header row; `input` as canonical JSON text, `rules` joined by `;`.
    Csv,
}

/// One exported record: flat, redacted, time as RFC 3339 UTC with milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow {
    /// Position in the chain: the resume point for incremental exports.
    pub seq: u64,
    /// When, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// decision, resolution, outcome or admin.
    pub kind: &'static str,
    /// Which host sent the call.
    pub host: Option<String>,
    /// The session identity rules match on.
    pub session: Option<String>,
    /// The host's own session id.
    pub host_session: Option<String>,
    /// Which agent made the call.
    pub agent: Option<String>,
    /// The agent's working directory.
    pub cwd: Option<String>,
    /// The raw tool name.
    pub tool: String,
    /// The tool class.
    pub class: Option<&'static str>,
    /// defer, allow, ask or deny.
    pub decision: Option<&'static str>,
    /// Labels of the deciding rules.
    pub rules: Vec<String>,
    /// The highest severity among them.
    pub severity: Option<&'static str>,
    /// Why, as told to the agent (redacted).
    pub message: Option<String>,
    /// The held approval this belongs to.
    pub approval_id: Option<String>,
    /// Who acted (approver, admin).
    pub actor: Option<String>,
    /// Through which channel they acted.
    pub channel: Option<String>,
    /// The approver's reason (redacted).
    pub reason: Option<String>,
    /// The kind-specific result word.
    pub outcome: Option<String>,
    /// The call's arguments, redacted.
    pub input: serde_json::Value,
    /// This record's chain hash, hex: lets a reader re-verify an export.
    pub hash: String,
    /// The previous record's hash, hex.
    pub prev: String,
}

impl ExportRow {
    /// The exported form of `entry`, secrets redacted.
    pub fn new(entry: &AuditEntry) -> ExportRow {
        let r = &entry.record;
        let scrub = |s: &Option<String>| s.as_deref().map(|s| redact_str(s).into_owned());
        ExportRow {
            seq: entry.seq,
            time: rfc3339(r.time),
            kind: r.kind.as_str(),
            host: r.host.clone(),
            session: r.session.clone(),
            host_session: r.host_session.clone(),
            agent: r.agent.clone(),
            cwd: r.cwd.clone(),
            tool: r.tool.clone(),
            class: r.class.map(|c| c.as_str()),
            decision: r.decision.map(|d| d.as_str()),
            rules: r.rules.clone(),
            severity: r.severity.map(|s| s.as_str()),
            message: scrub(&r.message),
            approval_id: r.approval_id.clone(),
            actor: r.actor.clone(),
            channel: r.channel.clone(),
            reason: scrub(&r.reason),
            outcome: r.outcome.clone(),
            input: redact(&r.input),
            hash: entry.hash.to_hex(),
            prev: entry.prev.to_hex(),
        }
    }

    fn csv_record(&self) -> [String; 22] {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let opt_static = |s: Option<&str>| s.unwrap_or_default().to_owned();
        [
            self.seq.to_string(),
            self.time.clone(),
            self.kind.to_owned(),
            opt(&self.host),
            opt(&self.session),
            opt(&self.host_session),
            opt(&self.agent),
            opt(&self.cwd),
            self.tool.clone(),
            opt_static(self.class),
            opt_static(self.decision),
            self.rules.join(";"),
            opt_static(self.severity),
            opt(&self.message),
            opt(&self.approval_id),
            opt(&self.actor),
            opt(&self.channel),
            opt(&self.reason),
            opt(&self.outcome),
            canonical_json(&self.input),
            self.hash.clone(),
            self.prev.clone(),
        ]
    }
}

/// `t` as RFC 3339 UTC with milliseconds (`2026-11-21T07:30:00.123Z`).
pub fn rfc3339(t: Timestamp) -> String {
    let ms = t.millis();
    let at = if ms >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_millis(ms.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_millis(ms.unsigned_abs()))
    };
    match at {
        Some(at) => humantime::format_rfc3339_millis(at).to_string(),
        None => format!("@{ms}ms"),
    }
}

/// Writes entries in one format, streaming: call [`Exporter::write`] per page.
pub struct Exporter<W: Write> {
    format: Format,
    out: ExporterOut<W>,
}

enum ExporterOut<W: Write> {
    Jsonl(W),
    Csv(Box<csv::Writer<W>>),
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing to the output failed (a closed pipe, a full disk).
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed.
    #[error("cannot write the CSV export: {0}")]
    Csv(#[from] csv::Error),
    /// A row could not be serialised.
    #[error("cannot write the JSON export: {0}")]
    Json(#[from] serde_json::Error),
}

impl ExportError {
    /// Whether the reader went away (`| head`): the end of an export, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let kind = match self {
            ExportError::Io(e) => Some(e.kind()),
            ExportError::Csv(e) => match e.kind() {
                csv::ErrorKind::Io(e) => Some(e.kind()),
                _ => None,
            },
            ExportError::Json(e) => e.io_error_kind(),
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    }
}

impl<W: Write> Exporter<W> {
    /// An exporter writing `format` to `out`; CSV starts with the header row.
    pub fn new(format: Format, out: W) -> Result<Exporter<W>, ExportError> {
        let out = match format {
            Format::Jsonl => ExporterOut::Jsonl(out),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(FIELDS)?;
                ExporterOut::Csv(Box::new(w))
            }
        };
        Ok(Exporter { format, out })
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Writes `entries`, redacted.
    pub fn write(&mut self, entries: &[AuditEntry]) -> Result<(), ExportError> {
        for entry in entries {
            let row = ExportRow::new(entry);
            match &mut self.out {
                ExporterOut::Jsonl(w) => {
                    serde_json::to_writer(&mut *w, &row)?;
                    w.write_all(b"\n")?;
                }
                ExporterOut::Csv(w) => w.write_record(row.csv_record())?,
            }
        }
        Ok(())
    }

    /// Flushes buffered output (after each page when following).
    pub fn flush(&mut self) -> Result<(), ExportError> {
        match &mut self.out {
            ExporterOut::Jsonl(w) => w.flush()?,
            ExporterOut::Csv(w) => w.flush()?,
        }
        Ok(())
    }
}
