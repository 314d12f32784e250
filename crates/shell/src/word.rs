//! Turning a raw shell word (as the parser hands it over, quotes included)
//! into the text the program would receive, plus what could not be known.

use std::collections::HashMap;

use brush_parser::ParserOptions;
use brush_parser::word::{Parameter, ParameterExpr, TildeExpr, WordPiece, WordPieceWithSource};

/// A word after quote removal, with everything the analysis must still look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arg {
    /// The text after quote/escape removal. Dynamic parts are kept as written
    /// (`$x`, `$(date)`) so a reader can see them.
    pub text: String,
    /// Some part is only known at run time (a variable or a substitution).
    pub dynamic: bool,
    /// An unquoted glob character (`*`, `?`, `[`) appears: the word may expand.
    pub glob: bool,
    /// An unquoted brace expansion (`{a,b}`, `{1..3}`) appears.
    pub brace: bool,
    /// `$IFS` is used: a classic trick to smuggle spaces into one word.
    pub ifs: bool,
    /// Bodies of `$(..)` / backticks inside the word; they execute.
    pub substitutions: Vec<String>,
}

impl Arg {
    /// A fully static, plain word (used for synthesised arguments).
    pub fn plain(text: impl Into<String>) -> Self {
        Arg {
            text: text.into(),
            ..Arg::default()
        }
    }
}

/// Variables assigned earlier on the same line with a statically known value.
pub type Vars = HashMap<String, String>;

/// Normalise one raw word. Falls back to naive quote stripping if the word
/// parser rejects it, so the analysis still sees something sensible.
pub fn normalize(raw: &str, vars: &Vars) -> Arg {
    // Fast path: most words have nothing to resolve (and the word parser is
    // the costliest step on long scripts).
    if !raw.contains([
        '\'', '"', '\\', '$', '`', '~', '{', '}', '*', '?', '[', ']', '(', ')', '<', '>',
    ]) {
        return Arg::plain(raw);
    }
    let options = ParserOptions::default();
    let mut arg = Arg::default();
    match brush_parser::word::parse(raw, &options) {
        Ok(pieces) => {
            for piece in &pieces {
                push_piece(raw, piece, false, vars, &mut arg);
            }
        }
        Err(_) => {
            arg.text = brush_parser::unquote_str(raw);
            arg.dynamic = raw.contains('$') || raw.contains('`');
        }
    }
    arg
}

fn source_of<'a>(raw: &'a str, piece: &WordPieceWithSource) -> &'a str {
    raw.get(piece.start_index..piece.end_index).unwrap_or("")
}

fn push_piece(raw: &str, piece: &WordPieceWithSource, quoted: bool, vars: &Vars, arg: &mut Arg) {
    match &piece.piece {
        WordPiece::Text(text) => {
            if !quoted {
                if text.contains(['*', '?'])
                    || text
                        .find('[')
                        .is_some_and(|i| text.get(i + 1..).is_some_and(|t| t.contains(']')))
                {
                    arg.glob = true;
                }
                if looks_like_brace_expansion(text) {
                    arg.brace = true;
                }
            }
            arg.text.push_str(text);
        }
        WordPiece::SingleQuotedText(text) => arg.text.push_str(text),
        WordPiece::AnsiCQuotedText(text) => arg.text.push_str(&decode_ansi_c(text)),
        WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
            for p in inner {
                push_piece(raw, p, true, vars, arg);
            }
        }
        WordPiece::TildeExpansion(tilde) => arg.text.push_str(&tilde_text(tilde)),
        WordPiece::EscapeSequence(seq) => {
            // `\x` outside quotes is `x`; inside double quotes only some
            // characters are escapable, the rest keep the backslash.
            let mut chars = seq.chars();
            let _backslash = chars.next();
            let rest: String = chars.collect();
            if quoted && !matches!(rest.as_str(), "$" | "`" | "\"" | "\\" | "\n") {
                arg.text.push_str(seq);
            } else if rest != "\n" {
                arg.text.push_str(&rest);
            }
        }
        WordPiece::ParameterExpansion(expr) => {
            if let Some(value) = static_parameter(expr, vars) {
                arg.text.push_str(&value);
            } else {
                if parameter_name(expr) == Some("IFS") {
                    arg.ifs = true;
                }
                arg.dynamic = true;
                let source = source_of(raw, piece);
                arg.text.push_str(source);
                // `${x:-$(cmd)}`: the nested substitution may run.
                if let Some(at) = source.find("$(").or_else(|| source.find('`')) {
                    let nested = source.get(at..source.len().saturating_sub(1)).unwrap_or("");
                    arg.substitutions
                        .extend(normalize(nested, vars).substitutions);
                }
            }
        }
        WordPiece::CommandSubstitution(body) | WordPiece::BackquotedCommandSubstitution(body) => {
            arg.dynamic = true;
            arg.substitutions.push(body.clone());
            arg.text.push_str(source_of(raw, piece));
        }
        WordPiece::ArithmeticExpression(expr) => {
            arg.dynamic = true;
            arg.text.push_str(source_of(raw, piece));
            // `$(( $(cmd) + 1 ))`: substitutions inside arithmetic run too.
            if !crate::parse::looks_arithmetic(&expr.value) {
                // `$((rm x))` is a command substitution of a subshell to bash.
                arg.substitutions.push(expr.value.clone());
            } else if expr.value.contains("$(") || expr.value.contains('`') {
                arg.substitutions
                    .extend(normalize(&expr.value, vars).substitutions);
            }
        }
    }
}

fn parameter_name(expr: &ParameterExpr) -> Option<&str> {
    match expr {
        ParameterExpr::Parameter {
            parameter: Parameter::Named(name),
            ..
        } => Some(name),
        _ => None,
    }
}

/// `$X` / `${X}` where `X` was assigned a static value earlier on the line.
fn static_parameter(expr: &ParameterExpr, vars: &Vars) -> Option<String> {
    match expr {
        ParameterExpr::Parameter {
            parameter: Parameter::Named(name),
            indirect: false,
        } => vars
            .get(name)
            .filter(|v| !v.contains(|c: char| c.is_whitespace() || matches!(c, '*' | '?' | '[')))
            .cloned(),
        _ => None,
    }
}

fn tilde_text(tilde: &TildeExpr) -> String {
    match tilde {
        TildeExpr::Home => "~".to_string(),
        TildeExpr::UserHome(user) => format!("~{user}"),
        TildeExpr::WorkingDir => "~+".to_string(),
        TildeExpr::OldWorkingDir => "~-".to_string(),
        TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => {
            if *plus_used {
                format!("~+{n}")
            } else {
                format!("~{n}")
            }
        }
        TildeExpr::NthDirFromBottomOfDirStack { n } => format!("~-{n}"),
    }
}

/// `{a,b}` or `{1..3}` in unquoted text: bash expands it into several words.
pub fn looks_like_brace_expansion(text: &str) -> bool {
    let Some(open) = text.find('{') else {
        return false;
    };
    let Some(close_rel) = text.get(open..).and_then(|t| t.rfind('}')) else {
        return false;
    };
    let inner = text.get(open + 1..open + close_rel).unwrap_or("");
    inner.contains(',') || inner.contains("..")
}

/// Expand the simplest brace form (`pre{a,b}post`, nested allowed) into its
/// words; `None` if the text is not a comma brace expansion. Capped so a
/// hostile `{a,b}{a,b}...` cannot explode.
pub fn expand_braces(text: &str) -> Option<Vec<String>> {
    const CAP: usize = 256;
    let (open, close) = find_brace_pair(text)?;
    let pre = text.get(..open)?;
    let inner = text.get(open + 1..close)?;
    let post = text.get(close + 1..)?;
    let alternatives = split_top_level_commas(inner);
    if alternatives.len() < 2 {
        return None;
    }
    let mut out = Vec::new();
    for alt in alternatives {
        let joined = format!("{pre}{alt}{post}");
        match expand_braces(&joined) {
            Some(more) => out.extend(more),
            None => out.push(joined),
        }
        if out.len() >= CAP {
            out.truncate(CAP);
            break;
        }
    }
    Some(out)
}

fn find_brace_pair(text: &str) -> Option<(usize, usize)> {
    let open = text.find('{')?;
    let mut depth = 0usize;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some((open, i));
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level_commas(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(inner.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(inner.get(start..).unwrap_or(""));
    parts
}

/// Decode the body of `$'...'` as bash does (the parser leaves it raw).
pub fn decode_ansi_c(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(esc) = chars.next() else {
            out.push('\\');
            break;
        };
        match esc {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' | '?' => out.push(esc),
            'x' => push_code(&mut out, take_digits(&mut chars, 16, 2), "\\x"),
            'u' => push_code(&mut out, take_digits(&mut chars, 16, 4), "\\u"),
            'U' => push_code(&mut out, take_digits(&mut chars, 16, 8), "\\U"),
            'c' => match chars.next() {
                Some(ctl) => {
                    let code = (ctl.to_ascii_uppercase() as u32) ^ 0x40;
                    out.extend(char::from_u32(code));
                }
                None => out.push_str("\\c"),
            },
            '0'..='7' => {
                let mut value = esc.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.extend(char::from_u32(value & 0xff));
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

fn take_digits(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    radix: u32,
    max: usize,
) -> Option<u32> {
    let mut value: Option<u32> = None;
    for _ in 0..max {
        match chars.peek().and_then(|d| d.to_digit(radix)) {
            Some(d) => {
                value = Some(value.unwrap_or(0).saturating_mul(radix).saturating_add(d));
                chars.next();
            }
            None => break,
        }
    }
    value
}

fn push_code(out: &mut String, code: Option<u32>, literal: &str) {
    match code.and_then(char::from_u32) {
        Some(ch) => out.push(ch),
        None => out.push_str(literal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_c_decodes_hex_octal_unicode_and_controls() {
        assert_eq!(decode_ansi_c(r"\x72m"), "rm");
        assert_eq!(decode_ansi_c(r"\162\155"), "rm");
        assert_eq!(decode_ansi_c(r"\u0072m"), "rm");
        assert_eq!(decode_ansi_c(r"a\tb\n"), "a\tb\n");
        assert_eq!(decode_ansi_c(r"\e[0m"), "\u{1b}[0m");
        assert_eq!(decode_ansi_c(r"\'"), "'");
        assert_eq!(decode_ansi_c("\\"), "\\");
        assert_eq!(decode_ansi_c(r"\xZZ"), r"\xZZ");
    }

    #[test]
    fn normalize_removes_quotes_and_escapes() {
        let vars = Vars::new();
        for raw in ["r''m", "\\rm", "\"r\"m", "$'\\x72m'", "'rm'", "r\"\"m"] {
            let arg = normalize(raw, &vars);
            assert_eq!(arg.text, "rm", "{raw}");
            assert!(!arg.dynamic, "{raw}");
        }
    }

    #[test]
    fn normalize_marks_dynamic_parts_and_substitutions() {
        let arg = normalize("a$(echo rm)b", &Vars::new());
        assert!(arg.dynamic);
        assert_eq!(arg.substitutions, vec!["echo rm".to_string()]);
        assert_eq!(arg.text, "a$(echo rm)b");
    }

    #[test]
    fn normalize_resolves_known_variables() {
        let mut vars = Vars::new();
        vars.insert("X".into(), "rm".into());
        let arg = normalize("$X", &vars);
        assert_eq!(arg.text, "rm");
        assert!(!arg.dynamic);
    }

    #[test]
    fn brace_expansion_expands_commas_and_caps() {
        assert_eq!(
            expand_braces("{rm,-rf,/}"),
            Some(vec!["rm".into(), "-rf".into(), "/".into()])
        );
        assert_eq!(
            expand_braces("a{b,c}d"),
            Some(vec!["abd".into(), "acd".into()])
        );
        assert_eq!(expand_braces("plain"), None);
        let bomb = "{a,b}".repeat(20);
        assert!(expand_braces(&bomb).is_some_and(|v| v.len() <= 256));
    }
}
