//! Mapping helpers shared by the connectors: directory searches as reads of
//! everything below, patch texts as the files they touch, URLs in prose.

use gatehouse_core::{ToolCall, ToolClass};
use serde_json::{Map, Value};

/// A string field of a tool's input, if present and a string.
pub fn str_field<'a>(input: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| input.get(*k).and_then(Value::as_str))
}

/// Joins a directory and a relative pattern with exactly one `/`.
pub fn join(dir: &str, rest: &str) -> String {
    if rest.starts_with('/') {
        return rest.to_owned();
    }
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        format!("/{rest}")
    } else {
        format!("{dir}/{rest}")
    }
}

/// The paths a directory search (grep, glob) reads, without touching the disk:
/// everything below the directory (`<dir>/**`), plus `<dir>/<pattern>` when a
/// file pattern narrows it. Protected-path rules such as `~/.ssh/**` then see
/// a search over `~/.ssh` as a read of the files in it.
pub fn search_paths(
    dir: Option<&str>,
    cwd: Option<&str>,
    file_pattern: Option<&str>,
) -> Vec<String> {
    let base = dir
        .filter(|d| !d.is_empty())
        .map(|d| match cwd {
            Some(c) if !d.starts_with('/') && !d.starts_with('~') => join(c, d),
            _ => d.to_owned(),
        })
        .or_else(|| cwd.map(str::to_owned))
        .unwrap_or_else(|| ".".to_owned());
    let mut paths = vec![join(&base, "**")];
    if let Some(p) = file_pattern.filter(|p| !p.is_empty()) {
        let narrowed = join(&base, p);
        if !paths.contains(&narrowed) {
            paths.push(narrowed);
        }
    }
    paths
}

/// A call whose class is known, with conventional fields extracted and, for
/// searches, the searched directory widened by [`search_paths`].
pub fn call_with_search(
    tool: &str,
    class: ToolClass,
    input: Map<String, Value>,
    dir_keys: &[&str],
    pattern_keys: &[&str],
    cwd: Option<&str>,
) -> ToolCall {
    let dir = str_field(&input, dir_keys).map(str::to_owned);
    let pattern = str_field(&input, pattern_keys).map(str::to_owned);
    let mut call = ToolCall::new(tool, class, Value::Object(input));
    call.paths = search_paths(dir.as_deref(), cwd, pattern.as_deref());
    call
}

/// The files an `apply_patch` envelope (Codex's edit format) adds, updates,
/// deletes or moves to.
pub fn patch_paths(patch: &str) -> Vec<String> {
    const MARKERS: [&str; 4] = [
        "*** Add File: ",
        "*** Update File: ",
        "*** Delete File: ",
        "*** Move to: ",
    ];
    let mut out: Vec<String> = Vec::new();
    for line in patch.lines() {
        let line = line.trim_start();
        for m in MARKERS {
            if let Some(p) = line.strip_prefix(m) {
                let p = p.trim().to_owned();
                if !p.is_empty() && !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// `http://` and `https://` URLs in free text (Gemini's `web_fetch` takes a
/// prompt that contains them).
pub fn urls_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || "<>\"'()[]{}`".contains(c)) {
        if let Some(start) = word.find("http://").or_else(|| word.find("https://")) {
            let url = word[start..].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if url.len() > "https://".len() && !out.iter().any(|u| u == url) {
                out.push(url.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_over_a_directory_reads_everything_below_it() {
        assert_eq!(
            search_paths(Some("/home/u/.ssh"), Some("/w"), None),
            vec!["/home/u/.ssh/**"]
        );
        assert_eq!(
            search_paths(None, Some("/w/proj"), Some("**/.env")),
            vec!["/w/proj/**", "/w/proj/**/.env"]
        );
        assert_eq!(
            search_paths(Some("sub"), Some("/w"), None),
            vec!["/w/sub/**"]
        );
        assert_eq!(search_paths(None, None, None), vec!["./**"]);
    }

    #[test]
    fn patch_envelope_yields_every_touched_file() {
        let patch = "*** Begin Patch\n*** Update File: src/a.rs\n@@\n-x\n+y\n*** Move to: src/b.rs\n*** Add File: .env\n+K=V\n*** Delete File: old.txt\n*** End Patch";
        assert_eq!(
            patch_paths(patch),
            vec!["src/a.rs", "src/b.rs", ".env", "old.txt"]
        );
    }

    #[test]
    fn urls_are_found_in_prose() {
        assert_eq!(
            urls_in("Summarise https://example.com/a, and (http://x.test/b)."),
            vec!["https://example.com/a", "http://x.test/b"]
        );
        assert!(urls_in("no links here").is_empty());
    }
}
