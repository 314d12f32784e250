//! A fast path for the common case: lines of plain words (optionally in
//! simple quotes) joined by `&& || ; & |` and newlines, such as
//! `git commit -m "fix: typo"` or `cargo build && cargo test | tail`.
//! For such text the full parser's result is exactly this split, so we skip
//! it (an order of magnitude cheaper). Anything else returns `None` and goes
//! to the parser; unit tests check that both paths agree.

/// One simple command of a plain command list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainCommand {
    /// Its words after quote removal.
    pub words: Vec<String>,
    /// It follows a `|` (reads the previous command's output).
    pub piped: bool,
}

/// Words that are syntax, not commands, when they come first unquoted.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case",
    "esac", "select", "function", "time", "coproc", "!", "[[", "{", "}",
];

/// Characters allowed outside quotes: nothing that expands, redirects,
/// groups, comments or globs.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '_' | '.' | '/' | '=' | ':' | ',' | '@' | '+' | '%')
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word {
        text: String,
        raw: String,
    },
    /// `&&`, `||`, `;`, `&` (false) or `|`, `|&` (true: the next command is piped).
    Operator {
        pipe: bool,
        list: bool,
    },
}

/// The plain command list `src` stands for, or `None` if the parser must see it.
pub fn plain_command_list(src: &str) -> Option<Vec<PlainCommand>> {
    // Newlines separate commands like `;`; blank lines are allowed. A line
    // ending in an operator (or an open quote) continues on the next one in
    // bash: such input fails here and goes to the parser.
    let mut out = Vec::new();
    for line in src.split('\n') {
        if !line.trim().is_empty() {
            out.extend(plain_line(line)?);
        }
    }
    if out.is_empty() { None } else { Some(out) }
}

fn plain_line(line: &str) -> Option<Vec<PlainCommand>> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut piped = false;
    let mut last_was_list_operator = false;
    for token in tokens(line)? {
        match token {
            Token::Word { text, raw } => {
                if words.is_empty() && (raw.contains('=') || RESERVED.contains(&raw.as_str())) {
                    return None; // assignment or keyword: the parser decides
                }
                words.push(text);
                last_was_list_operator = false;
            }
            Token::Operator { pipe, list } => {
                if words.is_empty() {
                    return None; // `ls | | x`, `; ls`: a syntax error for the parser to report
                }
                out.push(PlainCommand {
                    words: std::mem::take(&mut words),
                    piped,
                });
                piped = pipe;
                last_was_list_operator = list;
            }
        }
    }
    if words.is_empty() {
        // Only a trailing `;` or `&` may end a line.
        if piped || last_was_list_operator || out.is_empty() {
            return None;
        }
    } else {
        out.push(PlainCommand { words, piped });
    }
    Some(out)
}

fn tokens(line: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut raw = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let flush = |out: &mut Vec<Token>, text: &mut String, raw: &mut String, in_word: &mut bool| {
        if *in_word {
            out.push(Token::Word {
                text: std::mem::take(text),
                raw: std::mem::take(raw),
            });
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                raw.push(c);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        x => text.push(x),
                    }
                }
                raw.push('\'');
            }
            '"' => {
                in_word = true;
                raw.push(c);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' | '\\' | '!' => return None,
                        x => text.push(x),
                    }
                }
                raw.push('"');
            }
            ' ' | '\t' => flush(&mut out, &mut text, &mut raw, &mut in_word),
            '|' | '&' | ';' => {
                flush(&mut out, &mut text, &mut raw, &mut in_word);
                let next = chars.peek().copied();
                let operator = match (c, next) {
                    ('&', Some('&')) | ('|', Some('|')) => {
                        chars.next();
                        Token::Operator {
                            pipe: false,
                            list: true,
                        }
                    }
                    ('|', Some('&')) => {
                        chars.next();
                        Token::Operator {
                            pipe: true,
                            list: false,
                        }
                    }
                    ('|', _) => Token::Operator {
                        pipe: true,
                        list: false,
                    },
                    _ => Token::Operator {
                        pipe: false,
                        list: false,
                    },
                };
                // `;;`, `;&`, `&;`, `||&`...: leave oddities to the parser.
                if matches!(chars.peek(), Some('|' | '&' | ';')) {
                    return None;
                }
                out.push(operator);
            }
            c if plain(c) => {
                in_word = true;
                text.push(c);
                raw.push(c);
            }
            _ => return None,
        }
    }
    flush(&mut out, &mut text, &mut raw, &mut in_word);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Option<Vec<Vec<String>>> {
        plain_command_list(src).map(|list| list.into_iter().map(|c| c.words).collect())
    }

    #[test]
    fn splits_plain_words_and_removes_simple_quotes() {
        assert_eq!(
            words("git commit -m \"fix: a | b\" --author 'A B'"),
            Some(vec![vec![
                "git".into(),
                "commit".into(),
                "-m".into(),
                "fix: a | b".into(),
                "--author".into(),
                "A B".into()
            ]])
        );
        assert_eq!(
            words("echo ''"),
            Some(vec![vec!["echo".into(), String::new()]])
        );
        assert_eq!(words("r''m x"), Some(vec![vec!["rm".into(), "x".into()]]));
    }

    #[test]
    fn operators_split_commands_and_mark_pipes() {
        let list = plain_command_list("a x && b | c; d &\n\ne |& f").unwrap_or_default();
        let piped: Vec<bool> = list.iter().map(|c| c.piped).collect();
        assert_eq!(piped, vec![false, false, true, false, false, true]);
    }

    #[test]
    fn anything_else_goes_to_the_parser() {
        for src in [
            "ls |",
            "ls &&",
            "&& ls",
            "ls || ",
            ";",
            "a |& if",
            "ls &&\nrm x",
            "\n",
            "A=1 ls",
            "if x",
            "echo \"$x\"",
            "echo 'a",
            "ls *",
            "ls ~",
            "x # c",
            "a;;b",
            "echo \"a\\b\"",
            "cat < f",
            "echo > f",
            "(ls)",
            "{ ls; }",
            "echo `id`",
            "a=\"b\" c",
            "! ls",
        ] {
            assert_eq!(plain_command_list(src), None, "{src:?}");
        }
    }
}
