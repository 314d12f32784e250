//! Walking the parsed program: every simple command, redirection and
//! substitution, recursing into code that other code runs.

use std::rc::Rc;

use brush_parser::ast;

use crate::fastpath::plain_command_list;
use crate::files::{accesses, is_device};
use crate::interpreters::{Interp, classify};
use crate::parse::{ParseFailure, looks_arithmetic, parse};
use crate::types::{AccessKind, Analysis, Command, FileAccess, Unresolved, UnresolvedKind};
use crate::word::{Arg, Vars, expand_braces, normalize};

mod redirect;
mod salvage;
use crate::wrappers;

/// What a `<(..)`/`>(..)` argument becomes: the path bash passes.
const PROCESS_SUBSTITUTION: &str = "/dev/fd/63";

/// How deep `bash -c "eval \"$(...)\""`-style recursion is followed.
pub const MAX_DEPTH: usize = 12;

/// Where a command's standard input comes from, as far as it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stdin {
    /// Whatever the caller's stdin is.
    Inherited,
    /// The output of the previous pipeline stage: unknown content.
    Pipe,
    /// A here-document or here-string whose text we have.
    Text(String),
    /// A file redirected with `<`.
    File,
}

/// Accumulates the analysis while walking.
#[derive(Debug, Default)]
pub struct Walker {
    out: Analysis,
    vars: Vars,
    /// Skip the plain-command fast path (tests compare both paths).
    always_parse: bool,
    /// The text being walked, to look at the source of a node when the AST
    /// alone is ambiguous (`( (x) )` vs `((x))`).
    source: Rc<str>,
}

/// Per-position state: how deep we are and which wrappers we are inside.
#[derive(Debug, Clone, Default)]
struct Ctx {
    depth: usize,
    via: Vec<String>,
    /// What `{}` stands for in the command run by an enclosing `find -exec`:
    /// find's starting points, which it yields first, when no test filters
    /// them out. Only for that command itself, not for anything it runs.
    found: Vec<String>,
}

impl Ctx {
    fn inside(&self, label: &str) -> Ctx {
        let mut via = self.via.clone();
        via.push(label.to_string());
        Ctx {
            depth: self.depth,
            via,
            found: Vec::new(),
        }
    }

    fn deeper(&self) -> Ctx {
        Ctx {
            depth: self.depth + 1,
            via: self.via.clone(),
            found: Vec::new(),
        }
    }
}

impl Walker {
    /// Analyse a whole command line.
    pub fn run(src: &str) -> Analysis {
        let mut walker = Walker::default();
        walker.text(src, &Ctx::default(), &Stdin::Inherited);
        walker.finish()
    }

    fn finish(mut self) -> Analysis {
        dedup(&mut self.out.commands);
        dedup(&mut self.out.files);
        dedup(&mut self.out.unresolved);
        self.out
    }

    fn flag(&mut self, kind: UnresolvedKind, detail: impl Into<String>) {
        let mut detail: String = detail.into();
        if detail.len() > 200 {
            let cut = (0..=200)
                .rev()
                .find(|i| detail.is_char_boundary(*i))
                .unwrap_or(0);
            detail.truncate(cut);
            detail.push('…');
        }
        self.out.unresolved.push(Unresolved { kind, detail });
    }

    fn file(&mut self, path: &str, kind: AccessKind, by: &str) {
        if path.is_empty() || is_device(path) {
            return;
        }
        self.out.files.push(FileAccess {
            path: path.to_string(),
            kind,
            by: by.to_string(),
        });
    }

    /// Analyse shell source text (top level, `bash -c`, `eval`, substitutions).
    fn text(&mut self, src: &str, ctx: &Ctx, stdin: &Stdin) {
        if ctx.depth > MAX_DEPTH {
            self.flag(UnresolvedKind::TooDeep, src);
            return;
        }
        if !self.always_parse
            && let Some(list) = plain_command_list(src)
        {
            for command in list {
                let stdin = if command.piped { &Stdin::Pipe } else { stdin };
                self.exec(
                    command.words.into_iter().map(Arg::plain).collect(),
                    ctx,
                    stdin,
                );
            }
            return;
        }
        match parse(src) {
            Ok(program) => {
                let outer = std::mem::replace(&mut self.source, Rc::from(src));
                for list in &program.complete_commands {
                    self.compound_list(list, ctx, stdin);
                }
                self.source = outer;
            }
            Err(ParseFailure::TooDeep(depth)) => {
                self.flag(UnresolvedKind::TooDeep, format!("nesting depth {depth}"));
                self.salvage(src, ctx);
            }
            Err(ParseFailure::Syntax(message)) => {
                self.flag(UnresolvedKind::Unparseable, message);
                self.salvage(src, ctx);
            }
        }
    }

    fn compound_list(&mut self, list: &ast::CompoundList, ctx: &Ctx, stdin: &Stdin) {
        for item in &list.0 {
            self.and_or(&item.0, ctx, stdin);
        }
    }

    fn and_or(&mut self, list: &ast::AndOrList, ctx: &Ctx, stdin: &Stdin) {
        self.pipeline(&list.first, ctx, stdin);
        for next in &list.additional {
            match next {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, ctx, stdin),
            }
        }
    }

    fn pipeline(&mut self, pipeline: &ast::Pipeline, ctx: &Ctx, stdin: &Stdin) {
        for (i, command) in pipeline.seq.iter().enumerate() {
            let stage_stdin = if i == 0 { stdin.clone() } else { Stdin::Pipe };
            self.command(command, ctx, &stage_stdin);
        }
    }

    fn command(&mut self, command: &ast::Command, ctx: &Ctx, stdin: &Stdin) {
        match command {
            ast::Command::Simple(simple) => self.simple(simple, ctx, stdin),
            ast::Command::Compound(compound, redirects) => {
                let stdin = match redirects {
                    Some(list) => self
                        .redirects(&list.0, ctx)
                        .unwrap_or_else(|| stdin.clone()),
                    None => stdin.clone(),
                };
                self.compound(compound, ctx, &stdin);
            }
            ast::Command::Function(def) => {
                let ast::FunctionBody(body, redirects) = &def.body;
                if let Some(list) = redirects {
                    self.redirects(&list.0, ctx);
                }
                self.compound(body, ctx, &Stdin::Inherited);
            }
            ast::Command::ExtendedTest(test, _) => self.extended_test(&test.expr, ctx),
        }
    }

    fn compound(&mut self, compound: &ast::CompoundCommand, ctx: &Ctx, stdin: &Stdin) {
        use ast::CompoundCommand as C;
        match compound {
            C::Arithmetic(a) => {
                if self.written_as_double_paren(a.loc.start.index)
                    && looks_arithmetic(&a.expr.value)
                {
                    // `(( $(cmd) ))`: only substitutions can run here.
                    self.word(&a.expr.value, ctx);
                } else {
                    // `( (rm x) )` / `((rm x))`: nested subshells to bash.
                    self.text(&a.expr.value, &ctx.deeper(), stdin);
                }
            }
            C::ArithmeticForClause(f) => {
                for expr in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    self.word(&expr.value, ctx);
                }
                self.compound_list(&f.body.list, ctx, stdin);
            }
            C::BraceGroup(g) => self.compound_list(&g.list, ctx, stdin),
            C::Subshell(s) => self.compound_list(&s.list, ctx, stdin),
            C::ForClause(f) => {
                for word in f.values.iter().flatten() {
                    self.word(&word.value, ctx);
                }
                self.compound_list(&f.body.list, ctx, stdin);
            }
            C::CaseClause(c) => {
                self.word(&c.value.value, ctx);
                for item in &c.cases {
                    if let Some(list) = &item.cmd {
                        self.compound_list(list, ctx, stdin);
                    }
                }
            }
            C::IfClause(i) => {
                self.compound_list(&i.condition, ctx, stdin);
                self.compound_list(&i.then, ctx, stdin);
                for clause in i.elses.iter().flatten() {
                    if let Some(cond) = &clause.condition {
                        self.compound_list(cond, ctx, stdin);
                    }
                    self.compound_list(&clause.body, ctx, stdin);
                }
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.compound_list(&w.0, ctx, stdin);
                self.compound_list(&w.1.list, ctx, stdin);
            }
            C::Coprocess(c) => self.command(&c.body, ctx, stdin),
        }
    }

    fn extended_test(&mut self, expr: &ast::ExtendedTestExpr, ctx: &Ctx) {
        use ast::ExtendedTestExpr as E;
        match expr {
            E::And(a, b) | E::Or(a, b) => {
                self.extended_test(a, ctx);
                self.extended_test(b, ctx);
            }
            E::Not(a) | E::Parenthesized(a) => self.extended_test(a, ctx),
            E::UnaryTest(_, w) => {
                self.word(&w.value, ctx);
            }
            E::BinaryTest(_, a, b) => {
                self.word(&a.value, ctx);
                self.word(&b.value, ctx);
            }
        }
    }

    /// Does the source at character `index` read `((`? brush-parser also
    /// turns `( (x) )` (nested subshells to bash) into an arithmetic command.
    fn written_as_double_paren(&self, index: usize) -> bool {
        let at = if self.source.is_ascii() {
            self.source.get(index..index + 2).map(str::to_string)
        } else {
            Some(self.source.chars().skip(index).take(2).collect())
        };
        at.is_some_and(|s| s.starts_with("(("))
    }

    /// Normalise a word and analyse the substitutions inside it.
    fn word(&mut self, raw: &str, ctx: &Ctx) -> Arg {
        let arg = normalize(raw, &self.vars);
        for body in &arg.substitutions {
            self.text(body, &ctx.deeper(), &Stdin::Inherited);
        }
        arg
    }

    fn simple(&mut self, simple: &ast::SimpleCommand, ctx: &Ctx, stdin: &Stdin) {
        use ast::CommandPrefixOrSuffixItem as Item;
        let mut argv: Vec<Arg> = Vec::new();
        let mut raw_words: Vec<String> = Vec::new();
        let mut own_stdin: Option<Stdin> = None;
        let mut assignments: Vec<(String, Arg)> = Vec::new();
        let items = simple
            .prefix
            .iter()
            .flat_map(|p| p.0.iter())
            .map(Some)
            .chain(std::iter::once(None))
            .chain(simple.suffix.iter().flat_map(|s| s.0.iter()).map(Some));
        for item in items {
            match item {
                None => {
                    if let Some(name) = &simple.word_or_name {
                        raw_words.push(name.value.clone());
                        let arg = self.word(&name.value, ctx);
                        argv.push(arg);
                    }
                }
                Some(Item::IoRedirect(r)) => {
                    if let Some(s) = self.redirect(r, ctx) {
                        own_stdin = Some(s);
                    }
                }
                Some(Item::Word(w)) => {
                    raw_words.push(w.value.clone());
                    let arg = self.word(&w.value, ctx);
                    argv.push(arg);
                }
                Some(Item::AssignmentWord(_, word)) if !argv.is_empty() => {
                    // `env A=1`, `dd if=x`, `export P=$(..)`: an argument.
                    raw_words.push(word.value.clone());
                    let arg = self.word(&word.value, ctx);
                    argv.push(arg);
                }
                Some(Item::AssignmentWord(assignment, _)) => {
                    let name = match &assignment.name {
                        ast::AssignmentName::VariableName(n) => n.clone(),
                        ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
                    };
                    let value = match &assignment.value {
                        ast::AssignmentValue::Scalar(w) => self.word(&w.value, ctx),
                        ast::AssignmentValue::Array(items) => {
                            for (_, w) in items {
                                self.word(&w.value, ctx);
                            }
                            Arg {
                                dynamic: true,
                                ..Arg::default()
                            }
                        }
                    };
                    assignments.push((name, value));
                }
                Some(Item::ProcessSubstitution(_, sub)) => {
                    self.compound_list(&sub.list, &ctx.deeper(), &Stdin::Inherited);
                    argv.push(Arg {
                        text: PROCESS_SUBSTITUTION.to_string(),
                        dynamic: true,
                        ..Arg::default()
                    });
                }
            }
        }
        if argv.is_empty() {
            // Plain assignments: remember static values for `$X` later on the line.
            for (name, value) in assignments {
                if name == "IFS" {
                    // Changes how every later unquoted expansion splits
                    // (`IFS= read` only affects `read` and is harmless).
                    self.flag(UnresolvedKind::Obfuscated, "IFS reassigned");
                }
                if value.dynamic {
                    self.vars.remove(&name);
                } else {
                    self.vars.insert(name, value.text);
                }
            }
            return;
        }
        if argv.iter().any(|a| a.ifs) {
            let resplit = raw_words
                .join(" ")
                .replace("${IFS}", " ")
                .replace("$IFS", " ");
            self.flag(
                UnresolvedKind::Obfuscated,
                format!("$IFS used to split words: {}", raw_words.join(" ")),
            );
            self.text(&resplit, &ctx.deeper(), &Stdin::Inherited);
            return;
        }
        let argv = self.expand_brace_words(argv);
        let stdin = own_stdin.unwrap_or_else(|| stdin.clone());
        self.exec(argv, ctx, &stdin);
    }

    /// Apply brace expansion to static words; a brace in the command name is
    /// an evasion trick and is flagged.
    fn expand_brace_words(&mut self, argv: Vec<Arg>) -> Vec<Arg> {
        // Budget so `{a,b}{a,b}...` repeated over a long line cannot blow up memory.
        const MAX_EXTRA_WORDS: usize = 1024;
        let mut out = Vec::with_capacity(argv.len());
        let mut budget_left = MAX_EXTRA_WORDS;
        for (i, arg) in argv.into_iter().enumerate() {
            if arg.brace
                && !arg.dynamic
                && budget_left > 0
                && let Some(words) = expand_braces(&arg.text)
            {
                if i == 0 {
                    self.flag(
                        UnresolvedKind::Obfuscated,
                        format!("brace expansion in command name: {}", arg.text),
                    );
                }
                budget_left = budget_left.saturating_sub(words.len());
                out.extend(words.into_iter().map(Arg::plain));
                continue;
            }
            out.push(arg);
        }
        out
    }

    /// A command with its final argv: record it, its files, and whatever it runs.
    fn exec(&mut self, argv: Vec<Arg>, ctx: &Ctx, stdin: &Stdin) {
        let Some(first) = argv.first() else {
            return;
        };
        if first.dynamic {
            self.flag(UnresolvedKind::DynamicCommand, first.text.clone());
            self.push_command(argv.iter().map(|a| a.text.clone()).collect(), ctx);
            return;
        }
        if first.glob {
            self.flag(
                UnresolvedKind::Obfuscated,
                format!("glob in command name: {}", first.text),
            );
        }
        let program = basename(&first.text).to_string();
        if program.is_empty() {
            return;
        }
        let args = argv.get(1..).unwrap_or(&[]);
        let mut words = Vec::with_capacity(argv.len());
        words.push(program.clone());
        words.extend(args.iter().map(|a| a.text.clone()));
        self.push_command(words, ctx);

        for (path, kind) in accesses(&program, args) {
            // `find / -exec rm -rf {} +` removes `/` itself first: the
            // operand also counts as each starting point (and stays as
            // written, so nothing that `{}` alone would catch is lost).
            if path.contains("{}") {
                for root in &ctx.found {
                    self.file(&path.replace("{}", root), kind, &program);
                }
            }
            self.file(&path, kind, &program);
        }
        if ctx.depth > MAX_DEPTH {
            self.flag(UnresolvedKind::TooDeep, program);
            return;
        }
        if let Some(inner) = wrappers::unwrap(&program, args) {
            let label = if program == "find" {
                "find -exec"
            } else {
                program.as_str()
            };
            let inner_ctx = Ctx {
                depth: ctx.depth + 1,
                found: if program == "find" {
                    wrappers::find_unfiltered_roots(args)
                } else {
                    Vec::new()
                },
                ..ctx.inside(label)
            };
            let inner_stdin = if program == "xargs" {
                Stdin::Inherited
            } else {
                stdin.clone()
            };
            for command in inner {
                self.exec(command, &inner_ctx, &inner_stdin);
            }
            return;
        }
        self.interpret(&program, args, ctx, stdin);
    }

    fn interpret(&mut self, program: &str, args: &[Arg], ctx: &Ctx, stdin: &Stdin) {
        match classify(program, args) {
            Interp::None => {}
            Interp::ShellCode(code) => {
                let label = if program == "eval" {
                    "eval".to_string()
                } else {
                    format!("{program} -c")
                };
                if code.dynamic {
                    self.flag(
                        UnresolvedKind::DynamicCommand,
                        format!("{label} {}", code.text),
                    );
                    if !code.substitutions.is_empty() {
                        // The substitutions were analysed already; their output is unknown.
                        return;
                    }
                }
                let inner = Ctx {
                    depth: ctx.depth + 1,
                    ..ctx.inside(&label)
                };
                self.text(&code.text, &inner, &Stdin::Inherited);
            }
            Interp::ShellScript(path) => {
                if path == PROCESS_SUBSTITUTION || (path == "/dev/stdin" && *stdin == Stdin::Pipe) {
                    self.flag(
                        UnresolvedKind::PipedIntoInterpreter,
                        format!("{program} runs the output of another command"),
                    );
                }
                self.file(&path, AccessKind::Read, program);
            }
            Interp::ShellStdin => match stdin {
                Stdin::Pipe => self.flag(
                    UnresolvedKind::PipedIntoInterpreter,
                    format!("piped into {program}"),
                ),
                Stdin::Text(body) => {
                    let inner = Ctx {
                        depth: ctx.depth + 1,
                        ..ctx.inside(&format!("{program} <<"))
                    };
                    self.text(body, &inner, &Stdin::Inherited);
                }
                Stdin::File | Stdin::Inherited => {}
            },
            Interp::InlineCode(detail) => self.flag(UnresolvedKind::InlineCode, detail),
            Interp::InterpreterStdin => match stdin {
                Stdin::Pipe => self.flag(
                    UnresolvedKind::PipedIntoInterpreter,
                    format!("piped into {program}"),
                ),
                Stdin::Text(_) => self.flag(
                    UnresolvedKind::InlineCode,
                    format!("{program} reads code from a here-document"),
                ),
                Stdin::File | Stdin::Inherited => {}
            },
        }
    }

    fn push_command(&mut self, argv: Vec<String>, ctx: &Ctx) {
        self.out.commands.push(Command {
            argv,
            via: ctx.via.clone(),
        });
    }
}

/// `/usr/bin/rm` -> `rm`; a trailing slash is ignored.
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return path;
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

fn dedup<T: Eq + std::hash::Hash + Clone>(items: &mut Vec<T>) {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|item| seen.insert(item.clone()));
}

#[cfg(test)]
mod tests;
