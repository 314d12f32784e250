//! A small getopt-style scanner shared by the wrapper and file-operand tables.

use crate::word::Arg;

/// Which options of a program take a value, so the value is not mistaken for
/// the wrapped command or for a file operand.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionSpec {
    /// Short options taking a value (`-u user`, `-uuser`).
    pub short_with_value: &'static str,
    /// Long options taking a value as the next word (`--user root`); the
    /// `--user=root` form is always understood.
    pub long_with_value: &'static [&'static str],
    /// Stop at the first operand (wrappers) rather than collecting all
    /// operands (readers such as `cat a -n b`).
    pub stop_at_operand: bool,
}

/// The result of scanning an argument list.
#[derive(Debug, Default)]
pub struct Scanned<'a> {
    /// Options seen, as (name, value) with the leading dashes kept
    /// (`-u`, `--user`); combined short flags are split (`-lc` -> `-l`, `-c`).
    pub options: Vec<(String, Option<&'a Arg>)>,
    /// Inline values of combined options such as `-uroot` or `--user=root`.
    pub inline_values: Vec<(String, String)>,
    /// Operands (non-option words) in order.
    pub operands: Vec<&'a Arg>,
    /// Index of the first word not consumed when `stop_at_operand` is set.
    pub rest: usize,
}

impl Scanned<'_> {
    /// Was option `name` (e.g. `-c` or `--command`) given?
    pub fn has(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
            || self.inline_values.iter().any(|(n, _)| n == name)
    }

    /// Values of option `name`, from either `-x v`, `-xv` or `--name=v`.
    pub fn values(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .options
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.map(|a| a.text.clone()))
            .collect();
        out.extend(
            self.inline_values
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
        );
        out
    }
}

/// Scan `args` according to `spec`.
pub fn scan<'a>(args: &'a [Arg], spec: &OptionSpec) -> Scanned<'a> {
    let mut out = Scanned::default();
    let mut i = 0;
    let mut only_operands = false;
    while let Some(arg) = args.get(i) {
        let text = arg.text.as_str();
        if only_operands || text == "-" || !text.starts_with('-') {
            if spec.stop_at_operand {
                out.rest = i;
                return out;
            }
            out.operands.push(arg);
            i += 1;
            continue;
        }
        if text == "--" {
            only_operands = true;
            i += 1;
            if spec.stop_at_operand {
                out.rest = i;
                return out;
            }
            continue;
        }
        if let Some(long) = text.strip_prefix("--") {
            if let Some((name, value)) = long.split_once('=') {
                out.inline_values
                    .push((format!("--{name}"), value.to_string()));
            } else if spec.long_with_value.contains(&long) {
                out.options.push((text.to_string(), args.get(i + 1)));
                i += 1;
            } else {
                out.options.push((text.to_string(), None));
            }
            i += 1;
            continue;
        }
        // Combined short flags: `-lc`, `-uroot`, `-n10`.
        let flags = text.get(1..).unwrap_or("");
        for (pos, flag) in flags.char_indices() {
            let name = format!("-{flag}");
            if spec.short_with_value.contains(flag) {
                let attached = flags.get(pos + flag.len_utf8()..).unwrap_or("");
                if attached.is_empty() {
                    out.options.push((name, args.get(i + 1)));
                    i += 1;
                } else {
                    out.inline_values.push((name, attached.to_string()));
                }
                break;
            }
            out.options.push((name, None));
        }
        i += 1;
    }
    out.rest = args.len();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Arg> {
        words.iter().map(|w| Arg::plain(*w)).collect()
    }

    #[test]
    fn stops_at_first_operand_and_consumes_values() {
        let a = args(&["-u", "root", "-E", "rm", "-rf", "/"]);
        let spec = OptionSpec {
            short_with_value: "ug",
            stop_at_operand: true,
            ..OptionSpec::default()
        };
        let s = scan(&a, &spec);
        assert_eq!(s.rest, 3);
        assert_eq!(s.values("-u"), vec!["root".to_string()]);
        assert!(s.has("-E"));
    }

    #[test]
    fn splits_combined_flags_and_attached_values() {
        let a = args(&["-lc", "echo hi", "-uroot", "--user=x", "f"]);
        let spec = OptionSpec {
            short_with_value: "cu",
            ..OptionSpec::default()
        };
        let s = scan(&a, &spec);
        assert!(s.has("-l"));
        assert_eq!(s.values("-c"), vec!["echo hi".to_string()]);
        assert_eq!(s.values("-u"), vec!["root".to_string()]);
        assert_eq!(s.values("--user"), vec!["x".to_string()]);
        assert_eq!(s.operands.len(), 1);
    }
}
