//! `gatehouse lockdown on|off|status`: the kill switch.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::exit::Exit;

/// `gatehouse lockdown`
#[derive(Debug, clap::Args)]
pub struct LockdownArgs {
    /// on: deny every call (and every pending approval) until lifted; off: lift it; status: show.
    #[arg(value_parser = ["on", "off", "status"])]
    pub state: String,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

pub fn run(args: LockdownArgs) -> anyhow::Result<Exit> {
    let ep = crate::daemon_client::person(&crate::config::data_dir(args.data_dir.as_deref()))?;
    let timeout = Duration::from_secs(10);
    let v = match args.state.as_str() {
        "status" => ep.request("GET", "/v1/lockdown", None, timeout)?,
        state => {
            let on = state == "on";
            // Turning protection off with the local credentials needs a person.
            if !on && ep.local {
                crate::cmd::approvals::confirm_on_tty(
                    "Lift lockdown and let calls through again?",
                )?;
            }
            ep.request("PUT", "/v1/lockdown", Some(&json!({ "on": on })), timeout)?
        }
    };
    let on = v["on"].as_bool().unwrap_or(false);
    println!("lockdown is {}", if on { "on" } else { "off" });
    Ok(Exit::Ok)
}
