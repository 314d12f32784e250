//! Static analysis of a shell command line.
//!
//! [`analyze`] parses the text with a real bash parser and returns every
//! command that would execute (argv normalised: quotes and escapes resolved,
//! `/bin/rm` -> `rm`, wrappers such as `sudo`/`env`/`xargs` unwrapped,
//! `bash -c` bodies and substitutions recursed), plus the files it would read
//! and write. Whatever cannot be resolved statically is reported in
//! [`Analysis::unresolved`] so the policy can only get stricter.
//!
//! Pure: no I/O, no clock, never panics.
//!
//! # Parser choice
//!
//! We use **brush-parser** (the parser of the `brush` bash-compatible shell):
//! pure Rust, no C toolchain or `unsafe` FFI, bash grammar (here-docs,
//! `$'..'`, process substitution, `[[ ]]`, arrays, functions) into a typed AST,
//! plus a word parser that splits a word into quoted/escaped/expansion
//! pieces, which is exactly what argv normalisation needs.
//! Considered and rejected:
//! - **tree-sitter-bash**: mature grammar with error recovery, but a C parser
//!   behind FFI (needs `cc`, `unsafe` at the boundary), and it yields an
//!   untyped concrete syntax tree: quote removal, `$'..'` decoding and word
//!   semantics would all be hand-written over node kinds.
//! - **conch-parser**: unmaintained since 2019, POSIX only (no `$'..'`,
//!   `<(..)`). **yash-syntax**: POSIX sh, async API built around a full
//!   shell. **shell-words**/**shlex**: tokenisers, no grammar at all.
//!
//! Its limits and how we cover them: it leaves `$(..)` bodies as text (we
//! re-parse them), does not decode `$'..'` (we do, in `word.rs`), has no error
//! recovery (we fall back to a whitespace split and flag `Unparseable`), its
//! PEG parser slows down steeply on deeply nested compound commands (we
//! refuse nesting beyond `parse::MAX_NESTING` (16) before parsing and flag
//! `TooDeep`), and it may panic on odd input (guarded by `catch_unwind`).
//!
//! Lines made only of plain words (optionally in simple quotes) and
//! `&& || ; & |` / newlines (most agent commands) skip the parser: for them
//! its result is exactly the quote-aware split (`fastpath.rs`), and tests
//! check both paths agree.

mod fastpath;
mod files;
mod interpreters;
mod options;
mod parse;
mod types;
mod walk;
mod word;
mod wrappers;

pub use types::{AccessKind, Analysis, Command, FileAccess, Unresolved, UnresolvedKind};

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Analyse one command line. Never panics; unparseable input yields an
/// [`UnresolvedKind::Unparseable`] entry (and whatever could be salvaged).
pub fn analyze(src: &str) -> Analysis {
    match catch_unwind(AssertUnwindSafe(|| walk::Walker::run(src))) {
        Ok(analysis) => analysis,
        Err(_) => Analysis {
            unresolved: vec![Unresolved {
                kind: UnresolvedKind::Unparseable,
                detail: "internal error while analysing; treated as unparseable".to_string(),
            }],
            ..Analysis::default()
        },
    }
}
