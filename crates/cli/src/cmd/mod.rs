//! One module per subcommand.

pub mod audit;
pub mod check;
pub mod mcp;
pub mod policy;
