//! `gatehouse mcp`: the MCP proxy. Wires the policy, the approver and the
//! audit into `gatehouse_mcp`, which owns all routing logic.

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context;
use gatehouse_core::audit::{AuditKind, AuditRecord};
use gatehouse_core::{Action, CallContext, Decision, ToolCall};
use gatehouse_mcp::audit::AuditSink;
use gatehouse_mcp::hold::{Approver, HoldFuture};
use gatehouse_mcp::http::{self, HttpOptions};
use gatehouse_mcp::stdio::{self, Ending, StdioOptions};
use gatehouse_mcp::{Decide, Gate, HoldOutcome, HoldTicket, Proxy};
use gatehouse_policy::Headless;
use gatehouse_store::{AuditStore, SqliteStore};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::daemon_client::{self, As, ClientError, Endpoint};

/// Like `eprintln!`, but a closed stderr (a client that stopped reading it)
/// is ignored instead of panicking: stderr is a courtesy, the protocol is on stdout.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// The server's name in raw tool names: calls are evaluated as
    /// `mcp__<name>__<tool>`, as Claude Code names MCP tools. Required for a
    /// stdio server; for `--upstream` it defaults to the upstream's host name.
    #[arg(long, value_parser = parse_name)]
    pub name: Option<String>,
    /// Serve a Streamable HTTP front on this address (e.g. `127.0.0.1:8931`)
    /// instead of proxying a stdio server; needs `--upstream`.
    #[arg(long, requires = "upstream")]
    pub listen: Option<String>,
    /// The Streamable HTTP MCP endpoint to front (`http://host:port/mcp`).
    #[arg(long, requires = "listen", conflicts_with = "command")]
    pub upstream: Option<String>,
    /// Policy file (default: GATEHOUSE_POLICY, the user's policy, or the bundled one).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Data dir (default: GATEHOUSE_HOME, else the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// List tools the policy denies outright in `tools/list` too (by default they
    /// are hidden; calling one is denied either way).
    #[arg(long)]
    pub show_denied_tools: bool,
    /// How often a held call gets `notifications/progress` (when the client
    /// sent a progress token), e.g. `5s`, `500ms`.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub progress_interval: Duration,
    /// The MCP server command, after `--`.
    #[arg(last = true, required_unless_present = "upstream", num_args = 1..)]
    pub command: Vec<String>,
}

/// Server names become part of tool names: keep them to what rules can spell.
fn parse_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(
            "use letters, digits, `_` and `-` only (it becomes part of `mcp__<name>__<tool>`)"
                .into(),
        )
    }
}

/// `--name`, or for an HTTP upstream its host name made rule-friendly.
fn server_name(args: &McpArgs) -> anyhow::Result<String> {
    if let Some(name) = &args.name {
        return Ok(name.clone());
    }
    let host = args
        .upstream
        .as_deref()
        .and_then(|u| u.split_once("://"))
        .map(|(_, rest)| rest.split(['/', ':']).next().unwrap_or_default())
        .unwrap_or_default();
    let name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    anyhow::ensure!(
        !name.is_empty() && args.upstream.is_some(),
        "--name is required: calls are evaluated as mcp__<name>__<tool>"
    );
    Ok(name)
}

pub fn run(args: McpArgs) -> anyhow::Result<Exit> {
    init_stderr_logging();
    let (decider, headless, timeout_secs): (Arc<dyn Decide>, Headless, u64) =
        match crate::config::load_policy(args.policy.as_deref()) {
            Ok(policy) => {
                let approval = policy.approval();
                let (headless, timeout) = (approval.headless, approval.timeout_secs);
                (Arc::new(policy), headless, timeout)
            }
            Err(err) => {
                // Fail closed: keep the server reachable, deny every tool call with the reason.
                let reason = format!("the gatehouse policy cannot be loaded: {err:#}");
                say!("gatehouse mcp: {reason}; every tools/call will be denied");
                (Arc::new(DenyAll(reason)), Headless::Deny, 0)
            }
        };
    let data_dir = crate::config::data_dir(args.data_dir.as_deref());
    let audit = StoreAudit::start(&data_dir)?;
    let approver: Arc<dyn Approver> = Arc::new(DaemonApprover {
        data_dir: data_dir.clone(),
        headless,
        timeout: Duration::from_secs(timeout_secs),
        audit: audit.clone(),
    });
    let name = server_name(&args)?;
    let gate = Gate::new(&name, decider);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let (Some(listen), Some(upstream)) = (&args.listen, &args.upstream) {
        let options = HttpOptions {
            upstream: upstream.clone(),
            hide_denied_tools: !args.show_denied_tools,
            progress_interval: args.progress_interval,
            context: call_context(),
        };
        let sink: Arc<dyn AuditSink> = audit.clone();
        let served = runtime.block_on(http::serve(listen, gate, approver, sink, options, |addr| {
            say!("gatehouse mcp: serving {name} on http://{addr} -> {upstream}");
        }));
        runtime.shutdown_background();
        audit.flush();
        served?;
        return Ok(Exit::Ok);
    }
    let proxy = Proxy::new(gate, !args.show_denied_tools);
    let options = StdioOptions {
        progress_interval: args.progress_interval,
        context: call_context(),
    };
    let ending = runtime.block_on(async {
        let child = stdio::spawn_upstream(&args.command)?;
        let (client_in, client_out) = stdio::client_stdio();
        let sink: Arc<dyn AuditSink> = audit.clone();
        anyhow::Ok(stdio::run(proxy, approver, sink, child, client_in, client_out, options).await)
    })?;
    // Holds that were cancelled may still have tasks parked; do not wait for them.
    runtime.shutdown_background();
    audit.flush();
    Ok(match ending {
        Ending::ClientClosed => Exit::Ok,
        Ending::UpstreamExited(status) => {
            let how = status.map_or_else(
                || "closed its output".to_owned(),
                |s| format!("exited ({s})"),
            );
            say!(
                "gatehouse mcp: the MCP server `{}` {how}; stopping",
                args.command.join(" ")
            );
            if status.is_some_and(|s| s.success()) {
                Exit::Ok
            } else {
                Exit::Error
            }
        }
    })
}

/// The context every call is evaluated in: who and where, from the environment.
fn call_context() -> CallContext {
    CallContext {
        session: std::env::var("GATEHOUSE_SESSION")
            .ok()
            .filter(|s| !s.is_empty()),
        cwd: std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string()),
        home: dirs::home_dir().map(|d| d.display().to_string()),
        host: Some("mcp".into()),
        ..CallContext::default()
    }
}

/// Logs go to stderr only: stdout is the client's protocol stream.
/// Never through `eprintln!`, which panics when the client closed our stderr.
fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| QuietStderr)
        .with_ansi(false)
        .try_init();
}

/// The decider when the policy cannot be loaded: denies every call, saying why.
struct DenyAll(String);

impl Decide for DenyAll {
    fn decide(&self, _: &ToolCall, _: &CallContext) -> Decision {
        Decision::bare(Action::Deny, self.0.clone())
    }
}

/// Appends audit records on a background thread, in batches: the allow path
/// must not wait for a durable write (≈ 0.3 ms+ per fsync) on every call. The
/// queue is flushed when the proxy stops.
struct StoreAudit {
    /// Records waiting to be written; `None` once flushed.
    queue: std::sync::Mutex<Option<mpsc::Sender<AuditRecord>>>,
    /// The writer thread, joined by `flush`.
    writer: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl StoreAudit {
    /// Opens the audit log in `data_dir` (an error if it cannot be opened:
    /// the proxy does not run unaudited) and starts the writer.
    fn start(data_dir: &Path) -> anyhow::Result<Arc<StoreAudit>> {
        let path = SqliteStore::path_in(data_dir);
        let store = SqliteStore::open(&path)
            .with_context(|| format!("cannot open the audit log {}", path.display()))?;
        let (tx, rx) = mpsc::channel::<AuditRecord>();
        let writer = std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                if let Err(e) = store.append_batch(&batch) {
                    say!(
                        "gatehouse mcp: cannot append {} record(s) to the audit log {}: {e}",
                        batch.len(),
                        path.display()
                    );
                }
            }
        });
        Ok(Arc::new(StoreAudit {
            queue: std::sync::Mutex::new(Some(tx)),
            writer: std::sync::Mutex::new(Some(writer)),
        }))
    }

    fn record(&self, record: AuditRecord) {
        if let Ok(queue) = self.queue.lock()
            && let Some(tx) = queue.as_ref()
        {
            let _ = tx.send(record);
        }
    }

    /// Writes everything queued and stops the writer.
    fn flush(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl AuditSink for StoreAudit {
    fn decided(&self, call: &ToolCall, decision: &Decision, ctx: &CallContext) {
        self.record(AuditRecord::decision(call, ctx, decision));
    }
}

/// Holds asks on the approval daemon (`gatehouse serve`, found through
/// `GATEHOUSE_URL` or the data dir's `daemon.json`). With no daemon
/// configured, the policy's `approval.headless` decides (`wait` has nothing
/// to wait on, so it denies too).
struct DaemonApprover {
    /// Where `daemon.json` and the local credentials are.
    data_dir: PathBuf,
    /// What an ask does with no daemon.
    headless: Headless,
    /// How long to wait for a person before denying (the policy's `approval.timeout`).
    timeout: Duration,
    /// For the resolution record when no daemon is involved.
    audit: Arc<StoreAudit>,
}

/// How often to re-poll a pending approval (the daemon long-polls up to this long).
const POLL_SECS: u64 = 20;
/// Pause before retrying an unreachable daemon.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

impl Approver for DaemonApprover {
    fn hold(&self, ticket: HoldTicket, cancelled: oneshot::Receiver<()>) -> HoldFuture {
        let data_dir = self.data_dir.clone();
        let headless = self.headless;
        let deadline = Instant::now() + self.timeout;
        let audit = self.audit.clone();
        Box::pin(async move {
            let endpoint = match daemon_client::resolve(&data_dir, As::Agent) {
                Ok(Some(e)) => e,
                Ok(None) => return headless_outcome(headless, &ticket, &audit),
                Err(e) => return HoldOutcome::Denied(format!("{e:#}")),
            };
            let (id_tx, id_rx) = oneshot::channel::<(Endpoint, String)>();
            let wait = tokio::task::spawn_blocking(move || {
                submit_and_wait(endpoint, &data_dir, &ticket, deadline, id_tx)
            });
            tokio::select! {
                outcome = wait => outcome.unwrap_or_else(|e| {
                    HoldOutcome::Denied(format!("waiting for approval failed: {e}"))
                }),
                _ = cancelled => {
                    // Withdraw the approval so approvers stop seeing it; the
                    // blocked waiter ends when the daemon reports it cancelled.
                    if let Ok((endpoint, id)) = id_rx.await {
                        let _ = tokio::task::spawn_blocking(move || {
                            endpoint.request(
                                "POST",
                                &format!("/v1/approvals/{id}/cancel"),
                                Some(&json!({ "reason": "the MCP client cancelled the call" })),
                                Duration::from_secs(2),
                            )
                        })
                        .await;
                    }
                    HoldOutcome::Denied("cancelled by the client".into())
                }
            }
        })
    }
}

/// The answer when no daemon is configured, recorded as the call's resolution.
fn headless_outcome(headless: Headless, ticket: &HoldTicket, audit: &StoreAudit) -> HoldOutcome {
    let outcome = match headless {
        Headless::Allow => HoldOutcome::Approved,
        Headless::Deny | Headless::Wait => HoldOutcome::Denied(
            "this call needs approval, and no approval daemon is reachable (approval.headless: deny); \
             start `gatehouse serve` to approve calls"
                .into(),
        ),
    };
    let mut rec = AuditRecord::for_call(AuditKind::Resolution, &ticket.call, &ticket.context);
    rec.time = stdio::now();
    rec.channel = Some("headless".into());
    (rec.decision, rec.outcome, rec.reason) = match &outcome {
        HoldOutcome::Approved => (Some(Action::Allow), Some("approved".into()), None),
        HoldOutcome::Denied(why) => (Some(Action::Deny), Some("denied".into()), Some(why.clone())),
    };
    audit.record(rec);
    outcome
}

/// Submits the call to the daemon and waits (blocking) until a person decides
/// or `deadline` passes. Always an outcome: errors deny.
fn submit_and_wait(
    mut endpoint: Endpoint,
    data_dir: &Path,
    ticket: &HoldTicket,
    deadline: Instant,
    id_tx: oneshot::Sender<(Endpoint, String)>,
) -> HoldOutcome {
    let ctx = &ticket.context;
    let body = json!({
        "tool": ticket.call.tool,
        "class": ticket.call.class,
        "input": ticket.call.input,
        "paths": ticket.call.paths,
        "urls": ticket.call.urls,
        "context": {
            "session": ctx.session, "cwd": ctx.cwd, "home": ctx.home,
            "host": ctx.host, "agent": ctx.agent,
        },
        "cancel_on_disconnect": true,
    });
    let submitted = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return HoldOutcome::Denied(
                "no decision in time: the gatehouse daemon could not be reached".into(),
            );
        }
        match endpoint.request(
            "POST",
            "/v1/decisions",
            Some(&body),
            left.min(Duration::from_secs(10)),
        ) {
            Ok(v) => break v,
            Err(ClientError::Unreachable { .. }) => {
                std::thread::sleep(RETRY_PAUSE.min(left));
                if let Ok(Some(e)) = daemon_client::resolve(data_dir, As::Agent) {
                    endpoint = e;
                }
            }
            Err(e) => {
                return HoldOutcome::Denied(format!("the gatehouse daemon refused the call: {e}"));
            }
        }
    };
    // The daemon decides with its own policy, grants and lockdown.
    match submitted["action"].as_str().and_then(Action::parse) {
        Some(Action::Ask) => {}
        Some(Action::Allow | Action::Defer) => return HoldOutcome::Approved,
        _ => {
            let why = submitted["decision"]["message"]
                .as_str()
                .unwrap_or("denied by the gatehouse daemon");
            return HoldOutcome::Denied(why.to_owned());
        }
    }
    let Some(id) = submitted["approval"]["id"].as_str().map(str::to_owned) else {
        return HoldOutcome::Denied("the daemon answered ask without an approval id".into());
    };
    tracing::info!(
        "{} is waiting for approval {id} (gatehouse approve {id})",
        ticket.call.tool
    );
    let _ = id_tx.send((endpoint.clone(), id.clone()));
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(50) {
            let _ = endpoint.request(
                "POST",
                &format!("/v1/approvals/{id}/cancel"),
                Some(&json!({ "reason": "the MCP proxy's approval timeout passed" })),
                Duration::from_secs(1),
            );
            return HoldOutcome::Denied(format!(
                "no decision in time (approval {id} was cancelled)"
            ));
        }
        let secs = left.as_secs().clamp(0, POLL_SECS);
        let path = format!("/v1/approvals/{id}/wait?timeout={secs}");
        match endpoint.request("GET", &path, None, Duration::from_secs(secs + 5)) {
            Ok(v) => {
                if let Some(outcome) = approval_outcome(&v) {
                    return outcome;
                }
            }
            Err(ClientError::Unreachable { .. }) => {
                std::thread::sleep(RETRY_PAUSE.min(left));
                if let Ok(Some(e)) = daemon_client::resolve(data_dir, As::Agent) {
                    endpoint = e;
                }
            }
            Err(e) => return HoldOutcome::Denied(format!("waiting on approval {id} failed: {e}")),
        }
    }
}

/// The outcome an approval's state means; `None` while it is pending.
fn approval_outcome(approval: &Value) -> Option<HoldOutcome> {
    let status = approval["status"].as_str()?;
    if status == "pending" {
        return None;
    }
    let text = approval["outcome"].as_str().unwrap_or(status).to_owned();
    Some(if status == "approved" {
        HoldOutcome::Approved
    } else {
        HoldOutcome::Denied(text)
    })
}

/// stderr for the log, ignoring write errors (see [`say!`]).
struct QuietStderr;

impl std::io::Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
