//! One module per subcommand.

pub mod check;
pub mod mcp;
pub mod policy;
