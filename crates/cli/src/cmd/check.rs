//! `gatehouse check`: dry-run a call against the policy and print the decision.

use std::path::PathBuf;

use anyhow::Context;
use gatehouse_core::{CallContext, Decision, Timestamp, ToolCall, ToolClass};
use gatehouse_policy::Engine;
use gatehouse_shell::AccessKind;
use serde_json::json;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy file (default: GATEHOUSE_POLICY, the user's policy, or the bundled one).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Check a call of this tool (a class such as `read`, a host tool name such
    /// as `Read`, or any name such as `send_refund`) instead of a shell command.
    #[arg(long)]
    pub tool: Option<String>,
    /// The tool's input as a JSON object (with --tool).
    #[arg(long, requires = "tool")]
    pub input: Option<String>,
    /// Session identity for `session:` rules (default: GATEHOUSE_SESSION).
    #[arg(long, env = "GATEHOUSE_SESSION")]
    pub session: Option<String>,
    /// Working directory the call runs in (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// The shell command to check (several words are joined with spaces).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(args: CheckArgs) -> anyhow::Result<Exit> {
    let call = build_call(&args)?;
    let policy = crate::config::load_policy(args.policy.as_deref())?;
    let ctx = context(&args)?;
    let analysis = (call.class == ToolClass::Exec)
        .then(|| gatehouse_shell::analyze(call.command.as_deref().unwrap_or("")));
    let decision = Engine::new(policy).evaluate_analyzed(&call, &ctx, analysis.as_ref());
    let files = analysis.map(|a| a.files).unwrap_or_default();
    if args.json {
        let mut out = to_json(&decision);
        out["files"] = serde_json::to_value(&files)?;
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_human(&decision);
        for (i, f) in files.iter().enumerate() {
            let label = if i == 0 { "files:   " } else { "         " };
            println!("{label} {} {} (by {})", access_name(f.kind), f.path, f.by);
        }
    }
    Ok(Exit::Ok)
}

fn build_call(args: &CheckArgs) -> anyhow::Result<ToolCall> {
    match &args.tool {
        Some(tool) => {
            if !args.command.is_empty() {
                anyhow::bail!(
                    "give either a shell command or --tool with --input, not both (for a shell command with --tool, put it in --input '{{\"command\": ...}}')"
                );
            }
            let input = match &args.input {
                Some(text) => serde_json::from_str(text)
                    .with_context(|| format!("--input is not valid JSON: {text}"))?,
                None => json!({}),
            };
            Ok(ToolCall::infer(tool.clone(), input))
        }
        None => {
            if args.command.is_empty() {
                anyhow::bail!(
                    "nothing to check: give a shell command (gatehouse check \"git push --force\") or --tool NAME --input JSON"
                );
            }
            Ok(ToolCall::exec(args.command.join(" ")))
        }
    }
}

fn context(args: &CheckArgs) -> anyhow::Result<CallContext> {
    let cwd = match &args.cwd {
        Some(p) => p.clone(),
        None => {
            std::env::current_dir().context("cannot determine the current directory; pass --cwd")?
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Ok(CallContext {
        now: Timestamp::from_millis(now),
        session: args.session.clone().filter(|s| !s.is_empty()),
        cwd: Some(cwd.display().to_string()),
        home: dirs::home_dir().map(|h| h.display().to_string()),
        host: Some("cli".into()),
        ..CallContext::default()
    })
}

/// The `--json` shape: stable keys for scripts.
fn to_json(d: &Decision) -> serde_json::Value {
    json!({
        "decision": d.action,
        "rules": d.rules.iter().map(|r| r.label()).collect::<Vec<_>>(),
        "message": d.message,
        "severity": d.severity,
        "commands": d.commands,
        "diagnostics": d.diagnostics,
        "approvers": d.approvers,
        "via": d.via,
        "approval_timeout_secs": d.approval_timeout_secs,
        "matched": d.rules,
    })
}

fn print_human(d: &Decision) {
    println!("decision: {}", d.action);
    if d.rules.is_empty() {
        println!("rules:    (none matched)");
    } else {
        for (i, r) in d.rules.iter().enumerate() {
            let label = if i == 0 { "rules:   " } else { "         " };
            let name = match (&r.id, r.severity) {
                (Some(_), Some(s)) => format!("{} ({}, {s})", r.label(), r.name),
                (Some(_), None) => format!("{} ({})", r.label(), r.name),
                (None, Some(s)) => format!("{} ({s})", r.name),
                (None, None) => r.name.clone(),
            };
            println!("{label} {name}");
        }
    }
    if let Some(m) = &d.message {
        println!("message:  {m}");
    }
    if let Some(s) = d.severity {
        println!("severity: {s}");
    }
    for (i, argv) in d.commands.iter().enumerate() {
        let label = if i == 0 { "commands:" } else { "         " };
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        println!("{label} {}", gatehouse_core::call::shell_join(&words));
    }
    for note in &d.diagnostics {
        println!("note:     {note}");
    }
}

fn access_name(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "read",
        AccessKind::Write => "write",
        AccessKind::Delete => "delete",
    }
}
