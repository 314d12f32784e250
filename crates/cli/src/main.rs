//! `gatehouse`: the one binary. Parses arguments, resolves config and paths,
//! and hands off to the library crates. Logic lives in the libraries.

mod cmd;
mod config;
mod daemon_client;
mod exit;
mod policy_cache;
mod session;

use clap::{Parser, Subcommand};

/// Human-in-the-loop approval gateway for AI agents.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify, tail and export the hash-chained audit log.
    Audit(cmd::audit::AuditArgs),
    /// Dry-run a call against the policy and print the decision.
    Check(cmd::check::CheckArgs),
    /// Work with policy files: lint, test, schema.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// Proxy an MCP server, evaluating every tools/call against the policy.
    Mcp(cmd::mcp::McpArgs),
    /// Manage dashboard users (password + TOTP second factor).
    #[command(subcommand)]
    User(cmd::user::UserCommand),
    /// Run the approval daemon: HTTP API, held approvals, expiry, metrics.
    Serve(cmd::serve::ServeArgs),
    /// List the approvals waiting for a person.
    Pending(cmd::approvals::PendingArgs),
    /// Show one approval's full context.
    Show(cmd::approvals::ShowArgs),
    /// Approve a held call (optionally for the rest of the session).
    Approve(cmd::approvals::ApproveArgs),
    /// Deny a held call; the reason reaches the agent.
    Deny(cmd::approvals::DenyArgs),
    /// List the active "approve for this session" grants, or revoke one.
    Grants(cmd::approvals::GrantsArgs),
    /// Kill switch: deny every call while on.
    Lockdown(cmd::lockdown::LockdownArgs),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(cmd::token::TokenCommand),
    #[command(about = HOOK_ABOUT)]
    Hook(cmd::hook::HookArgs),
    /// Install gatehouse's hooks into a host's settings (or --remove them).
    Setup(cmd::setup::SetupArgs),
}

const HOOK_ABOUT: &str = "Answer one hook event of an agent host (reads JSON on stdin).";

// `gatehouse hook <host>` alone, parsed without building the whole CLI: a
// hook is a process per tool call, and clap would otherwise construct every
// subcommand's arguments first (a measurable share of a hook's run time).
#[derive(Debug, Parser)]
#[command(name = "gatehouse hook", version, about = HOOK_ABOUT)]
struct HookCli {
    #[command(flatten)]
    args: cmd::hook::HookArgs,
}

fn main() -> std::process::ExitCode {
    let mut argv = std::env::args_os();
    if argv.nth(1).is_some_and(|a| a == "hook") {
        let hook = HookCli::parse_from(std::iter::once("gatehouse hook".into()).chain(argv));
        return finish(cmd::hook::run(hook.args));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => cmd::audit::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Pending(args) => cmd::approvals::pending(args),
        Command::Show(args) => cmd::approvals::show(args),
        Command::Approve(args) => cmd::approvals::approve(args),
        Command::Deny(args) => cmd::approvals::deny(args),
        Command::Lockdown(args) => cmd::lockdown::run(args),
        Command::Grants(args) => cmd::approvals::grants(args),
        Command::Token(command) => cmd::token::run(command),
        Command::Policy(command) => cmd::policy::run(command),
        Command::Mcp(args) => cmd::mcp::run(args),
        Command::User(command) => cmd::user::run(command),
        Command::Hook(args) => cmd::hook::run(args),
        Command::Setup(args) => cmd::setup::run(args),
    };
    finish(result)
}

fn finish(result: anyhow::Result<exit::Exit>) -> std::process::ExitCode {
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("gatehouse: error: {err:#}");
            exit::Exit::Error.into()
        }
    }
}
