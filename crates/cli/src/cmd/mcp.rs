//! `gatehouse mcp`: the MCP proxy. Wires the policy, the approver and the
//! audit into `gatehouse_mcp`, which owns all routing logic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use gatehouse_core::{Action, CallContext, Decision, ToolCall};
use gatehouse_mcp::audit::{AuditSink, NoAudit};
use gatehouse_mcp::hold::{Approver, Fixed};
use gatehouse_mcp::stdio::{self, Ending, StdioOptions};
use gatehouse_mcp::{Decide, Gate, HoldOutcome, Proxy};
use gatehouse_policy::Headless;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// The server's name in raw tool names: calls are evaluated as
    /// `mcp__<name>__<tool>`, as Claude Code names MCP tools.
    #[arg(long, value_parser = parse_name)]
    pub name: String,
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
    #[arg(last = true, required = true, num_args = 1..)]
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

pub fn run(args: McpArgs) -> anyhow::Result<Exit> {
    init_stderr_logging();
    let (decider, headless): (Arc<dyn Decide>, Headless) =
        match crate::config::load_policy(args.policy.as_deref()) {
            Ok(policy) => {
                let headless = policy.approval().headless;
                (Arc::new(policy), headless)
            }
            Err(err) => {
                // Fail closed: keep the server reachable, deny every tool call with the reason.
                let reason = format!("the gatehouse policy cannot be loaded: {err:#}");
                eprintln!("gatehouse mcp: {reason}; every tools/call will be denied");
                (Arc::new(DenyAll(reason)), Headless::Deny)
            }
        };
    let _data_dir = crate::config::data_dir(args.data_dir.as_deref());
    let approver = headless_approver(headless);
    let audit: Arc<dyn AuditSink> = Arc::new(NoAudit);
    let proxy = Proxy::new(Gate::new(&args.name, decider), !args.show_denied_tools);
    let options = StdioOptions {
        progress_interval: args.progress_interval,
        context: call_context(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let ending = runtime.block_on(async {
        let child = stdio::spawn_upstream(&args.command)?;
        anyhow::Ok(
            stdio::run(
                proxy,
                approver,
                audit,
                child,
                tokio::io::stdin(),
                tokio::io::stdout(),
                options,
            )
            .await,
        )
    })?;
    // Holds that were cancelled may still have tasks parked; do not wait for them.
    runtime.shutdown_background();
    Ok(match ending {
        Ending::ClientClosed => Exit::Ok,
        Ending::UpstreamExited(status) => {
            let how = status.map_or_else(
                || "closed its output".to_owned(),
                |s| format!("exited ({s})"),
            );
            eprintln!(
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

/// What an ask does when no approval daemon is available: the policy's
/// `approval.headless` (`wait` has nothing to wait on, so it denies too).
fn headless_approver(headless: Headless) -> Arc<dyn Approver> {
    Arc::new(Fixed(match headless {
        Headless::Allow => HoldOutcome::Approved,
        Headless::Deny | Headless::Wait => HoldOutcome::Denied(
            "this call needs approval, and no approval daemon is reachable (approval.headless: deny); \
             start `gatehouse serve` to approve calls"
                .into(),
        ),
    }))
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
fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
