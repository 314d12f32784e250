//! Redaction of secrets in tool arguments before they are stored, exported or
//! sent anywhere. Pure and idempotent: `redact(redact(v)) == redact(v)`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::Value;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Key names (lowercased, `-`/`_`/`.`/spaces removed) whose values are secret
/// when the key ends with them: `access_token`, `X-Api-Key`, `db_password`.
const SECRET_KEY_SUFFIXES: [&str; 12] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "privatekey",
    "accesskey",
    "secretkey",
    "credentials",
];

/// Secret-looking text inside any string value, including command lines.
/// One alternation, so it is compiled once and scanned in one pass; the group
/// that matched decides what is kept around the `[REDACTED]`. ASCII-only word
/// boundaries and classes where Unicode adds nothing: they keep compilation,
/// paid once per hook process that sees a candidate, under a millisecond.
static SECRET_VALUES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        // PEM private key blocks, also when the END line was cut off.
        r"(?P<pem>-----BEGIN[A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z ]*PRIVATE KEY-----|\z))",
        // `Authorization: Bearer x`, `Bearer x`: keep the scheme word.
        r"|(?P<bearer_kw>(?i-u:\bbearer[ \t]+))(?P<bearer>[A-Za-z0-9\-._~+/]{8,}=*)",
        // JSON Web Tokens.
        r"|(?P<jwt>(?-u:\b)eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+)",
        // AWS access key ids.
        r"|(?P<aws>(?-u:\b)(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}(?-u:\b))",
        // GitHub tokens (classic and fine-grained).
        r"|(?P<github>(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}))",
        // Slack tokens and incoming-webhook URLs.
        r"|(?P<slack>(?-u:\b)xox[abposre]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+)",
        // OpenAI/Anthropic/Stripe-style secret keys, Google API keys.
        r"|(?P<apikey>(?-u:\b)(?:sk-(?:ant-)?[A-Za-z0-9_-]{20,}|[sr]k_live_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35})(?-u:\b))",
        // `password=x`, `API_KEY: x`, `--token x` inside free text: keep the name.
        r"|(?P<kv_name>(?i-u:\b[a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)(?:[\x22']?[ \t]*[=:][ \t]*[\x22']?|[ \t]+)))(?P<kv>[^\x00-\x20\x22'&;|]{4,})",
    ))
    .ok()
});

/// Fixed strings at least one of which every alternative of [`SECRET_VALUES`]
/// must contain (ASCII case-insensitively). Text containing none of them
/// cannot hold a secret the pattern would find, so the regex, and its
/// compilation (about a millisecond, most of a hook's budget), is skipped.
/// Keep in step with the pattern: a test checks every case hits a trigger.
const TRIGGERS: [&str; 38] = [
    "private key",
    "bearer",
    "eyj",
    "akia",
    "asia",
    "agpa",
    "aida",
    "aroa",
    "aipa",
    "anpa",
    "anva",
    "abia",
    "acca",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xox",
    "hooks.slack.com/services/",
    "sk-",
    "sk_live_",
    "rk_live_",
    "aiza",
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "accesskey",
    "private_key",
    "private-key",
    "privatekey",
];

/// Whether `s` contains any of [`TRIGGERS`], ignoring ASCII case. A plain
/// scan: about a microsecond for a typical command, with nothing to build
/// first (an Aho-Corasick automaton costs more to build than it saves here).
fn has_trigger(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    TRIGGERS.iter().any(|t| lower.contains(t))
}

/// `value` with secrets replaced by [`REDACTED`]: every value under a secret
/// key name, and every secret-looking substring of every string.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(redact_str(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !is_blank(v) {
                        Value::String(REDACTED.to_owned())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
    }
}

/// `s` with secret-looking substrings replaced by [`REDACTED`]. Borrows when
/// there is nothing to redact, which is the common case.
pub fn redact_str(s: &str) -> Cow<'_, str> {
    // Every pattern needs at least 8 characters; most hook inputs that short
    // (`ls`, `git status`) skip the regex, and its compilation, entirely.
    if s.len() < 8 {
        return Cow::Borrowed(s);
    }
    if !has_trigger(s) {
        return Cow::Borrowed(s);
    }
    let Some(re) = SECRET_VALUES.as_ref() else {
        // The pattern is a constant covered by tests; if it ever failed to
        // compile, hide the whole string rather than leak it.
        return Cow::Owned(REDACTED.to_owned());
    };
    re.replace_all(s, |caps: &Captures<'_>| {
        if let Some(kw) = caps.name("bearer_kw") {
            format!("{}{REDACTED}", kw.as_str())
        } else if let Some(name) = caps.name("kv_name") {
            let value = caps.name("kv").map(|m| m.as_str()).unwrap_or_default();
            if value == REDACTED || value.starts_with("[REDACTED") {
                format!("{}{value}", name.as_str())
            } else {
                format!("{}{REDACTED}", name.as_str())
            }
        } else {
            REDACTED.to_owned()
        }
    })
}

fn is_secret_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEY_SUFFIXES.iter().any(|s| norm.ends_with(s))
        || norm.contains("password")
        || norm.contains("secret")
        || norm.contains("privatekey")
        || norm.contains("apikey")
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == REDACTED,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_redacted_at_any_depth() {
        let v = json!({
            "password": "hunter2",
            "nested": {"X-Api-Key": "k", "githubToken": "t", "cookie": "c=1", "Authorization": "Basic Zm9v"},
            "list": [{"client_secret": {"a": 1}}, {"private_key": "p"}],
            "db_password": 1234,
            "empty_token": "",
            "max_tokens": 1000,
            "tokenizer": "bpe",
            "path": "/etc/passwd-not-a-key"
        });
        let r = redact(&v);
        assert_eq!(r["password"], json!(REDACTED));
        assert_eq!(r["nested"]["X-Api-Key"], json!(REDACTED));
        assert_eq!(r["nested"]["githubToken"], json!(REDACTED));
        assert_eq!(r["nested"]["cookie"], json!(REDACTED));
        assert_eq!(r["nested"]["Authorization"], json!(REDACTED));
        assert_eq!(r["list"][0]["client_secret"], json!(REDACTED));
        assert_eq!(r["list"][1]["private_key"], json!(REDACTED));
        assert_eq!(r["db_password"], json!(REDACTED));
        assert_eq!(r["empty_token"], json!(""));
        assert_eq!(r["max_tokens"], json!(1000));
        assert_eq!(r["tokenizer"], json!("bpe"));
        assert_eq!(r["path"], json!("/etc/passwd-not-a-key"));
    }

    /// (input, expected) pairs: secret-looking values inside free text.
    const VALUE_CASES: &[(&str, &str)] = &[
        ("aws s3 ls # AKIAIOSFODNN7EXAMPLE", "aws s3 ls # [REDACTED]"),
        (
            "git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x",
            "git clone https://[REDACTED]@github.com/x",
        ),
        (
            "GH=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz make",
            "GH=[REDACTED] make",
        ),
        (
            "curl -d token=xoxb-123456789012-abcdefghij",
            "curl -d token=[REDACTED]",
        ),
        (
            "post xoxp-1234-5678-abcdefghijkl now",
            "post [REDACTED] now",
        ),
        (
            "curl https://hooks.slack.com/services/T000/B000/XXXXXXXX",
            "curl [REDACTED]",
        ),
        (
            "curl -H 'Authorization: Bearer abc.def-ghi_jkl' api",
            "curl -H 'Authorization: Bearer [REDACTED]' api",
        ),
        (
            "echo eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "echo [REDACTED]",
        ),
        (
            "printf '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA\n-----END OPENSSH PRIVATE KEY-----\n' > k",
            "printf '[REDACTED]\n' > k",
        ),
        (
            "cat <<EOF\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow",
            "cat <<EOF\n[REDACTED]",
        ),
        (
            "export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuv",
            "export OPENAI_API_KEY=[REDACTED]",
        ),
        (
            "llm --key sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "llm --key [REDACTED]",
        ),
        (
            "mysql --password=s3cr3tpw db",
            "mysql --password=[REDACTED] db",
        ),
        (
            "gh auth login --with-token abcd1234efgh",
            "gh auth login --with-token [REDACTED]",
        ),
        ("ls -la /tmp", "ls -la /tmp"),
        (
            "git commit -m 'rotate tokens'",
            "git commit -m 'rotate tokens'",
        ),
        (
            "cargo test -p gatehouse-core",
            "cargo test -p gatehouse-core",
        ),
    ];

    #[test]
    fn secret_values_in_text_are_redacted() {
        for (input, expected) in VALUE_CASES {
            assert_eq!(redact_str(input), *expected, "input: {input:?}");
        }
    }

    #[test]
    fn redaction_is_idempotent() {
        for (input, _) in VALUE_CASES {
            let once = redact_str(input).into_owned();
            assert_eq!(redact_str(&once), once, "input: {input:?}");
        }
        let v = json!({"token": "x", "cmd": "Bearer abcdefghijk"});
        assert_eq!(redact(&redact(&v)), redact(&v));
    }

    #[test]
    fn short_and_plain_strings_are_borrowed() {
        assert!(matches!(redact_str("ls"), Cow::Borrowed(_)));
        assert!(matches!(redact_str("git status --short"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_pattern_compiles() {
        assert!(SECRET_VALUES.is_some());
    }

    /// Every secret the pattern finds must also hit a trigger, or the
    /// prefilter would let it through unredacted.
    #[test]
    fn every_redacted_case_hits_a_trigger() {
        for (input, expected) in VALUE_CASES {
            if input != expected {
                assert!(has_trigger(input), "no trigger for {input:?}");
            }
        }
    }
}
