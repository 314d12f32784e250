//! Files a well-known program reads, writes or deletes, from its operands.
//! Only programs whose operands *are* files are listed: `echo .env` touches
//! nothing, `cat .env` reads it.

use crate::options::{OptionSpec, scan};
use crate::types::AccessKind;
use crate::word::Arg;
use crate::wrappers::find_roots;

/// (path, kind) pairs for `program args...`.
pub fn accesses(program: &str, args: &[Arg]) -> Vec<(String, AccessKind)> {
    use AccessKind::{Delete, Read, Write};
    let mut out = Vec::new();
    let all = |ops: &[&Arg], kind: AccessKind, out: &mut Vec<(String, AccessKind)>| {
        out.extend(ops.iter().map(|a| (a.text.clone(), kind)));
    };
    match program {
        "cat" | "tac" | "nl" | "less" | "more" | "most" | "bat" | "batcat" | "strings" | "xxd"
        | "od" | "hexdump" | "hd" | "base64" | "base32" | "diff" | "cmp" | "wc" | "zcat"
        | "zless" | "bzcat" | "xzcat" | "md5sum" | "sha1sum" | "sha256sum" | "sha512sum"
        | "cksum" | "file" | "uniq" | "sort" | "source" | "." | "view" | "column" | "fold"
        | "rev" | "expand" | "paste" | "comm" | "iconv" | "gpg" => {
            let s = scan(args, &reader_spec(program));
            let take = if matches!(program, "source" | ".") {
                1
            } else {
                usize::MAX
            };
            let ops: Vec<&Arg> = s.operands.iter().copied().take(take).collect();
            all(&ops, Read, &mut out);
            if program == "sort" {
                for f in s.values("-o").into_iter().chain(s.values("--output")) {
                    out.push((f, Write));
                }
            }
        }
        "head" | "tail" => {
            let s = scan(
                args,
                &spec("ncs", &["lines", "bytes", "pid", "sleep-interval"]),
            );
            all(&s.operands, Read, &mut out);
        }
        "grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" | "zgrep" => {
            let s = scan(
                args,
                &spec(
                    "efmABCdDgt",
                    &["regexp", "file", "max-count", "context", "glob", "type"],
                ),
            );
            let explicit_pattern =
                s.has("-e") || s.has("-f") || s.has("--regexp") || s.has("--file");
            let skip = usize::from(!explicit_pattern);
            all(s.operands.get(skip..).unwrap_or(&[]), Read, &mut out);
            for f in s.values("-f").into_iter().chain(s.values("--file")) {
                out.push((f, Read));
            }
        }
        "jq" | "yq" => {
            let s = scan(
                args,
                &spec(
                    "f",
                    &[
                        "arg",
                        "argjson",
                        "slurpfile",
                        "rawfile",
                        "from-file",
                        "indent",
                    ],
                ),
            );
            let skip = usize::from(!s.has("-f") && !s.has("--from-file"));
            all(s.operands.get(skip..).unwrap_or(&[]), Read, &mut out);
        }
        "awk" | "gawk" | "mawk" | "nawk" => {
            let s = scan(args, &spec("fvF", &[]));
            let skip = usize::from(!s.has("-f"));
            let ops: Vec<&Arg> = s
                .operands
                .get(skip..)
                .unwrap_or(&[])
                .iter()
                .copied()
                .filter(|a| !a.text.contains('='))
                .collect();
            all(&ops, Read, &mut out);
        }
        "sed" => {
            let s = scan(args, &spec("efl", &["expression", "file", "line-length"]));
            let skip = usize::from(
                !(s.has("-e") || s.has("-f") || s.has("--expression") || s.has("--file")),
            );
            let ops = s.operands.get(skip..).unwrap_or(&[]).to_vec();
            let in_place = s.has("-i") || s.has("--in-place");
            all(&ops, Read, &mut out);
            if in_place {
                all(&ops, Write, &mut out);
            }
        }
        "cp" | "install" | "scp" | "rsync" | "mv" => {
            let s = scan(
                args,
                &spec(
                    "tSoegmbe",
                    &[
                        "target-directory",
                        "suffix",
                        "owner",
                        "group",
                        "mode",
                        "rsh",
                        "exclude",
                        "include",
                        "filter",
                    ],
                ),
            );
            let target = s
                .values("-t")
                .into_iter()
                .chain(s.values("--target-directory"))
                .next();
            let (sources, dest): (Vec<&Arg>, Option<String>) = match target {
                Some(t) => (s.operands.clone(), Some(t)),
                None => match s.operands.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        (rest.to_vec(), Some(last.text.clone()))
                    }
                    _ => (s.operands.clone(), None),
                },
            };
            all(&sources, Read, &mut out);
            if program == "mv" {
                all(&sources, Delete, &mut out);
            }
            if let Some(dest) = dest {
                out.push((dest, Write));
            }
        }
        "ln" => {
            let s = scan(args, &spec("tS", &["target-directory", "suffix"]));
            if let Some((last, rest)) = s.operands.split_last() {
                if rest.is_empty() {
                    out.push((last.text.clone(), Read));
                } else {
                    all(rest, Read, &mut out);
                    out.push((last.text.clone(), Write));
                }
            }
        }
        "tee" => all(&scan(args, &spec("", &[])).operands, Write, &mut out),
        "rm" | "rmdir" | "unlink" | "shred" | "srm" => {
            all(
                &scan(args, &spec("ns", &["iterations", "size", "random-source"])).operands,
                Delete,
                &mut out,
            );
        }
        "truncate" => all(
            &scan(args, &spec("sr", &["size", "reference"])).operands,
            Write,
            &mut out,
        ),
        "touch" => all(
            &scan(args, &spec("drt", &["date", "reference"])).operands,
            Write,
            &mut out,
        ),
        "chmod" | "chown" | "chgrp" | "chattr" | "setfacl" => {
            let s = scan(args, &spec("", &["reference"]));
            let has_reference = s.inline_values.iter().any(|(n, _)| n == "--reference");
            let skip = usize::from(!has_reference);
            // `chmod -x f` parses `-x` as an option; it is the mode.
            all(s.operands.get(skip..).unwrap_or(&[]), Write, &mut out);
        }
        "sudo" | "sudoedit" if program == "sudoedit" || crate::wrappers::is_sudo_edit(args) => {
            let s = scan(
                args,
                &spec("ugphCDrtUTR", &["user", "group", "host", "prompt"]),
            );
            all(&s.operands, Read, &mut out);
            all(&s.operands, Write, &mut out);
        }
        "vi" | "vim" | "nvim" | "nano" | "emacs" | "pico" | "ed" | "code" | "subl" | "micro"
        | "hx" => {
            let ops = scan(args, &spec("cSuiTwW", &[])).operands;
            let ops: Vec<&Arg> = ops
                .into_iter()
                .filter(|a| !a.text.starts_with('+'))
                .collect();
            all(&ops, Read, &mut out);
            all(&ops, Write, &mut out);
        }
        "dd" => {
            for a in args {
                if let Some(p) = a.text.strip_prefix("if=") {
                    out.push((p.to_string(), Read));
                } else if let Some(p) = a.text.strip_prefix("of=") {
                    out.push((p.to_string(), Write));
                }
            }
        }
        "curl" | "wget" => {
            let s = scan(
                args,
                &spec(
                    "oOdFTHXAeEuxU",
                    &[
                        "output",
                        "data",
                        "data-binary",
                        "data-raw",
                        "data-urlencode",
                        "form",
                        "upload-file",
                        "header",
                        "request",
                        "output-document",
                        "post-file",
                        "body-file",
                    ],
                ),
            );
            let write_flag = if program == "wget" { "-O" } else { "-o" };
            for f in s
                .values(write_flag)
                .into_iter()
                .chain(s.values("--output"))
                .chain(s.values("--output-document"))
            {
                if f != "-" {
                    out.push((f, Write));
                }
            }
            for f in s
                .values("-T")
                .into_iter()
                .chain(s.values("--upload-file"))
                .chain(s.values("--post-file"))
                .chain(s.values("--body-file"))
            {
                out.push((f, Read));
            }
            for v in s
                .values("-d")
                .into_iter()
                .chain(s.values("--data"))
                .chain(s.values("--data-binary"))
                .chain(s.values("-F"))
                .chain(s.values("--form"))
            {
                if let Some((_, f)) = v.split_once('@') {
                    let f = f.split(';').next().unwrap_or(f);
                    out.push((f.to_string(), Read));
                }
            }
        }
        "find" if args.iter().any(|a| a.text == "-delete") => {
            out.extend(find_roots(args).into_iter().map(|r| (r, Delete)));
        }
        _ => {}
    }
    out.retain(|(path, _)| !path.is_empty() && !is_device(path));
    out
}

fn spec(short: &'static str, long: &'static [&'static str]) -> OptionSpec {
    OptionSpec {
        short_with_value: short,
        long_with_value: long,
        stop_at_operand: false,
    }
}

fn reader_spec(program: &str) -> OptionSpec {
    match program {
        "sort" => spec(
            "koStT",
            &["key", "output", "field-separator", "buffer-size"],
        ),
        "uniq" => spec("fsw", &[]),
        "diff" => spec("CUIxX", &["label", "exclude", "ignore-matching-lines"]),
        "xxd" | "od" => spec("cglosnA", &[]),
        "column" => spec("stco", &[]),
        "fold" => spec("w", &[]),
        "iconv" => spec("fto", &["from-code", "to-code", "output"]),
        "gpg" => spec("orus", &["output", "recipient", "local-user"]),
        _ => spec("", &[]),
    }
}

/// Pseudo-files that are not worth reporting (`> /dev/null`, `2>&1` targets).
pub fn is_device(path: &str) -> bool {
    matches!(
        path,
        "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/stdin" | "/dev/tty" | "-"
    ) || path.starts_with("/dev/fd/")
}
