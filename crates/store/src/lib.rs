//! Storage. (Skeleton: being filled in.)

/// The daemon's tables: held approvals, session grants, API tokens, lockdown.
pub mod daemon_store;
