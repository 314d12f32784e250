//! `gatehouse check`: dry-run a call against the policy.

use std::path::PathBuf;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy file (default: GATEHOUSE_POLICY, the user's policy, or the bundled one).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The shell command to check.
    pub command: Option<String>,
}

pub fn run(args: CheckArgs) -> anyhow::Result<Exit> {
    let _ = args;
    Ok(Exit::Ok)
}
