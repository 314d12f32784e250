//! One module per subcommand.

pub mod approvals;
pub mod audit;
pub mod check;
pub mod hook;
pub mod lockdown;
pub mod mcp;
pub mod policy;
pub mod serve;
pub mod setup;
pub mod token;
pub mod user;
