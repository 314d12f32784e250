//! `gatehouse token create|list|revoke`: API tokens with roles.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::exit::Exit;

/// `gatehouse token ...`
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown once).
    Create {
        /// agent (submit and wait), approver (list, approve, deny) or admin (everything).
        #[arg(long, value_parser = ["agent", "approver", "admin"])]
        role: String,
        /// The identity recorded on everything done with it (default: role + random suffix).
        #[arg(long)]
        name: Option<String>,
        /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// List tokens (names, roles, dates; never secrets).
    List {
        /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
        /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

pub fn run(cmd: TokenCommand) -> anyhow::Result<Exit> {
    let timeout = Duration::from_secs(10);
    match cmd {
        TokenCommand::Create {
            role,
            name,
            data_dir,
        } => {
            let ep = crate::daemon_client::person(&crate::config::data_dir(data_dir.as_deref()))?;
            if ep.local {
                crate::cmd::approvals::confirm_on_tty(&format!("Create a new {role} token?"))?;
            }
            let name = match name {
                Some(n) => n,
                None => {
                    let random = gatehouse_server::new_token()?;
                    format!("{role}-{}", random.get(3..11).unwrap_or_default())
                }
            };
            let v = ep.request(
                "POST",
                "/v1/tokens",
                Some(&json!({ "name": name, "role": role })),
                timeout,
            )?;
            eprintln!("created {role} token {name:?}; its secret is shown only now:");
            println!("{}", v["token"].as_str().unwrap_or_default());
        }
        TokenCommand::List { data_dir } => {
            let ep = crate::daemon_client::person(&crate::config::data_dir(data_dir.as_deref()))?;
            let v = ep.request("GET", "/v1/tokens", None, timeout)?;
            println!("{:<24}  {:<9}  STATE", "NAME", "ROLE");
            for t in v.as_array().cloned().unwrap_or_default() {
                let state = if t["revoked_at"].is_null() {
                    "live"
                } else {
                    "revoked"
                };
                println!(
                    "{:<24}  {:<9}  {state}",
                    t["name"].as_str().unwrap_or("?"),
                    t["role"].as_str().unwrap_or("?")
                );
            }
        }
        TokenCommand::Revoke { name, data_dir } => {
            let ep = crate::daemon_client::person(&crate::config::data_dir(data_dir.as_deref()))?;
            ep.request("DELETE", &format!("/v1/tokens/{name}"), None, timeout)?;
            println!("revoked token {name:?}");
        }
    }
    Ok(Exit::Ok)
}
