//! `gatehouse`: the one binary. Parses arguments, resolves config and paths,
//! and hands off to the library crates. Logic lives in the libraries.

mod cmd;
mod config;
mod exit;

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => cmd::audit::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Policy(command) => cmd::policy::run(command),
        Command::Mcp(args) => cmd::mcp::run(args),
    };
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("gatehouse: error: {err:#}");
            exit::Exit::Error.into()
        }
    }
}
