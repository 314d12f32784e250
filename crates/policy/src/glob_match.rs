//! Glob matching that pays only for the globs a call could match.
//!
//! A hook is one process per tool call: it evaluates one call and exits, so
//! compiling every glob of the policy into regexes (what building a
//! `GlobSet` does) would cost more than the evaluation itself. Instead each
//! glob keeps the literal text every match must contain — its prefix, its
//! suffix and, for patterns made of `*` and `?` only, the literal runs in
//! between — and checks that with plain string comparisons first. A glob
//! without wildcards is compared for equality and never compiled; any other
//! glob made of literals, `*` and `?` only (most of them) is matched
//! directly, byte by byte as globset does; any other glob is compiled to a
//! regex on the first text that passes its literal check.
//!
//! A [`GlobIndex`] that keeps being asked (the daemon, a long MCP session)
//! builds one `GlobSet` after [`SET_AFTER_LOOKUPS`] lookups, which is faster
//! per lookup from then on. Both paths give globset's answers: the literal
//! check only rules out texts globset would reject too (a property test
//! holds it to that).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};

use crate::glob::Style;

/// Lookups after which an index builds its `GlobSet`: more than a hook
/// process ever makes, few enough that a server amortises the build at once.
pub const SET_AFTER_LOOKUPS: u32 = 32;

/// Characters with a meaning in a glob; a pattern without them is literal.
const META: [char; 7] = ['*', '?', '[', ']', '{', '}', '\\'];

/// One glob, compiled on first need.
#[derive(Debug, Clone)]
pub struct LazyGlob {
    /// The glob as globset reads it (already anchored/normalised by `glob.rs`).
    pattern: Box<str>,
    /// Whether `*` crosses `/`.
    style: Style,
    /// Worked out on first use, as most globs of a policy are never
    /// consulted; boxed so that such a glob costs one pointer, not the
    /// ~250 bytes a prepared one takes (heap pages a hook would fault in).
    prepared: OnceLock<Box<Prepared>>,
}

/// What a glob needs once it is consulted.
#[derive(Debug, Clone)]
struct Prepared {
    /// What every match contains, checked before compiling anything.
    literals: Literals,
    /// The compiled matcher; `None` inside if the pattern does not compile.
    matcher: OnceLock<Option<GlobMatcher>>,
}

/// Literal text that every string a pattern matches must contain.
#[derive(Debug, Clone, Default)]
struct Literals {
    /// The pattern has no wildcards: a match is this text (escapes resolved).
    exact: Option<Box<str>>,
    /// The pattern has no wildcards but `*` (never `**`) and `?`: matched
    /// by [`wildcard_match`], no regex needed.
    simple: bool,
    /// Every match starts with this.
    prefix: Box<str>,
    /// Every match ends with this.
    suffix: Box<str>,
    /// Every match contains these, in order, between prefix and suffix.
    inner: Vec<Box<str>>,
}

impl Literals {
    fn of(pattern: &str) -> Literals {
        if let Some(exact) = unescaped_literal(pattern) {
            return Literals {
                exact: Some(exact.into()),
                ..Literals::default()
            };
        }
        if pattern.contains('\\') {
            // Escaped wildcards would confuse the analysis below; such rare
            // patterns admit every text and let the regex decide.
            return Literals::default();
        }
        // `**` next to `/` can match the empty string *and* the slash
        // (`a/**/b` matches `a/b`, `**/x` matches `x`), so for this analysis
        // those forms become a plain `*`, which only removes literal text.
        let simplified = pattern
            .replace("/**/", "*")
            .replace("**/", "*")
            .replace("/**", "*");
        let p = simplified.as_str();
        let start = p.find(META).unwrap_or(p.len());
        let end = p.rfind(META).map_or(start, |i| i + 1).max(start);
        let prefix = p.get(..start).unwrap_or_default();
        let suffix = p.get(end..).unwrap_or_default();
        // Classes, alternates and escapes make inner runs optional or
        // ambiguous; only `*`/`?` patterns get the inner check.
        let inner = match p.get(start..end) {
            Some(middle) if !middle.contains(['[', ']', '{', '}', '\\']) => middle
                .split(['*', '?'])
                .filter(|run| !run.is_empty())
                .map(Box::from)
                .collect(),
            _ => Vec::new(),
        };
        Literals {
            exact: None,
            simple: !pattern.contains(['[', ']', '{', '}', '\\']) && !pattern.contains("**"),
            prefix: prefix.into(),
            suffix: suffix.into(),
            inner,
        }
    }

    /// Whether `text` contains all the required literal text.
    fn admit(&self, text: &str) -> bool {
        if text.len() < self.prefix.len() + self.suffix.len()
            || !text.starts_with(&*self.prefix)
            || !text.ends_with(&*self.suffix)
        {
            return false;
        }
        let mut rest = text
            .get(self.prefix.len()..text.len() - self.suffix.len())
            .unwrap_or_default();
        for run in &self.inner {
            match rest.find(&**run) {
                Some(at) => rest = rest.get(at + run.len()..).unwrap_or_default(),
                None => return false,
            }
        }
        true
    }
}

impl LazyGlob {
    /// A glob whose pattern is trusted to compile (the bundled packs, which
    /// their tests compile); nothing is compiled now.
    pub fn trusted(pattern: &str, style: Style) -> LazyGlob {
        LazyGlob {
            pattern: pattern.into(),
            style,
            prepared: OnceLock::new(),
        }
    }

    /// A glob checked now, so that a user's typo is a load error with a position.
    pub fn checked(pattern: &str, style: Style) -> Result<LazyGlob, globset::Error> {
        style.glob(pattern)?;
        Ok(LazyGlob::trusted(pattern, style))
    }

    /// The compiled glob (for building a set).
    fn glob(&self) -> Option<Glob> {
        self.style.glob(&self.pattern).ok()
    }

    /// Whether the glob matches `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let prepared = self.prepared.get_or_init(|| {
            Box::new(Prepared {
                literals: Literals::of(&self.pattern),
                matcher: OnceLock::new(),
            })
        });
        let literals = &prepared.literals;
        if let Some(exact) = &literals.exact {
            return text == &**exact;
        }
        if !literals.admit(text) {
            return false;
        }
        if literals.simple {
            return wildcard_match(self.pattern.as_bytes(), text.as_bytes(), self.style);
        }
        prepared
            .matcher
            .get_or_init(|| self.glob().map(|g| g.compile_matcher()))
            .as_ref()
            .is_some_and(|m| m.is_match(text))
    }
}

/// The text a pattern without wildcards matches (`\x` is `x`), or `None`
/// if it has any glob syntax (or a trailing `\`, which does not compile).
fn unescaped_literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '*' | '?' | '[' | ']' | '{' | '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Whether `text` matches `pattern`, a glob of literal bytes, `*` and `?`,
/// with globset's semantics: `?` is one byte, `*` any run of bytes, and in
/// the path style neither matches `/`. The classic two-pointer match that
/// backtracks to the last `*` only: linear in practice, never exponential.
fn wildcard_match(pattern: &[u8], text: &[u8], style: Style) -> bool {
    let crosses = |b: u8| style == Style::Loose || b != b'/';
    let (mut p, mut t) = (0, 0);
    // After the last `*` seen: where the pattern resumes, and where in the
    // text the `*`'s match currently ends.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(b'?') if crosses(c) => {
                p += 1;
                t += 1;
            }
            Some(&lit) if lit != b'*' && lit != b'?' && lit == c => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` take one more byte, and retry from there.
                Some((resume, end)) if text.get(end).is_some_and(|&b| crosses(b)) => {
                    star = Some((resume, end + 1));
                    p = resume;
                    t = end + 1;
                }
                _ => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

/// Globs of one rule condition (`tool:`, `url:`...): any of them matching is a match.
#[derive(Debug, Clone, Default)]
pub struct GlobList(Vec<LazyGlob>);

impl GlobList {
    /// A list of globs.
    pub fn new(globs: Vec<LazyGlob>) -> GlobList {
        GlobList(globs)
    }

    /// Whether any glob matches `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.0.iter().any(|g| g.is_match(text))
    }
}

/// Globs plus the rule each belongs to, answering "which rules match this text".
#[derive(Debug, Default)]
pub struct GlobIndex {
    /// The globs, in rule order.
    globs: Vec<LazyGlob>,
    /// `owners[i]`: the rule index of `globs[i]`.
    owners: Vec<usize>,
    /// Lookups so far, until the set is built.
    lookups: AtomicU32,
    /// The whole index as one set, once warm; `None` inside if it cannot be built
    /// (a regex size limit), in which case the per-glob path stays.
    set: OnceLock<Option<GlobSet>>,
}

impl Clone for GlobIndex {
    fn clone(&self) -> GlobIndex {
        GlobIndex {
            globs: self.globs.clone(),
            owners: self.owners.clone(),
            lookups: AtomicU32::new(self.lookups.load(Ordering::Relaxed)),
            set: self.set.clone(),
        }
    }
}

impl GlobIndex {
    /// An index over `(glob, owning rule)` pairs.
    pub fn new(globs: Vec<(LazyGlob, usize)>) -> GlobIndex {
        let (globs, owners) = globs.into_iter().unzip();
        GlobIndex {
            globs,
            owners,
            ..GlobIndex::default()
        }
    }

    /// The set, if this index is warm enough to have (or build) one.
    fn warm_set(&self) -> Option<&GlobSet> {
        if let Some(set) = self.set.get() {
            return set.as_ref();
        }
        if self.lookups.fetch_add(1, Ordering::Relaxed) + 1 < SET_AFTER_LOOKUPS {
            return None;
        }
        self.set
            .get_or_init(|| {
                let mut builder = GlobSetBuilder::new();
                for g in &self.globs {
                    builder.add(g.glob()?);
                }
                builder.build().ok()
            })
            .as_ref()
    }

    /// Append the rules owning a glob that matches `text`, in glob order.
    pub fn matches_into(&self, text: &str, out: &mut Vec<usize>) {
        if self.globs.is_empty() {
            return;
        }
        match self.warm_set() {
            Some(set) => {
                for i in set.matches(text) {
                    if let Some(owner) = self.owners.get(i) {
                        out.push(*owner);
                    }
                }
            }
            None => {
                for (g, owner) in self.globs.iter().zip(&self.owners) {
                    if g.is_match(text) {
                        out.push(*owner);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl LazyGlob {
        fn compiled(&self) -> bool {
            self.prepared
                .get()
                .is_some_and(|p| p.matcher.get().is_some())
        }
    }

    fn both_styles(pattern: &str, text: &str) {
        for style in [Style::Loose, Style::Path] {
            let Ok(glob) = style.glob(pattern) else {
                return;
            };
            let want = glob.compile_matcher().is_match(text);
            let lazy = LazyGlob::trusted(pattern, style);
            assert_eq!(
                lazy.is_match(text),
                want,
                "{style:?} glob {pattern:?} against {text:?}"
            );
        }
    }

    #[test]
    fn recursive_wildcards_may_match_the_slash_too() {
        both_styles("a/**/b", "a/b");
        both_styles("**/.env", ".env");
        both_styles("**/.env", "./x/.env");
        both_styles("~/.ssh/**", "~/.ssh");
        both_styles("~/.ssh/**", "~/.ssh/id_rsa");
        both_styles("/etc/ssh/ssh_host_*_key", "/etc/ssh/ssh_host_key");
    }

    #[test]
    fn literal_patterns_are_equality_and_never_compiled() {
        let g = LazyGlob::trusted("git push", Style::Loose);
        assert!(g.is_match("git push"));
        assert!(!g.is_match("git push -f"));
        assert!(!g.compiled());
    }

    #[test]
    fn simple_globs_are_matched_without_a_regex() {
        let top = LazyGlob::trusted("/*", Style::Path);
        assert!(top.is_match("/etc"));
        assert!(!top.is_match("/tmp/src/main.rs"));
        let cmd = LazyGlob::trusted("git push * --force*", Style::Loose);
        assert!(cmd.is_match("git push origin main --force-with-lease"));
        assert!(!cmd.is_match("git push origin main"));
        let escaped = LazyGlob::trusted("/\\*", Style::Path);
        assert!(escaped.is_match("/*"));
        assert!(!escaped.is_match("/tmp"));
        for g in [&top, &cmd, &escaped] {
            assert!(!g.compiled(), "{g:?} compiled a regex");
        }
        both_styles("/\\*", "/*");
        both_styles("a\\?b", "a?b");
        both_styles("a\\?b", "axb");
        both_styles("a*b?c*", "a/b/c/");
        both_styles("*/*", "a/b/c");
        both_styles("?", "é");
    }

    #[test]
    fn texts_without_the_literals_never_compile_the_glob() {
        let g = LazyGlob::trusted("*.local/share/gatehouse*", Style::Loose);
        assert!(!g.is_match("git status"));
        assert!(!g.compiled());
        assert!(g.is_match("rm -rf ~/.local/share/gatehouse"));
    }

    #[test]
    fn an_index_gives_the_same_owners_before_and_after_its_set_is_built() {
        let globs = ["git push *", "git push", "git *", "*--force*", "npm *"];
        let index = GlobIndex::new(
            globs
                .iter()
                .enumerate()
                .map(|(i, p)| (LazyGlob::trusted(p, Style::Loose), i))
                .collect(),
        );
        let text = "git push --force";
        let mut first = Vec::new();
        index.matches_into(text, &mut first);
        assert_eq!(first, vec![0, 2, 3]);
        for _ in 0..SET_AFTER_LOOKUPS {
            let mut again = Vec::new();
            index.matches_into(text, &mut again);
            assert_eq!(again, first);
        }
        assert!(index.set.get().is_some_and(Option::is_some), "set built");
    }

    fn atom() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a", "b", "/", ".", " ", "*", "**", "?", "[ab]", "[!a]", "{a,b}", "{,a}", "\\*", "\\a",
            "/**/", "**/", "/**",
        ])
    }

    fn text_char() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["a", "b", "/", ".", " ", "*"])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        /// The literal check never rejects a text globset matches, and the
        /// answer is globset's.
        #[test]
        fn lazy_globs_answer_like_globset(
            pattern in prop::collection::vec(atom(), 0..7),
            text in prop::collection::vec(text_char(), 0..9),
        ) {
            both_styles(&pattern.concat(), &text.concat());
        }
    }
}
