//! `gatehouse pending | show | approve | deny`: resolve held approvals.
//!
//! With `GATEHOUSE_TOKEN` (an approver token someone created on purpose) these
//! run non-interactively. With the local credentials a person must confirm on
//! a real terminal (`/dev/tty`): an agent's tool call has no terminal, so it
//! cannot approve its own call with the credentials it can read.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::daemon_client::{self, Endpoint};
use crate::exit::Exit;

const TIMEOUT: Duration = Duration::from_secs(10);

/// `gatehouse pending`
#[derive(Debug, clap::Args)]
pub struct PendingArgs {
    /// Print the approvals as a JSON array.
    #[arg(long)]
    pub json: bool,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `gatehouse show ID`
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The approval id.
    pub id: String,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `gatehouse approve ID`
#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The approval id.
    pub id: String,
    /// Why (recorded, and shown to the agent).
    #[arg(long)]
    pub reason: Option<String>,
    /// Also let calls of the same shape from the same session through until the TTL ends.
    #[arg(long)]
    pub for_session: bool,
    /// How long a `--for-session` grant lasts (e.g. 30m, 1h).
    #[arg(long, requires = "for_session", default_value = "1h")]
    pub ttl: String,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `gatehouse deny ID --reason ...`
#[derive(Debug, clap::Args)]
pub struct DenyArgs {
    /// The approval id.
    pub id: String,
    /// Why: the agent receives it with the denial.
    #[arg(long)]
    pub reason: String,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

fn endpoint(data_dir: Option<&std::path::Path>) -> anyhow::Result<Endpoint> {
    daemon_client::person(&crate::config::data_dir(data_dir))
}

/// The items of a listing to print as a table, or `None` when it is done:
/// printed as JSON (`--json`), or empty (then `empty` is printed).
fn table_items(list: &Value, json: bool, empty: &str) -> anyhow::Result<Option<Vec<Value>>> {
    if json {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(None);
    }
    let items = list.as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!("{empty}");
        return Ok(None);
    }
    Ok(Some(items))
}

pub fn pending(args: PendingArgs) -> anyhow::Result<Exit> {
    let ep = endpoint(args.data_dir.as_deref())?;
    let list = ep.request("GET", "/v1/approvals?status=pending", None, TIMEOUT)?;
    let Some(items) = table_items(&list, args.json, "no pending approvals")? else {
        return Ok(Exit::Ok);
    };
    let now = now_ms();
    println!(
        "{:<24}  {:>6}  {:<12}  {:<40}  {:<16}  {:<20}  SEVERITY",
        "ID", "AGE", "TOOL", "COMMAND/ARGS", "SESSION", "RULE"
    );
    for a in &items {
        println!(
            "{:<24}  {:>6}  {:<12}  {:<40}  {:<16}  {:<20}  {}",
            text(&a["id"]),
            age(now - a["created_at"].as_i64().unwrap_or(now)),
            clip(&text(&a["call"]["tool"]), 12),
            clip(&what(a), 40),
            clip(&text(&a["context"]["session"]), 16),
            clip(&rules(a), 20),
            text(&a["decision"]["severity"]),
        );
    }
    Ok(Exit::Ok)
}

pub fn show(args: ShowArgs) -> anyhow::Result<Exit> {
    let ep = endpoint(args.data_dir.as_deref())?;
    let a = ep.request("GET", &format!("/v1/approvals/{}", args.id), None, TIMEOUT)?;
    print!("{}", describe(&a));
    println!("{}", serde_json::to_string_pretty(&a)?);
    Ok(Exit::Ok)
}

pub fn approve(args: ApproveArgs) -> anyhow::Result<Exit> {
    let ep = endpoint(args.data_dir.as_deref())?;
    if ep.local {
        let a = ep.request("GET", &format!("/v1/approvals/{}", args.id), None, TIMEOUT)?;
        confirm_on_tty(&format!("{}Approve this call?", describe(&a)))?;
    }
    let mut body = json!({ "reason": args.reason });
    if args.for_session {
        body["for_session"] = json!(true);
        body["ttl"] = json!(args.ttl);
    }
    let a = ep.request(
        "POST",
        &format!("/v1/approvals/{}/approve", args.id),
        Some(&body),
        TIMEOUT,
    )?;
    report(&a);
    Ok(Exit::Ok)
}

pub fn deny(args: DenyArgs) -> anyhow::Result<Exit> {
    let ep = endpoint(args.data_dir.as_deref())?;
    if ep.local {
        let a = ep.request("GET", &format!("/v1/approvals/{}", args.id), None, TIMEOUT)?;
        confirm_on_tty(&format!("{}Deny this call?", describe(&a)))?;
    }
    let a = ep.request(
        "POST",
        &format!("/v1/approvals/{}/deny", args.id),
        Some(&json!({ "reason": args.reason })),
        TIMEOUT,
    )?;
    report(&a);
    Ok(Exit::Ok)
}

fn report(a: &Value) {
    let status = text(&a["status"]);
    if status == "pending" {
        let have = a["votes"].as_array().map_or(0, Vec::len);
        println!(
            "{}: approval recorded, {have} of {} approvers so far",
            text(&a["id"]),
            a["required_approvers"]
        );
    } else {
        println!("{}: {status} — {}", text(&a["id"]), text(&a["outcome"]));
    }
}

/// Ask a person on the controlling terminal; refuse without one.
pub fn confirm_on_tty(question: &str) -> anyhow::Result<()> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    let Ok(mut tty) = tty else {
        bail!(
            "refusing: acting with the local credentials needs a person at a terminal, and there is none \
             (an agent's tool call has no TTY). Run this in your own terminal, or use an approver token: \
             `gatehouse token create --role approver` then GATEHOUSE_TOKEN=..."
        );
    };
    write!(tty, "{question} Type 'yes' to confirm: ")?;
    tty.flush()?;
    let mut line = String::new();
    BufReader::new(&tty)
        .read_line(&mut line)
        .context("cannot read the confirmation from the terminal")?;
    if line.trim() != "yes" {
        bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

/// A human summary of an approval.
fn describe(a: &Value) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "approval {} ({})\n",
        text(&a["id"]),
        text(&a["status"])
    ));
    out.push_str(&format!("  tool:     {}\n", text(&a["call"]["tool"])));
    out.push_str(&format!("  call:     {}\n", what(a)));
    if let Some(cmds) = a["decision"]["commands"].as_array() {
        for c in cmds {
            let argv: Vec<String> = c
                .as_array()
                .map(|w| w.iter().map(text).collect())
                .unwrap_or_default();
            out.push_str(&format!("  runs:     {}\n", argv.join(" ")));
        }
    }
    out.push_str(&format!("  rules:    {}\n", rules(a)));
    out.push_str(&format!(
        "  severity: {}\n",
        text(&a["decision"]["severity"])
    ));
    out.push_str(&format!(
        "  message:  {}\n",
        text(&a["decision"]["message"])
    ));
    out.push_str(&format!(
        "  session:  {}   agent: {}   host: {}\n",
        text(&a["context"]["session"]),
        text(&a["context"]["agent"]),
        text(&a["context"]["host"])
    ));
    out.push_str(&format!("  cwd:      {}\n", text(&a["context"]["cwd"])));
    out.push_str(&format!(
        "  quorum:   {} of {}\n",
        a["votes"].as_array().map_or(0, Vec::len),
        a["required_approvers"]
    ));
    out
}

fn what(a: &Value) -> String {
    match a["call"]["command"].as_str() {
        Some(c) => c.replace('\n', " "),
        None => a["call"]["input"].to_string(),
    }
}

fn rules(a: &Value) -> String {
    a["decision"]["rules"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    r["id"]
                        .as_str()
                        .or(r["name"].as_str())
                        .unwrap_or("?")
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h", s / 3600),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `gatehouse grants [revoke ID]`
#[derive(Debug, clap::Args)]
pub struct GrantsArgs {
    /// `revoke` to end a grant now (admin); omit to list the active grants.
    #[arg(value_parser = ["revoke"])]
    pub action: Option<String>,
    /// The grant to revoke.
    #[arg(required_if_eq("action", "revoke"))]
    pub id: Option<String>,
    /// Print the grants as a JSON array.
    #[arg(long)]
    pub json: bool,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// List the active session grants, or revoke one.
pub fn grants(args: GrantsArgs) -> anyhow::Result<Exit> {
    let ep = endpoint(args.data_dir.as_deref())?;
    if let (Some(_), Some(id)) = (&args.action, &args.id) {
        ep.request("DELETE", &format!("/v1/grants/{id}"), None, TIMEOUT)?;
        println!("revoked grant {id}");
        return Ok(Exit::Ok);
    }
    let list = ep.request("GET", "/v1/grants", None, TIMEOUT)?;
    let Some(items) = table_items(&list, args.json, "no active grants")? else {
        return Ok(Exit::Ok);
    };
    let now = now_ms();
    println!(
        "{:<18}  {:<16}  {:>8}  {:<12}  {:<40}  BY",
        "ID", "SESSION", "LEFT", "RULES", "SHAPE"
    );
    for g in &items {
        let rules: Vec<String> = g["rules"]
            .as_array()
            .map(|r| r.iter().map(text).collect())
            .unwrap_or_default();
        println!(
            "{:<18}  {:<16}  {:>8}  {:<12}  {:<40}  {}",
            text(&g["id"]),
            clip(&text(&g["session"]), 16),
            age(g["expires_at"].as_i64().unwrap_or(now) - now),
            clip(&rules.join(","), 12),
            clip(&text(&g["shape"]), 40),
            text(&g["created_by"]),
        );
    }
    Ok(Exit::Ok)
}
