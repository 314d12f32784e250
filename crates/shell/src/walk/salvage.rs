//! Best-effort analysis of text the parser rejects.

use super::{Ctx, Stdin, Walker};
use crate::parse::fallback_split;
use crate::types::AccessKind;
use crate::word::Arg;
use crate::wrappers;

impl Walker {
    /// Best effort for text the parser refused: split on operators and
    /// whitespace so obvious commands (and wrappers around them) still show.
    pub(super) fn salvage(&mut self, src: &str, ctx: &Ctx) {
        for segment in fallback_split(src) {
            let argv: Vec<Arg> = segment
                .words
                .iter()
                .map(|w| Arg {
                    dynamic: w.contains('$'),
                    ..Arg::plain(w.as_str())
                })
                .collect();
            let argv = self.salvage_redirections(argv);
            let stdin = if segment.piped {
                Stdin::Pipe
            } else {
                Stdin::Inherited
            };
            // Assignments at the front are not commands.
            let start = argv
                .iter()
                .take_while(|a| wrappers::is_assignment(&a.text) || is_reserved_word(&a.text))
                .count();
            self.exec(argv.get(start..).unwrap_or(&[]).to_vec(), ctx, &stdin);
        }
    }

    /// In fallback words, `> file`, `>>file`, `< file` are still file accesses.
    pub(super) fn salvage_redirections(&mut self, argv: Vec<Arg>) -> Vec<Arg> {
        let mut out = Vec::with_capacity(argv.len());
        let mut pending: Option<AccessKind> = None;
        for arg in argv {
            if let Some(kind) = pending.take() {
                self.file(&arg.text, kind, "redirection");
                continue;
            }
            let text = arg
                .text
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
            let (kind, rest) =
                if let Some(rest) = text.strip_prefix(">>").or_else(|| text.strip_prefix(">|")) {
                    (Some(AccessKind::Write), rest)
                } else if let Some(rest) = text.strip_prefix('>') {
                    (Some(AccessKind::Write), rest)
                } else if let Some(rest) = text.strip_prefix('<') {
                    (Some(AccessKind::Read), rest)
                } else {
                    (None, "")
                };
            match kind {
                Some(_) if rest.starts_with('&') => {} // fd duplication
                Some(kind) if rest.is_empty() => pending = Some(kind),
                Some(kind) => self.file(rest, kind, "redirection"),
                None => out.push(arg),
            }
        }
        out
    }
}

/// Shell keywords that can start a fallback segment but are not commands.
fn is_reserved_word(word: &str) -> bool {
    matches!(
        word,
        "if" | "then"
            | "else"
            | "elif"
            | "fi"
            | "do"
            | "done"
            | "while"
            | "until"
            | "for"
            | "in"
            | "case"
            | "esac"
            | "select"
            | "function"
            | "!"
            | "time"
            | "coproc"
    )
}
