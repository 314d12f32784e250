//! Typed exit codes, so every command's meaning of its exit status is in one place.

/// Exit status of a `gatehouse` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success (for `check`: the decision was printed, whatever it was).
    Ok,
    /// The command ran and found problems (lint errors, failing policy tests, a broken audit chain).
    Failed,
    /// The command could not run (bad arguments, unreadable files).
    Error,
    /// A hook's blocking answer for hosts that read exit code 2 as "block".
    Block,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(match e {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Error => 1,
            Exit::Block => 2,
        })
    }
}
