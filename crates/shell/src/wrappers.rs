//! Programs that run another program given on their command line (`sudo`,
//! `env`, `xargs`, `find -exec`, ...), with enough of each option grammar to
//! find where the inner command starts.

use crate::options::{OptionSpec, scan};
use crate::word::Arg;

/// The inner command(s) a wrapper would run, or `None` if `program` is not a
/// wrapper or runs nothing (`sudo -l`, `command -v rm`, bare `env`).
pub fn unwrap(program: &str, args: &[Arg]) -> Option<Vec<Vec<Arg>>> {
    let inner = match program {
        // `sudo -e FILE` edits files (see files.rs), it runs no command.
        "sudo" if is_sudo_edit(args) => return None,
        "sudo" => after_options(
            args,
            SUDO_VALUE_FLAGS,
            &[
                "user",
                "group",
                "host",
                "prompt",
                "close-from",
                "chdir",
                "role",
                "type",
                "other-user",
                "command-timeout",
                "chroot",
            ],
        ),
        "doas" => after_options(args, "uC", &[]),
        "nice" => nice(args),
        "nohup" | "setsid" | "unbuffer" | "caffeinate" | "torsocks" | "proxychains"
        | "proxychains4" | "catchsegv" => after_options(args, "", &[]),
        "time" => after_options(args, "fo", &["format", "output"]),
        "timeout" => {
            let rest = after_options(args, "sk", &["signal", "kill-after"])?;
            rest.get(1..).map(<[Arg]>::to_vec) // skip DURATION
        }
        "stdbuf" => after_options(args, "ioe", &["input", "output", "error"]),
        "ionice" => after_options(args, "cnpPu", &["class", "classdata", "pid", "pgid", "uid"]),
        "taskset" => {
            let rest = after_options(args, "", &[])?;
            rest.get(1..).map(<[Arg]>::to_vec) // skip the CPU mask
        }
        "chroot" => {
            let rest = after_options(args, "", &["userspec", "groups"])?;
            rest.get(1..).map(<[Arg]>::to_vec) // skip NEWROOT
        }
        "flock" => {
            let rest = after_options(args, "wEc", &["timeout", "conflict-exit-code", "command"])?;
            rest.get(1..).map(<[Arg]>::to_vec) // skip the lock file
        }
        "command" => {
            let scanned = scan(args, &spec("", &[], true));
            if scanned.has("-v") || scanned.has("-V") {
                return None; // a lookup, nothing runs
            }
            args.get(scanned.rest..).map(<[Arg]>::to_vec)
        }
        "exec" => after_options(args, "a", &[]),
        "builtin" | "doas-nopass" => Some(args.to_vec()),
        "busybox" | "toybox" => {
            let first = args.first()?;
            if first.text.starts_with('-') {
                return None;
            }
            Some(args.to_vec())
        }
        "env" => env(args),
        "xargs" => xargs(args),
        "find" => return find_exec(args),
        "strace" | "ltrace" => after_options(args, "oepsEIuabXPU", &["output", "trace", "signal"]),
        "watch" => None, // runs its argv through `sh -c`: handled as an interpreter
        _ => None,
    }?;
    if inner.is_empty() {
        return None;
    }
    Some(vec![inner])
}

/// `sudo -e` / `sudo --edit` (alone or combined, e.g. `-eu root`).
pub fn is_sudo_edit(args: &[Arg]) -> bool {
    let scanned = scan(args, &spec(SUDO_VALUE_FLAGS, &[], true));
    scanned.has("-e") || scanned.has("--edit")
}

/// sudo's short options that take a value.
const SUDO_VALUE_FLAGS: &str = "ugphCDrtUTR";

fn spec(short: &'static str, long: &'static [&'static str], stop: bool) -> OptionSpec {
    OptionSpec {
        short_with_value: short,
        long_with_value: long,
        stop_at_operand: stop,
    }
}

/// The words after the wrapper's own options.
fn after_options(
    args: &[Arg],
    short: &'static str,
    long: &'static [&'static str],
) -> Option<Vec<Arg>> {
    let scanned = scan(args, &spec(short, long, true));
    args.get(scanned.rest..).map(<[Arg]>::to_vec)
}

/// `nice -n 10 cmd`, `nice -10 cmd`, `nice --adjustment=5 cmd`.
fn nice(args: &[Arg]) -> Option<Vec<Arg>> {
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let t = arg.text.as_str();
        if t == "-n" || t == "--adjustment" {
            i += 2;
        } else if t == "--" {
            i += 1;
            break;
        } else if t.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    args.get(i..).map(<[Arg]>::to_vec)
}

/// `env [-i] [-u NAME] [-C DIR] [-S STRING] [NAME=VALUE]... [cmd args...]`.
fn env(args: &[Arg]) -> Option<Vec<Arg>> {
    let mut i = 0;
    let mut split_string: Option<Vec<Arg>> = None;
    while let Some(arg) = args.get(i) {
        let t = arg.text.as_str();
        match t {
            "-u" | "--unset" | "-C" | "--chdir" => i += 2,
            "-S" | "--split-string" => {
                split_string = args.get(i + 1).map(|a| split_words(&a.text));
                i += 2;
                break;
            }
            "--" => {
                i += 1;
                break;
            }
            _ if t.starts_with("--split-string=") || (t.starts_with("-S") && t.len() > 2) => {
                let value = t
                    .strip_prefix("--split-string=")
                    .or_else(|| t.strip_prefix("-S"))
                    .unwrap_or("");
                split_string = Some(split_words(value));
                i += 1;
                break;
            }
            _ if t.starts_with('-') => i += 1,
            _ if is_assignment(t) => i += 1,
            _ => break,
        }
    }
    let mut inner = split_string.unwrap_or_default();
    while let Some(arg) = args.get(i) {
        // Assignments may follow -S too.
        if inner.is_empty() && is_assignment(&arg.text) {
            i += 1;
            continue;
        }
        break;
    }
    inner.extend(args.get(i..).unwrap_or(&[]).iter().cloned());
    Some(inner)
}

/// `NAME=value` as `env` understands it.
pub fn is_assignment(text: &str) -> bool {
    match text.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

fn split_words(text: &str) -> Vec<Arg> {
    text.split_whitespace().map(Arg::plain).collect()
}

/// `xargs [opts] cmd args...`: the command runs with extra arguments read
/// from stdin, which we cannot see; the listed ones are what we know.
fn xargs(args: &[Arg]) -> Option<Vec<Arg>> {
    let inner = after_options(
        args,
        "aEIiLlnPsd",
        &[
            "arg-file",
            "delimiter",
            "eof",
            "replace",
            "max-lines",
            "max-args",
            "max-procs",
            "max-chars",
            "process-slot-var",
        ],
    )?;
    if inner.is_empty() {
        // Bare `xargs` runs `echo`.
        return Some(vec![Arg::plain("echo")]);
    }
    Some(inner)
}

/// Commands run by `find ... -exec CMD {} ;` (also -execdir/-ok/-okdir).
fn find_exec(args: &[Arg]) -> Option<Vec<Vec<Arg>>> {
    let mut commands = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if matches!(arg.text.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
            let mut inner = Vec::new();
            i += 1;
            while let Some(word) = args.get(i) {
                if word.text == ";" || word.text == "+" {
                    break;
                }
                inner.push(word.clone());
                i += 1;
            }
            if !inner.is_empty() {
                commands.push(inner);
            }
        }
        i += 1;
    }
    if commands.is_empty() {
        None
    } else {
        Some(commands)
    }
}

/// The starting points of `find` (operands before the first expression).
pub fn find_roots(args: &[Arg]) -> Vec<String> {
    let mut roots = Vec::new();
    for arg in args {
        let t = arg.text.as_str();
        if roots.is_empty() && matches!(t, "-H" | "-L" | "-P") {
            continue;
        }
        if t.starts_with('-') || t.starts_with('(') || t.starts_with('!') {
            break;
        }
        roots.push(arg.text.clone());
    }
    if roots.is_empty() {
        roots.push(".".to_string());
    }
    roots
}

/// The paths `{}` stands for in the first command `find` runs, when that
/// command sees find's starting points themselves: nothing but global
/// options (`-depth`, `-xdev`, `-maxdepth N`...) comes between the starting
/// points and the action. A test (`-name`, `-type f`...) could filter the
/// starting points out, so then nothing is claimed (`{}` stays unresolved).
pub fn find_unfiltered_roots(args: &[Arg]) -> Vec<String> {
    let roots = find_roots(args);
    let mut rest = args
        .iter()
        .map(|a| a.text.as_str())
        .skip_while(|t| matches!(*t, "-H" | "-L" | "-P"))
        .skip_while(|t| !(t.starts_with('-') || t.starts_with('(') || t.starts_with('!')));
    while let Some(t) = rest.next() {
        match t {
            "-exec" | "-execdir" | "-ok" | "-okdir" => return roots,
            "-depth"
            | "-d"
            | "-xdev"
            | "-mount"
            | "-follow"
            | "-noleaf"
            | "-ignore_readdir_race" => {}
            "-maxdepth" => {
                rest.next();
            }
            _ => return Vec::new(),
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Arg> {
        words.iter().map(|w| Arg::plain(*w)).collect()
    }

    fn texts(cmds: Option<Vec<Vec<Arg>>>) -> Vec<Vec<String>> {
        cmds.unwrap_or_default()
            .into_iter()
            .map(|c| c.into_iter().map(|a| a.text).collect())
            .collect()
    }

    #[test]
    fn sudo_skips_options_with_values() {
        let got = texts(unwrap(
            "sudo",
            &args(&["-u", "root", "-E", "rm", "-rf", "/"]),
        ));
        assert_eq!(got, vec![vec!["rm", "-rf", "/"]]);
    }

    #[test]
    fn env_skips_assignments_and_unsets() {
        let got = texts(unwrap(
            "env",
            &args(&["-i", "-u", "HOME", "A=1", "rm", "x"]),
        ));
        assert_eq!(got, vec![vec!["rm", "x"]]);
        assert!(unwrap("env", &args(&["A=1"])).is_none());
    }

    #[test]
    fn find_exec_collects_each_command() {
        let got = texts(unwrap(
            "find",
            &args(&[
                ".", "-name", "*.o", "-exec", "rm", "{}", ";", "-execdir", "chmod", "x", "{}", "+",
            ]),
        ));
        assert_eq!(got, vec![vec!["rm", "{}"], vec!["chmod", "x", "{}"]]);
    }

    #[test]
    fn command_v_runs_nothing() {
        assert!(unwrap("command", &args(&["-v", "rm"])).is_none());
    }
}
