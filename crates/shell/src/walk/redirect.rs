//! Redirections: file accesses, and where a command's stdin comes from.

use brush_parser::ast;

use super::{Ctx, Stdin, Walker};
use crate::types::AccessKind;

impl Walker {
    /// Handle redirections; returns the stdin they establish, if any.
    pub(super) fn redirects(&mut self, list: &[ast::IoRedirect], ctx: &Ctx) -> Option<Stdin> {
        let mut stdin = None;
        for redirect in list {
            if let Some(s) = self.redirect(redirect, ctx) {
                stdin = Some(s);
            }
        }
        stdin
    }

    pub(super) fn redirect(&mut self, redirect: &ast::IoRedirect, ctx: &Ctx) -> Option<Stdin> {
        use ast::IoFileRedirectKind as K;
        match redirect {
            ast::IoRedirect::File(fd, kind, target) => match target {
                ast::IoFileRedirectTarget::Filename(word) => {
                    let path = self.word(&word.value, ctx).text;
                    match kind {
                        K::Read => {
                            self.file(&path, AccessKind::Read, "<");
                            return (fd.unwrap_or(0) == 0).then_some(Stdin::File);
                        }
                        K::Write | K::Clobber => self.file(&path, AccessKind::Write, ">"),
                        K::Append => self.file(&path, AccessKind::Write, ">>"),
                        K::ReadAndWrite => {
                            self.file(&path, AccessKind::Read, "<>");
                            self.file(&path, AccessKind::Write, "<>");
                        }
                        K::DuplicateInput | K::DuplicateOutput => {}
                    }
                    None
                }
                ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                    self.compound_list(&sub.list, &ctx.deeper(), &Stdin::Inherited);
                    (matches!(kind, K::Read) && fd.unwrap_or(0) == 0).then_some(Stdin::Pipe)
                }
                ast::IoFileRedirectTarget::Fd(_) => None,
                ast::IoFileRedirectTarget::Duplicate(word) => {
                    // `>&file` (not a number) writes to a file.
                    let path = self.word(&word.value, ctx).text;
                    if !path.chars().all(|c| c.is_ascii_digit() || c == '-') {
                        self.file(&path, AccessKind::Write, ">&");
                    }
                    None
                }
            },
            ast::IoRedirect::HereDocument(fd, doc) => {
                if doc.requires_expansion
                    && (doc.doc.value.contains("$(") || doc.doc.value.contains('`'))
                {
                    self.heredoc_substitutions(&doc.doc.value, ctx);
                }
                (fd.unwrap_or(0) == 0).then(|| Stdin::Text(doc.doc.value.clone()))
            }
            ast::IoRedirect::HereString(fd, word) => {
                let text = self.word(&word.value, ctx).text;
                (fd.unwrap_or(0) == 0).then_some(Stdin::Text(text))
            }
            ast::IoRedirect::OutputAndError(word, append) => {
                let path = self.word(&word.value, ctx).text;
                self.file(&path, AccessKind::Write, if *append { "&>>" } else { "&>" });
                None
            }
        }
    }

    /// `$(..)` in an unquoted here-document body runs when the document is expanded.
    pub(super) fn heredoc_substitutions(&mut self, body: &str, ctx: &Ctx) {
        let options = brush_parser::ParserOptions::default();
        if let Ok(pieces) = brush_parser::word::parse_heredoc(body, &options) {
            for piece in pieces {
                if let brush_parser::word::WordPiece::CommandSubstitution(code)
                | brush_parser::word::WordPiece::BackquotedCommandSubstitution(code) =
                    piece.piece
                {
                    self.text(&code, &ctx.deeper(), &Stdin::Inherited);
                }
            }
        }
    }
}
