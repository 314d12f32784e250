//! Domain types shared by every gatehouse crate.
//!
//! This crate does no I/O and never reads the clock: time is always an argument
//! ([`Timestamp`]). Everything here is plain data plus pure functions over it.

pub mod approval;
pub mod audit;
pub mod call;
pub mod decision;
pub mod time;

pub use call::{CallContext, ToolCall, ToolClass};
pub use decision::{Action, Decision, MatchedRule, Severity, Via};
pub use time::Timestamp;
