//! Load and lint diagnostics: a level, a position and a message that says what to do.

use std::fmt;

use crate::node::Pos;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The policy still loads; something is probably not what the author meant.
    Warning,
    /// The policy does not load.
    Error,
}

/// One finding about a policy text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Where in the text (line/column of the offending key or value).
    pub pos: Pos,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl Diagnostic {
    /// Render as `origin:line:col: level: message`.
    pub fn render(&self, origin: &str) -> String {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Error => "error",
        };
        format!("{origin}:{}: {level}: {}", self.pos, self.message)
    }
}

/// Collects diagnostics while parsing, compiling and linting.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    /// In the order found.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Record an error: the policy will not load.
    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.items.push(Diagnostic {
            level: Level::Error,
            pos,
            message: message.into(),
        });
    }

    /// Record a warning: the policy loads, but lint reports it.
    pub fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.items.push(Diagnostic {
            level: Level::Warning,
            pos,
            message: message.into(),
        });
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.level == Level::Error)
    }

    /// Only the errors, sorted by position.
    pub fn errors(&self) -> Vec<&Diagnostic> {
        let mut errs: Vec<&Diagnostic> = self
            .items
            .iter()
            .filter(|d| d.level == Level::Error)
            .collect();
        errs.sort_by_key(|d| d.pos);
        errs
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}
