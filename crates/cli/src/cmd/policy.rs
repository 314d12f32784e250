//! `gatehouse policy lint|test|schema`.

use crate::exit::Exit;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Print the JSON Schema of the policy format.
    Schema,
}

pub fn run(command: PolicyCommand) -> anyhow::Result<Exit> {
    let _ = command;
    Ok(Exit::Ok)
}
