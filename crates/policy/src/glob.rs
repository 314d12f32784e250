//! Glob semantics of the policy language, in one place.
//!
//! * **command** globs match the normalised argv joined by single spaces,
//!   anchored at both ends. `*` matches any text, spaces and slashes included;
//!   `?` one character; `[abc]`, `{a,b}` as usual. A trailing ` *` also matches
//!   nothing at all, so `git push *` covers a bare `git push`.
//! * **path** globs are gitignore-style: `*` and `?` never cross `/`, `**`
//!   does. A pattern with no `/` (`.env`, `*.pem`) matches that name in any
//!   directory. `~/...` is under the home directory, `/...` is absolute,
//!   `**/...` matches at any depth anywhere, and any other pattern containing
//!   `/` (`src/**`, `.claude/settings.json`) is relative to the call's working
//!   directory. A trailing `/` means everything under that directory.
//!   Paths in calls are resolved first: `~` expanded, relative paths joined to
//!   cwd, `.` and `..` removed lexically (symlinks are not followed: no I/O).
//! * **tool**, **session**, **url** globs: `*` matches anything.
//! * **domain** `example.com` matches that host and every subdomain.

use globset::{Glob, GlobBuilder};

/// How a pattern's wildcards treat `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `*` matches anything: command, tool, session, url and domain globs.
    Loose,
    /// `*` and `?` stop at `/`, `**` crosses it: path globs.
    Path,
}

impl Style {
    /// Compile `pattern` (already in globset's form) with these semantics.
    pub fn glob(self, pattern: &str) -> Result<Glob, globset::Error> {
        GlobBuilder::new(pattern)
            .literal_separator(self == Style::Path)
            .backslash_escape(true)
            .empty_alternates(true)
            .build()
    }
}

/// Compile a glob where `*` matches anything (tool, session, url).
pub fn loose_glob(pattern: &str) -> Result<Glob, globset::Error> {
    Style::Loose.glob(pattern)
}

/// The loose patterns a command pattern stands for (two when it ends in ` *`).
pub fn command_patterns(pattern: &str) -> Vec<&str> {
    let pattern = pattern.trim();
    let mut out = vec![pattern];
    if let Some(bare) = pattern.strip_suffix(" *") {
        out.push(bare);
    }
    out
}

/// The globs a command pattern compiles to (two when it ends in ` *`).
pub fn command_globs(pattern: &str) -> Result<Vec<Glob>, globset::Error> {
    command_patterns(pattern)
        .into_iter()
        .map(loose_glob)
        .collect()
}

/// The literal program name a command pattern starts with, if its first word
/// has no glob characters: the index key that keeps 10,000 rules fast.
pub fn command_program(pattern: &str) -> Option<&str> {
    let first = pattern.trim().split(' ').next()?;
    let literal = !first.is_empty() && !first.contains(['*', '?', '[', '{', '\\']);
    literal.then_some(first)
}

/// The forms of a path against which path globs are matched (see module docs).
/// Home-relative form `~/x`, cwd-relative form `./x`, and the absolute form.
pub fn path_pattern(pattern: &str) -> String {
    let (body, dir) = match pattern.strip_suffix('/') {
        Some(b) if !b.is_empty() => (b, true),
        _ => (pattern, false),
    };
    let anchored_already = body == "~"
        || body.starts_with("~/")
        || body.starts_with('/')
        || body.starts_with("**/")
        || body == "**";
    let anchored = if anchored_already {
        body.to_owned()
    } else if let Some(rest) = body.strip_prefix("./") {
        format!("./{rest}")
    } else if body.contains('/') {
        format!("./{body}")
    } else {
        format!("**/{body}")
    };
    if dir {
        format!("{anchored}/**")
    } else {
        anchored
    }
}

/// Compile a path pattern: `*` does not cross `/`.
pub fn path_glob(pattern: &str) -> Result<Glob, globset::Error> {
    Style::Path.glob(&path_pattern(pattern))
}

/// A call path resolved against the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// The forms to match globs against (absolute, `~/…`, `./…`).
    pub forms: Vec<String>,
    /// Whether it lies inside the working directory (false when unknown).
    pub inside_workspace: bool,
}

/// Remove `.` and `..` components lexically. `..` at the root stays at the root;
/// at the start of a relative path it is kept.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&"..") | None if !absolute => parts.push(".."),
                Some(_) => {
                    parts.pop();
                }
                None => {}
            },
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn strip_dir<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        return path.strip_prefix('/');
    }
    let rest = path.strip_prefix(dir)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// Resolve a path as written in a call against `cwd` and `home`.
pub fn resolve_path(raw: &str, cwd: Option<&str>, home: Option<&str>) -> ResolvedPath {
    let raw = raw.trim();
    let cwd = cwd.map(normalize).filter(|c| c.starts_with('/'));
    let home = home.map(normalize).filter(|h| h.starts_with('/'));
    let mut forms = Vec::with_capacity(3);
    let absolute: Option<String>;
    let home_rest = if raw == "~" {
        Some("")
    } else {
        raw.strip_prefix("~/")
    };
    if let Some(rest) = home_rest {
        let rest = normalize(rest);
        match &home {
            Some(h) => absolute = Some(normalize(&format!("{h}/{rest}"))),
            None => {
                absolute = None;
                forms.push(if rest.is_empty() {
                    "~".into()
                } else {
                    format!("~/{rest}")
                });
            }
        }
    } else if raw.starts_with('/') {
        absolute = Some(normalize(raw));
    } else {
        match &cwd {
            Some(c) => absolute = Some(normalize(&format!("{c}/{raw}"))),
            None => {
                absolute = None;
                let rel = normalize(raw);
                if !rel.starts_with("..") {
                    forms.push(if rel.is_empty() {
                        ".".into()
                    } else {
                        format!("./{rel}")
                    });
                }
            }
        }
    }
    let mut inside = cwd.is_none() && forms.iter().any(|f| f.starts_with('.'));
    if let Some(abs) = absolute {
        if let Some(h) = &home
            && let Some(rest) = strip_dir(&abs, h)
        {
            forms.push(if rest.is_empty() {
                "~".into()
            } else {
                format!("~/{rest}")
            });
        }
        if let Some(c) = &cwd
            && let Some(rest) = strip_dir(&abs, c)
        {
            inside = true;
            forms.push(if rest.is_empty() {
                ".".into()
            } else {
                format!("./{rest}")
            });
        }
        forms.push(abs);
    }
    ResolvedPath {
        forms,
        inside_workspace: inside,
    }
}

/// The host of a URL, lower-cased, without userinfo or port. `None` if it has no `scheme://`.
pub fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

/// The loose patterns a `domain:` entry stands for: the host itself and its subdomains.
pub fn domain_patterns(pattern: &str) -> [String; 2] {
    let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let p = p.strip_prefix("*.").map(str::to_owned).unwrap_or(p);
    let subdomains = format!("*.{p}");
    [p, subdomains]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd_matches(pattern: &str, cmd: &str) -> bool {
        command_globs(pattern)
            .unwrap_or_default()
            .iter()
            .any(|g| g.compile_matcher().is_match(cmd))
    }

    fn path_matches(pattern: &str, path: &str) -> bool {
        let m = path_glob(pattern)
            .unwrap_or_else(|e| panic!("{e}"))
            .compile_matcher();
        resolve_path(path, Some("/home/u/app"), Some("/home/u"))
            .forms
            .iter()
            .any(|f| m.is_match(f))
    }

    #[test]
    fn command_globs_are_anchored_and_star_crosses_everything() {
        assert!(cmd_matches(
            "kubectl apply *",
            "kubectl apply -f prod/app.yaml"
        ));
        assert!(cmd_matches("git push *", "git push"));
        assert!(!cmd_matches("git push", "git push --force"));
        assert!(!cmd_matches("rm *", "echo rm x"));
        assert!(cmd_matches(
            "docker push *production*",
            "docker push reg/production:1"
        ));
        assert!(cmd_matches(
            "git push * --force*",
            "git push origin main --force-with-lease"
        ));
    }

    #[test]
    fn command_program_is_the_literal_first_word() {
        assert_eq!(command_program("git push *"), Some("git"));
        assert_eq!(command_program("rm"), Some("rm"));
        assert_eq!(command_program("*rm*"), None);
        assert_eq!(command_program("{rm,unlink} *"), None);
    }

    #[test]
    fn path_globs_follow_gitignore_star_rules() {
        assert!(path_matches(".env", "/home/u/app/.env"));
        assert!(path_matches(".env", "app/.env"));
        assert!(path_matches("**/.env", "/srv/x/.env"));
        assert!(!path_matches(".env", "/home/u/app/.env.example"));
        assert!(path_matches("~/.ssh/**", "~/.ssh/id_ed25519"));
        assert!(path_matches("~/.ssh/**", "/home/u/.ssh/keys/id_rsa"));
        assert!(!path_matches("~/.ssh/*", "/home/u/.ssh/keys/id_rsa"));
        assert!(path_matches("~/.ssh/*", "/home/u/.ssh/id_rsa"));
        assert!(path_matches("src/*.rs", "src/main.rs"));
        assert!(path_matches("src/*.rs", "/home/u/app/src/main.rs"));
        assert!(!path_matches("src/*.rs", "src/a/main.rs"));
        assert!(!path_matches("src/*.rs", "/other/src/main.rs"));
        assert!(path_matches("/etc/**", "../../../etc/passwd"));
        assert!(path_matches("build/", "build/x/y.o"));
        assert!(path_matches("~", "~"));
        assert!(path_matches("~", ".."));
    }

    #[test]
    fn paths_resolve_against_cwd_and_home() {
        let r = resolve_path("../x", Some("/home/u/app"), Some("/home/u"));
        assert_eq!(r.forms, vec!["~/x".to_string(), "/home/u/x".to_string()]);
        assert!(!r.inside_workspace);
        let r = resolve_path("./a/../b", Some("/home/u/app"), Some("/home/u"));
        assert!(r.inside_workspace);
        assert!(r.forms.contains(&"./b".to_string()));
        let r = resolve_path("/../../etc", None, None);
        assert_eq!(r.forms, vec!["/etc".to_string()]);
        let r = resolve_path("/", Some("/home/u/app"), Some("/home/u"));
        assert!(!r.inside_workspace);
        let r = resolve_path("~/.ssh/id_rsa", None, None);
        assert_eq!(r.forms, vec!["~/.ssh/id_rsa".to_string()]);
    }

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://User@API.Example.com:8443/x?y"),
            Some("api.example.com".into())
        );
        assert_eq!(url_host("http://[::1]:80/"), Some("::1".into()));
        assert_eq!(url_host("example.com"), None);
    }
}
