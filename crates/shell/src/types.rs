//! The result of analysing a command line.

use serde::Serialize;

/// Everything a command line would do, as far as static analysis can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// Every command that would execute, in source order, wrappers unwrapped
    /// (the wrapper itself is listed too, e.g. both `sudo ...` and the inner command).
    pub commands: Vec<Command>,
    /// Files read, written or deleted (redirections, well-known readers/writers).
    pub files: Vec<FileAccess>,
    /// What could not be resolved statically. Non-empty means "be stricter".
    pub unresolved: Vec<Unresolved>,
}

/// One command that would execute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Command {
    /// Normalised argv: quotes/escapes resolved, `argv[0]` reduced to its base name.
    pub argv: Vec<String>,
    /// The chain of wrappers/interpreters this command was found inside,
    /// outermost first (`["sudo", "bash -c"]`); empty at top level.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
}

impl Command {
    /// The base name of the program, `""` for an empty argv.
    pub fn program(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }

    /// argv joined by single spaces: what `command:` globs match against.
    pub fn joined(&self) -> String {
        self.argv.join(" ")
    }
}

/// How a file is touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    /// Contents are read (`cat`, `<`, `source`, `cp` source): secrets can leak.
    Read,
    /// Contents are created or changed (`>`, `tee`, `sed -i`, `chmod`): config can be subverted.
    Write,
    /// The file goes away (`rm`, `mv` source, `find -delete`): data can be lost.
    Delete,
}

/// A file the command line would touch. `path` is as written (after quote
/// removal; `~` kept), resolution against cwd/home is the policy's job.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FileAccess {
    /// The path as written, for the policy's `path:` globs.
    pub path: String,
    /// Read, write or delete, so rules can treat leaks and changes differently.
    pub kind: AccessKind,
    /// The program responsible (`cat`, `tee`, or `>` for a redirection).
    pub by: String,
}

/// Something static analysis could not resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Unresolved {
    /// What kind of blind spot, so the policy can weigh it.
    pub kind: UnresolvedKind,
    /// Human-readable detail, e.g. the offending word.
    pub detail: String,
}

/// The kinds of things static analysis cannot see through; any of them makes
/// a decision stricter, never looser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnresolvedKind {
    /// The text does not parse as shell.
    Unparseable,
    /// The program name is a variable, substitution or otherwise dynamic.
    DynamicCommand,
    /// Inline code for a non-shell interpreter (`python -c`, `perl -e`, `node -e`).
    InlineCode,
    /// A script fed to an interpreter on stdin from something we cannot see (`curl ... | sh`).
    PipedIntoInterpreter,
    /// Brace/IFS/glob tricks or other expansions that change what runs.
    Obfuscated,
    /// Too deeply nested to follow further.
    TooDeep,
}
