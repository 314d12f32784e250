//! `args:` predicates: typed conditions on fields of a call's input.
//!
//! Field paths are either JSON pointers (`/to/0`) or dotted (`customer.tier`).
//! A predicate is a mapping of operators (all must hold) or a bare scalar
//! (shorthand for `eq`). A missing field fails every operator except
//! `exists: false`; a value of the wrong type is an evaluation error, which
//! the evaluator resolves to the rule's safe side.

use serde_json::Value as Json;

use crate::ast::{ArgOp, ArgPredicate};
use crate::diag::Diagnostics;
use crate::node::{Node, Value, key_text};
use crate::parse::describe;

/// The operators `args:` understands.
pub const OPS: &[&str] = &[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "glob",
    "regex",
    "contains",
    "exists",
    "domain",
    "not_domain",
];

/// Why a predicate could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

/// Parse the `args:` mapping.
pub fn parse_args(node: &Node, diags: &mut Diagnostics) -> Vec<ArgPredicate> {
    let Value::Map(entries) = &node.value else {
        diags.error(
            node.pos,
            format!(
                "`args:` must map field paths to predicates, found {}",
                node.value.kind()
            ),
        );
        return Vec::new();
    };
    let mut preds = Vec::new();
    for (k, v) in entries.iter() {
        let field = key_text(k);
        let segments = split_path(&field);
        let mut ops = Vec::new();
        match &v.value {
            Value::Map(op_entries) => {
                if op_entries.is_empty() {
                    diags.error(v.pos, format!("predicate for `{field}` has no operator; use one of {}", OPS.join(", ")));
                }
                for (ok, ov) in op_entries.iter() {
                    if let Some(op) = parse_op(&key_text(ok), ok, ov, diags) {
                        ops.push(op);
                    }
                }
            }
            Value::Seq(_) => diags.error(
                v.pos,
                format!("predicate for `{field}` is a list; write `{{in: [...]}}` to match any of several values"),
            ),
            _ => ops.push(ArgOp::Eq(v.to_json())),
        }
        preds.push(ArgPredicate {
            field,
            segments,
            pos: k.pos,
            ops,
        });
    }
    preds
}

fn split_path(field: &str) -> Vec<String> {
    if let Some(pointer) = field.strip_prefix('/') {
        pointer
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    } else {
        field.split('.').map(str::to_owned).collect()
    }
}

fn number(node: &Node, op: &str, diags: &mut Diagnostics) -> Option<f64> {
    match node.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => {
            diags.error(
                node.pos,
                format!("`{op}:` needs a number, found {}", describe(node)),
            );
            None
        }
    }
}

fn list(node: &Node) -> Vec<Json> {
    match node.to_json() {
        Json::Array(items) => items,
        one => vec![one],
    }
}

fn strings(node: &Node, op: &str, diags: &mut Diagnostics) -> Vec<String> {
    let out: Vec<String> = list(node)
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if out.is_empty() {
        diags.error(
            node.pos,
            format!("`{op}:` needs a string or a list of strings"),
        );
    }
    out
}

fn parse_op(op: &str, key: &Node, v: &Node, diags: &mut Diagnostics) -> Option<ArgOp> {
    Some(match op {
        "eq" => ArgOp::Eq(v.to_json()),
        "ne" => ArgOp::Ne(v.to_json()),
        "gt" => ArgOp::Gt(number(v, op, diags)?),
        "gte" => ArgOp::Gte(number(v, op, diags)?),
        "lt" => ArgOp::Lt(number(v, op, diags)?),
        "lte" => ArgOp::Lte(number(v, op, diags)?),
        "in" => ArgOp::In(list(v)),
        "not_in" => ArgOp::NotIn(list(v)),
        "contains" => ArgOp::Contains(v.to_json()),
        "exists" => match v.value {
            Value::Bool(b) => ArgOp::Exists(b),
            _ => {
                diags.error(
                    v.pos,
                    format!("`exists:` needs true or false, found {}", describe(v)),
                );
                return None;
            }
        },
        "glob" => {
            let mut builder = globset::GlobSetBuilder::new();
            for g in strings(v, op, diags) {
                match globset::Glob::new(&g) {
                    Ok(glob) => {
                        builder.add(glob);
                    }
                    Err(e) => diags.error(v.pos, format!("invalid glob `{g}`: {e}")),
                }
            }
            match builder.build() {
                Ok(set) => ArgOp::Glob(set),
                Err(e) => {
                    diags.error(v.pos, format!("invalid glob: {e}"));
                    return None;
                }
            }
        }
        "regex" => {
            let text = v.as_str().unwrap_or_default();
            match regex::Regex::new(text) {
                Ok(re) if !text.is_empty() => ArgOp::Regex(re),
                Ok(_) => {
                    diags.error(v.pos, "`regex:` needs a non-empty pattern string");
                    return None;
                }
                Err(e) => {
                    diags.error(v.pos, format!("invalid regex: {e}"));
                    return None;
                }
            }
        }
        "domain" => ArgOp::Domain(domains(v, op, diags)),
        "not_domain" => ArgOp::NotDomain(domains(v, op, diags)),
        other => {
            let hint = crate::parse::suggest(other, OPS)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            diags.error(
                key.pos,
                format!(
                    "unknown predicate operator `{other}`; {hint}use one of {}",
                    OPS.join(", ")
                ),
            );
            return None;
        }
    })
}

fn domains(node: &Node, op: &str, diags: &mut Diagnostics) -> Vec<String> {
    strings(node, op, diags)
        .into_iter()
        .map(|d| {
            d.trim_start_matches("*.")
                .trim_start_matches('.')
                .to_ascii_lowercase()
        })
        .collect()
}

/// Look a field up in the input.
pub fn lookup<'a>(input: &'a Json, segments: &[String]) -> Option<&'a Json> {
    let mut cur = input;
    for seg in segments {
        cur = match cur {
            Json::Object(map) => map.get(seg)?,
            Json::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

impl ArgPredicate {
    /// Whether every operator holds for `input`.
    pub fn eval(&self, input: &Json) -> Result<bool, EvalError> {
        let value = lookup(input, &self.segments);
        for op in &self.ops {
            if !eval_op(op, value)
                .map_err(|e| EvalError(format!("args `{}`: {}", self.field, e.0)))?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn as_number(v: &Json) -> Result<f64, EvalError> {
    match v {
        Json::Number(n) => n
            .as_f64()
            .ok_or_else(|| EvalError("number out of range".into())),
        Json::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| EvalError(format!("expected a number, found string {s:?}"))),
        other => Err(EvalError(format!("expected a number, found {other}"))),
    }
}

/// JSON equality that treats `1` and `1.0` as equal.
fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn as_str(v: &Json) -> Result<&str, EvalError> {
    v.as_str()
        .ok_or_else(|| EvalError(format!("expected a string, found {v}")))
}

fn eval_op(op: &ArgOp, value: Option<&Json>) -> Result<bool, EvalError> {
    let Some(v) = value else {
        return Ok(matches!(op, ArgOp::Exists(false)));
    };
    Ok(match op {
        ArgOp::Exists(want) => *want,
        ArgOp::Eq(x) => json_eq(v, x),
        ArgOp::Ne(x) => !json_eq(v, x),
        ArgOp::Gt(x) => as_number(v)? > *x,
        ArgOp::Gte(x) => as_number(v)? >= *x,
        ArgOp::Lt(x) => as_number(v)? < *x,
        ArgOp::Lte(x) => as_number(v)? <= *x,
        ArgOp::In(xs) => xs.iter().any(|x| json_eq(v, x)),
        ArgOp::NotIn(xs) => !xs.iter().any(|x| json_eq(v, x)),
        ArgOp::Glob(set) => set.is_match(as_str(v)?),
        ArgOp::Regex(re) => re.is_match(as_str(v)?),
        ArgOp::Contains(x) => match (v, x) {
            (Json::String(s), Json::String(sub)) => s.contains(sub.as_str()),
            (Json::Array(items), _) => items.iter().any(|i| json_eq(i, x)),
            _ => return Err(EvalError(format!("`contains` cannot look for {x} in {v}"))),
        },
        ArgOp::Domain(allowed) => {
            let hosts = addresses(v)?;
            !hosts.is_empty() && hosts.iter().all(|h| in_domains(h, allowed))
        }
        ArgOp::NotDomain(allowed) => {
            let hosts = addresses(v)?;
            hosts.iter().any(|h| !in_domains(h, allowed))
        }
    })
}

/// The domains of an e-mail address, URL or host name (or a list / comma-separated string of them).
fn addresses(v: &Json) -> Result<Vec<String>, EvalError> {
    match v {
        Json::String(s) => Ok(s
            .split([',', ';'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(address_domain)
            .collect()),
        Json::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(addresses(i)?);
            }
            Ok(out)
        }
        other => Err(EvalError(format!("expected an address, found {other}"))),
    }
}

fn address_domain(addr: &str) -> String {
    // `Name <user@host>` -> `user@host`.
    let addr = match (addr.rfind('<'), addr.rfind('>')) {
        (Some(a), Some(b)) if a < b => addr.get(a + 1..b).unwrap_or(addr),
        _ => addr,
    };
    if addr.contains("://") {
        return crate::glob::url_host(addr).unwrap_or_default();
    }
    let host = addr.rsplit('@').next().unwrap_or(addr);
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `host` is `domain` or a subdomain of it.
pub fn in_domains(host: &str, domains: &[String]) -> bool {
    domains.iter().any(|d| {
        host == d
            || host
                .strip_suffix(d.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_yaml;
    use serde_json::json;

    fn pred(yaml: &str) -> ArgPredicate {
        let node = parse_yaml(yaml).unwrap_or_else(|e| panic!("{e:?}"));
        let mut diags = Diagnostics::default();
        let mut preds = parse_args(&node, &mut diags);
        assert!(!diags.has_errors(), "{diags:?}");
        preds.remove(0)
    }

    #[test]
    fn numeric_comparisons() {
        let p = pred("amount: {gt: 1000, lte: 10000}");
        assert_eq!(p.eval(&json!({"amount": 9500})), Ok(true));
        assert_eq!(p.eval(&json!({"amount": 1000})), Ok(false));
        assert_eq!(p.eval(&json!({"amount": 10001})), Ok(false));
        assert_eq!(p.eval(&json!({"amount": "9500"})), Ok(true));
        assert_eq!(p.eval(&json!({})), Ok(false));
        assert!(p.eval(&json!({"amount": "lots"})).is_err());
        assert!(p.eval(&json!({"amount": [1]})).is_err());
    }

    #[test]
    fn equality_membership_and_exists() {
        assert_eq!(
            pred("env: production").eval(&json!({"env": "production"})),
            Ok(true)
        );
        assert_eq!(
            pred("env: {ne: production}").eval(&json!({"env": "staging"})),
            Ok(true)
        );
        assert_eq!(pred("num: {eq: 1}").eval(&json!({"num": 1.0})), Ok(true));
        let p = pred("tier: {in: [gold, platinum]}");
        assert_eq!(p.eval(&json!({"tier": "gold"})), Ok(true));
        assert_eq!(p.eval(&json!({"tier": "free"})), Ok(false));
        assert_eq!(
            pred("tier: {not_in: [gold]}").eval(&json!({"tier": "free"})),
            Ok(true)
        );
        assert_eq!(
            pred("x: {exists: true}").eval(&json!({"x": null})),
            Ok(true)
        );
        assert_eq!(pred("x: {exists: false}").eval(&json!({})), Ok(true));
    }

    #[test]
    fn nested_paths_dotted_and_pointer() {
        let input = json!({"customer": {"tier": "gold"}, "to": ["a@x.com"]});
        assert_eq!(pred("customer.tier: gold").eval(&input), Ok(true));
        assert_eq!(pred("/to/0: {glob: \"*@x.com\"}").eval(&input), Ok(true));
        assert_eq!(pred("/to/1: {exists: true}").eval(&input), Ok(false));
    }

    #[test]
    fn strings_glob_regex_contains() {
        assert_eq!(
            pred("q: {regex: \"^DROP\\\\s\"}").eval(&json!({"q": "DROP TABLE x"})),
            Ok(true)
        );
        assert_eq!(
            pred("q: {contains: TABLE}").eval(&json!({"q": "DROP TABLE x"})),
            Ok(true)
        );
        assert_eq!(
            pred("tags: {contains: prod}").eval(&json!({"tags": ["dev", "prod"]})),
            Ok(true)
        );
        assert_eq!(
            pred("f: {glob: [\"*.pem\", \"*.key\"]}").eval(&json!({"f": "a/b.key"})),
            Ok(true)
        );
        assert!(pred("q: {regex: x}").eval(&json!({"q": 5})).is_err());
    }

    #[test]
    fn domains_of_emails_and_urls() {
        let outside = pred("to: {not_domain: [example.com]}");
        assert_eq!(outside.eval(&json!({"to": "bob@example.com"})), Ok(false));
        assert_eq!(
            outside.eval(&json!({"to": "bob@mail.example.com"})),
            Ok(false)
        );
        assert_eq!(
            outside.eval(&json!({"to": "bob@evil-example.com"})),
            Ok(true)
        );
        assert_eq!(
            outside.eval(&json!({"to": ["a@example.com", "Eve <e@evil.io>"]})),
            Ok(true)
        );
        let inside = pred("url: {domain: example.com}");
        assert_eq!(
            inside.eval(&json!({"url": "https://api.example.com:8443/x"})),
            Ok(true)
        );
        assert_eq!(
            inside.eval(&json!({"url": "https://example.com.evil.io/"})),
            Ok(false)
        );
    }

    #[test]
    fn bad_operators_are_load_errors() {
        let node =
            parse_yaml("amount: {gtt: 5}\nx: {regex: \"(\"}\n").unwrap_or_else(|e| panic!("{e:?}"));
        let mut diags = Diagnostics::default();
        parse_args(&node, &mut diags);
        let errs = diags.errors();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].message.contains("did you mean `gt`"),
            "{}",
            errs[0].message
        );
    }
}
