//! `gatehouse hook <host>`: one hook invocation of an agent host.
//!
//! Reads the host's event on stdin, decides it with the policy, appends the
//! decision to the audit log (on disk before the answer is printed), and
//! answers in the host's own format. It fails closed: every error, a panic
//! included, ends in the block the host honours (see
//! [`gatehouse_connectors::Host::render_failure`]).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use gatehouse_connectors::{HookEvent, Host, Phase, Rendered, Verdict, reason_line};
use gatehouse_core::audit::{AuditKind, AuditRecord};
use gatehouse_core::{Action, CallContext, Decision, Timestamp, Via};
use gatehouse_policy::{Headless, Policy};
use gatehouse_store::{AuditStore, SqliteStore};

use crate::exit::Exit;

/// The largest hook payload read; anything bigger is refused (and blocked).
pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Arguments of `gatehouse hook`.
#[derive(Debug, clap::Args)]
pub struct HookArgs {
    /// The host whose hook protocol to speak: claude-code, codex, gemini, cursor, copilot.
    #[arg(value_parser = parse_host)]
    pub host: Host,
    /// Policy file (default: GATEHOUSE_POLICY, the user's policy, or the bundled one).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Data dir for the audit log (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The event this hook is installed for, for hosts whose payload does not name it
    /// (Copilot CLI's camelCase `preToolUse`/`postToolUse`).
    #[arg(long)]
    pub event: Option<String>,
    /// Seconds after start by which the hook answers: an approval held on the
    /// gateway and still pending then is denied. Keep it below the host's hook timeout.
    #[arg(long, default_value_t = 25)]
    pub deadline_secs: u64,
}

/// Parses a host name for clap.
pub fn parse_host(s: &str) -> Result<Host, String> {
    Host::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Host::ALL.iter().map(|h| h.as_str()).collect();
        format!("unknown host {s:?}; expected one of {}", names.join(", "))
    })
}

/// Runs one hook invocation. Never returns `Err`: failures are rendered as
/// the host's block here, so `main` cannot turn them into a plain exit 1
/// (which most hosts read as "go ahead").
pub fn run(args: HookArgs) -> anyhow::Result<Exit> {
    let started = Instant::now();
    install_panic_hook(args.host);
    // Lets tests prove that a panic blocks; compiled out of release builds.
    #[cfg(debug_assertions)]
    if std::env::var_os("GATEHOUSE_TEST_PANIC").is_some() {
        panic!("GATEHOUSE_TEST_PANIC is set");
    }
    let rendered = answer(&args, started).unwrap_or_else(|e| {
        args.host
            .render_failure(&format!("{e:#}; the call is blocked (fail closed)"))
    });
    Ok(emit(args.host, &rendered))
}

/// Decide one event and render the answer; every `Err` becomes a block.
fn answer(args: &HookArgs, started: Instant) -> anyhow::Result<Rendered> {
    let mut timing = Timing::from_env(started);
    let text = read_payload(std::io::stdin().lock(), MAX_PAYLOAD_BYTES)?;
    timing.lap("read");
    let event = args.host.decode(&text, args.event.as_deref())?;
    let ctx = context(args.host, &event);
    timing.lap("decode+session");
    let data_dir = crate::config::data_dir(args.data_dir.as_deref());
    let policy = crate::config::load_policy_cached(args.policy.as_deref(), &data_dir)
        .context("cannot load the policy")?;
    timing.lap("policy-load");
    let decision = policy.evaluate(&event.call, &ctx);
    timing.lap("evaluate");

    if event.phase == Phase::After {
        let record = outcome_record(&event, &ctx, &decision);
        append(&data_dir, &record, &mut timing)
            .context("cannot record the outcome in the audit log")?;
        timing.report();
        let verdict = Verdict {
            action: Action::Defer,
            reason: String::new(),
        };
        return Ok(args.host.render(&event, &verdict));
    }

    let deadline = started + Duration::from_secs(args.deadline_secs);
    let decision = route_ask(
        args.host, &event, &policy, &ctx, decision, deadline, &data_dir,
    );
    let record = AuditRecord::decision(&event.call, &ctx, &decision);
    // Fail closed: a call that cannot be recorded is blocked, whatever was decided.
    append(&data_dir, &record, &mut timing).context("cannot write the audit log")?;
    timing.report();
    let verdict = verdict_of(&decision);
    Ok(args.host.render(&event, &verdict))
}

/// Per-phase timings on stderr when `GATEHOUSE_HOOK_TIMING` is set, for
/// `scripts/bench-hook.sh` to say what dominates. Off by default.
struct Timing {
    /// Whether to measure at all.
    on: bool,
    /// When the previous lap ended.
    last: Instant,
    /// Microseconds per phase, in order.
    laps: Vec<(&'static str, u128)>,
}

impl Timing {
    fn from_env(started: Instant) -> Timing {
        Timing {
            on: std::env::var_os("GATEHOUSE_HOOK_TIMING").is_some(),
            last: started,
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, name: &'static str) {
        if self.on {
            let now = Instant::now();
            self.laps
                .push((name, now.duration_since(self.last).as_micros()));
            self.last = now;
        }
    }

    fn report(&self) {
        if self.on {
            let parts: Vec<String> = self
                .laps
                .iter()
                .map(|(n, us)| format!("{n}={us}us"))
                .collect();
            let _ = writeln!(std::io::stderr(), "gatehouse-timing {}", parts.join(" "));
        }
    }
}

/// Where an `ask` is answered: the host's own prompt when it has one and the
/// policy does not say `via: gateway`; otherwise a held approval on the
/// daemon; with no daemon configured, `approval.headless` decides.
fn route_ask(
    host: Host,
    event: &HookEvent,
    policy: &Policy,
    ctx: &CallContext,
    decision: Decision,
    deadline: Instant,
    data_dir: &Path,
) -> Decision {
    if decision.action != Action::Ask {
        return decision;
    }
    let native = host.native_ask(event);
    let via = match decision.via {
        Via::Auto => policy.approval().via,
        v => v,
    };
    if native && via != Via::Gateway {
        return decision;
    }
    if let Some(resolved) =
        crate::daemon_client::hold_on_gateway(data_dir, &event.call, ctx, &decision, deadline)
    {
        return resolved;
    }
    let why = if native {
        "the policy routes this approval to the gatehouse gateway".to_owned()
    } else {
        format!("{host} cannot ask the user from this hook")
    };
    let (action, what) = match policy.approval().headless {
        Headless::Deny => (Action::Deny, "approval.headless is deny"),
        Headless::Allow => (Action::Allow, "approval.headless is allow"),
        Headless::Wait => (
            Action::Deny,
            "approval.headless is wait, but there is no daemon to wait on",
        ),
    };
    let asked = decision
        .message
        .clone()
        .unwrap_or_else(|| "approval required".into());
    Decision {
        action,
        message: Some(format!(
            "{asked} — needs approval, {why}, and no gatehouse daemon is configured; {what} (run `gatehouse serve` to hold approvals)"
        )),
        ..decision
    }
}

fn verdict_of(decision: &Decision) -> Verdict {
    Verdict {
        action: decision.action,
        reason: reason_line(decision.message.as_deref(), &decision.rule_labels()),
    }
}

/// The outcome of a call the host ran: `success` or `error`, and, when the
/// policy says the call needed approval, that a person approved it at the host.
fn outcome_record(event: &HookEvent, ctx: &CallContext, decision: &Decision) -> AuditRecord {
    let failed = event.outcome.as_ref().is_some_and(|o| {
        o.get("error").is_some_and(|e| !e.is_null())
            || o.get("success").and_then(serde_json::Value::as_bool) == Some(false)
            || o.get("interrupted").and_then(serde_json::Value::as_bool) == Some(true)
    });
    let mut rec = AuditRecord::for_call(AuditKind::Outcome, &event.call, ctx);
    rec.decision = Some(decision.action);
    rec.rules = decision
        .rules
        .iter()
        .map(|r| r.label().to_owned())
        .collect();
    rec.severity = decision.severity;
    rec.outcome = Some(if failed { "error" } else { "success" }.to_owned());
    if decision.action == Action::Ask {
        rec.channel = Some("host".into());
        rec.reason = Some("ran after the host's own permission prompt".into());
    }
    rec
}

/// Appends one record; durable when this returns `Ok`.
fn append(data_dir: &Path, record: &AuditRecord, timing: &mut Timing) -> anyhow::Result<()> {
    let path = SqliteStore::path_in(data_dir);
    let store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open the audit log {}", path.display()))?;
    timing.lap("audit-open");
    store
        .append(record)
        .with_context(|| format!("cannot append to the audit log {}", path.display()))?;
    timing.lap("audit-append");
    Ok(())
}

/// Who is calling, from where, and when.
fn context(host: Host, event: &HookEvent) -> CallContext {
    let cwd = event.cwd.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string())
    });
    let env_session = std::env::var("GATEHOUSE_SESSION").ok();
    let session = crate::session::identity(
        env_session.as_deref(),
        cwd.as_deref().map(Path::new),
        event.session_id.as_deref(),
    );
    CallContext {
        now: now(),
        session,
        host_session_id: event.session_id.clone(),
        cwd,
        home: dirs::home_dir().map(|h| h.display().to_string()),
        host: Some(host.as_str().to_owned()),
        agent: None,
    }
}

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(ms)
}

/// Reads the whole payload: at most `limit` bytes, valid UTF-8, not blank.
fn read_payload(input: impl Read, limit: usize) -> anyhow::Result<String> {
    let mut buf = Vec::with_capacity(16 * 1024);
    input
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .context("cannot read the hook payload from stdin")?;
    if buf.len() > limit {
        bail!("the hook payload is larger than the {} byte limit", limit);
    }
    let text = String::from_utf8(buf).map_err(|e| {
        anyhow!(
            "the hook payload is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        bail!("the hook payload on stdin is empty");
    }
    Ok(text)
}

/// Prints the answer. If stdout cannot take it, the answer is lost, so the
/// reason goes to stderr with exit 2 (the block most hosts honour).
fn emit(host: Host, r: &Rendered) -> Exit {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(r.stdout.as_bytes())
        .and_then(|()| out.flush());
    drop(out);
    let mut code = r.exit_code;
    let mut err_text = r.stderr.clone();
    if let Err(e) = written {
        let failure = host.render_failure(&format!("cannot write the answer to stdout: {e}"));
        err_text = failure.stderr;
        code = 2;
    }
    if !err_text.is_empty() {
        let _ = std::io::stderr().write_all(err_text.as_bytes());
    }
    match code {
        0 => Exit::Ok,
        1 => Exit::Failed,
        _ => Exit::Block,
    }
}

/// Installed first: a panic anywhere prints the host's block and exits with
/// its code, instead of Rust's exit 101 (which hosts read as "go ahead").
fn install_panic_hook(host: Host) {
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let r = host.render_failure(&format!(
            "internal error ({what}{at}); the call is blocked (fail closed)"
        ));
        let _ = std::io::stdout().write_all(r.stdout.as_bytes());
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().write_all(r.stderr.as_bytes());
        // Exit 2 where the host reads it as a block; 0 where the JSON deny does.
        std::process::exit(i32::from(r.exit_code));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_limits_are_enforced() {
        assert!(read_payload(&b"{}"[..], 2).is_ok());
        let err = read_payload(&b"{} "[..], 2).expect_err("over limit");
        assert!(err.to_string().contains("larger than"), "{err}");
        let err = read_payload(&b"\xff\xfe"[..], 10).expect_err("not utf-8");
        assert!(err.to_string().contains("UTF-8"), "{err}");
        let err = read_payload(&b" \n\t"[..], 10).expect_err("blank");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
