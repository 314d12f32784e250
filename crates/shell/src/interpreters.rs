//! Programs that run code given as data: shells (`bash -c`, `eval`, `su -c`)
//! whose code we can analyse in turn, and other language interpreters
//! (`python -c`) whose code we can only flag.

use crate::options::{OptionSpec, scan};
use crate::word::Arg;

/// What an interpreter would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interp {
    /// Not an interpreter (or nothing we need to look at).
    None,
    /// Shell code given on the command line; analyse it recursively.
    ShellCode(Arg),
    /// A shell reading its script from stdin (`bash`, `sh -s`, `bash -`).
    ShellStdin,
    /// A shell running a script file: the file is read.
    ShellScript(String),
    /// Inline code for a non-shell language (`python -c`, `perl -e`).
    InlineCode(String),
    /// A non-shell interpreter reading its program from stdin.
    InterpreterStdin,
}

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "mksh",
    "ash",
    "yash",
    "fish",
    "rbash",
    "busybox-sh",
];

/// Is `program` a POSIX-ish shell?
pub fn is_shell(program: &str) -> bool {
    SHELLS.contains(&program)
}

fn is_python(program: &str) -> bool {
    program == "python"
        || program.starts_with("python2")
        || program.starts_with("python3")
        || program == "pypy"
        || program == "pypy3"
}

/// Classify `program args...`.
pub fn classify(program: &str, args: &[Arg]) -> Interp {
    if is_shell(program) {
        return shell(args);
    }
    match program {
        "eval" => ShellCodeJoined(args).into(),
        "source" | "." => args
            .first()
            .map_or(Interp::None, |a| Interp::ShellScript(a.text.clone())),
        "su" | "runuser" | "sg" => {
            let scanned = scan(
                args,
                &spec(
                    "cgsGw",
                    &["command", "shell", "group", "whitelist-environment"],
                ),
            );
            match first(scanned.values("-c"), scanned.values("--command")) {
                Some(code) => Interp::ShellCode(Arg {
                    dynamic: args.iter().any(|a| a.dynamic && a.text == code),
                    text: code,
                    ..Arg::default()
                }),
                None => Interp::None,
            }
        }
        "watch" => {
            let scanned = scan(
                args,
                &OptionSpec {
                    short_with_value: "nd",
                    long_with_value: &["interval", "differences"],
                    stop_at_operand: true,
                },
            );
            ShellCodeJoined(args.get(scanned.rest..).unwrap_or(&[])).into()
        }
        "alias" => args
            .iter()
            .find_map(|a| a.text.split_once('=').map(|(_, v)| v.to_string()))
            .map_or(Interp::None, |v| Interp::ShellCode(Arg::plain(v))),
        "trap" => match args.first() {
            Some(code) if !code.text.starts_with('-') => Interp::ShellCode(code.clone()),
            _ => Interp::None,
        },
        _ if is_python(program) => inline(args, "c", "cmWXQ", program),
        "perl" => inline(args, "eE", "eEIMmxdDCV", program),
        "ruby" | "jruby" => inline(args, "e", "eIrCEFx", program),
        "node" | "nodejs" | "bun" | "deno" => {
            let scanned = scan(args, &spec("ep", &["eval", "print", "require", "import"]));
            if scanned.has("-e")
                || scanned.has("-p")
                || scanned.has("--eval")
                || scanned.has("--print")
            {
                return Interp::InlineCode(format!("{program} inline code"));
            }
            if args
                .first()
                .is_some_and(|a| a.text == "eval" || a.text == "-e")
            {
                return Interp::InlineCode(format!("{program} inline code"));
            }
            if scanned.operands.is_empty()
                || scanned.operands.first().is_some_and(|a| a.text == "-")
            {
                return Interp::InterpreterStdin;
            }
            Interp::None
        }
        "php" => inline(args, "r", "rcdfz", program),
        "lua" | "luajit" => inline(args, "e", "el", program),
        "osascript" | "Rscript" => inline(args, "e", "e", program),
        "awk" | "gawk" | "mawk" | "nawk" => awk(args),
        _ => Interp::None,
    }
}

/// `eval a b c` runs `a b c` joined by spaces.
struct ShellCodeJoined<'a>(&'a [Arg]);

impl From<ShellCodeJoined<'_>> for Interp {
    fn from(ShellCodeJoined(args): ShellCodeJoined<'_>) -> Self {
        if args.is_empty() {
            return Interp::None;
        }
        let text = args
            .iter()
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Interp::ShellCode(Arg {
            text,
            dynamic: args.iter().any(|a| a.dynamic),
            substitutions: args.iter().flat_map(|a| a.substitutions.clone()).collect(),
            ..Arg::default()
        })
    }
}

fn spec(short: &'static str, long: &'static [&'static str]) -> OptionSpec {
    OptionSpec {
        short_with_value: short,
        long_with_value: long,
        stop_at_operand: false,
    }
}

fn first(a: Vec<String>, b: Vec<String>) -> Option<String> {
    a.into_iter().chain(b).next()
}

/// `bash [opts] -c CODE`, `bash -lc CODE`, `bash script.sh`, `bash -s`, `bash`.
fn shell(args: &[Arg]) -> Interp {
    let mut wants_code = false;
    let mut reads_stdin = false;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let t = arg.text.as_str();
        if t == "--" || t == "-" {
            reads_stdin = reads_stdin || t == "-";
            i += 1;
            break;
        }
        if t.starts_with("--") {
            // `--rcfile FILE`/`--init-file FILE` take a value.
            if matches!(t, "--rcfile" | "--init-file") {
                i += 1;
            }
            i += 1;
            continue;
        }
        if let Some(flags) = t.strip_prefix('-').or_else(|| t.strip_prefix('+')) {
            if flags.contains('c') && t.starts_with('-') {
                wants_code = true;
            }
            if flags.contains('s') && t.starts_with('-') {
                reads_stdin = true;
            }
            // `-o option` / `-O shopt` take a value.
            if flags.ends_with('o') || flags.ends_with('O') {
                i += 1;
            }
            i += 1;
            continue;
        }
        break;
    }
    match args.get(i) {
        Some(code) if wants_code => Interp::ShellCode(code.clone()),
        _ if wants_code => Interp::None,
        _ if reads_stdin => Interp::ShellStdin,
        Some(script) => Interp::ShellScript(script.text.clone()),
        None => Interp::ShellStdin,
    }
}

/// A language interpreter: `-c CODE`-style flags mean inline code, no
/// program operand means it reads its program from stdin.
fn inline(args: &[Arg], code_flags: &str, short: &'static str, program: &str) -> Interp {
    let scanned = scan(
        args,
        &OptionSpec {
            short_with_value: short,
            long_with_value: &[],
            stop_at_operand: true,
        },
    );
    if code_flags.chars().any(|f| scanned.has(&format!("-{f}"))) {
        return Interp::InlineCode(format!("{program} inline code"));
    }
    if scanned.has("-m") {
        return Interp::None; // `python -m module`: a named module, not inline code
    }
    match args.get(scanned.rest) {
        None => Interp::InterpreterStdin,
        Some(a) if a.text == "-" => Interp::InterpreterStdin,
        Some(_) => Interp::None,
    }
}

/// awk programs can run commands (`system()`, `| getline`, `print | "sh"`).
fn awk(args: &[Arg]) -> Interp {
    let scanned = scan(args, &spec("fvF", &[]));
    if scanned.has("-f") {
        return Interp::None;
    }
    match scanned.operands.first() {
        Some(program) if program.text.contains("system") || program.text.contains('|') => {
            Interp::InlineCode(format!("awk program runs commands: {}", program.text))
        }
        _ => Interp::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Arg> {
        words.iter().map(|w| Arg::plain(*w)).collect()
    }

    #[test]
    fn shell_dash_c_variants() {
        for flags in [
            vec!["-c"],
            vec!["-lc"],
            vec!["-ec"],
            vec!["-e", "-c"],
            vec!["-o", "pipefail", "-c"],
        ] {
            let mut a = args(&flags);
            a.push(Arg::plain("rm -rf /"));
            assert_eq!(
                classify("bash", &a),
                Interp::ShellCode(Arg::plain("rm -rf /")),
                "{flags:?}"
            );
        }
    }

    #[test]
    fn shell_without_code_reads_stdin_or_script() {
        assert_eq!(classify("sh", &[]), Interp::ShellStdin);
        assert_eq!(classify("bash", &args(&["-s", "x"])), Interp::ShellStdin);
        assert_eq!(
            classify("bash", &args(&["run.sh"])),
            Interp::ShellScript("run.sh".into())
        );
    }

    #[test]
    fn python_c_is_inline_and_bare_python_reads_stdin() {
        assert!(matches!(
            classify("python3", &args(&["-c", "print(1)"])),
            Interp::InlineCode(_)
        ));
        assert_eq!(classify("python3", &[]), Interp::InterpreterStdin);
        assert_eq!(classify("python3", &args(&["app.py"])), Interp::None);
        assert!(matches!(
            classify("perl", &args(&["-ne", "print"])),
            Interp::InlineCode(_)
        ));
    }
}
