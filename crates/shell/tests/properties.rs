//! Property tests: the analyser never panics (not even internally, which
//! `analyze` would otherwise hide behind its `catch_unwind`), and quoting
//! that does not change a word does not change the analysis.

use gatehouse_shell::{Analysis, analyze};
use proptest::prelude::*;

/// `analyze` turns an internal panic into this detail; seeing it means a bug.
fn assert_no_internal_panic(src: &str, analysis: &Analysis) {
    assert!(
        !analysis
            .unresolved
            .iter()
            .any(|u| u.detail.starts_with("internal error")),
        "internal panic while analysing {src:?}"
    );
}

/// Fragments that exercise the parser's and our own tricky paths.
fn shellish_token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}".prop_map(|s| s),
        Just("rm".to_string()),
        Just("sudo".to_string()),
        Just("bash -c".to_string()),
        Just("env -S".to_string()),
        Just("xargs".to_string()),
        Just("find . -exec".to_string()),
        Just("eval".to_string()),
        Just("$(".to_string()),
        Just(")".to_string()),
        Just("`".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("$'\\x72".to_string()),
        Just("${x:-".to_string()),
        Just("}".to_string()),
        Just("{".to_string()),
        Just("(".to_string()),
        Just("<(".to_string()),
        Just(";".to_string()),
        Just("|".to_string()),
        Just("&&".to_string()),
        Just("<<EOF\n".to_string()),
        Just("\nEOF\n".to_string()),
        Just("<<<".to_string()),
        Just(">".to_string()),
        Just("2>&1".to_string()),
        Just("if".to_string()),
        Just("then".to_string()),
        Just("fi".to_string()),
        Just("for x in".to_string()),
        Just("do".to_string()),
        Just("done".to_string()),
        Just("case".to_string()),
        Just("esac".to_string()),
        Just("$IFS".to_string()),
        Just("{a,b}".to_string()),
        Just("*".to_string()),
        Just("X=rm".to_string()),
        Just("$X".to_string()),
        Just("\n".to_string()),
        Just("#".to_string()),
        Just("é".to_string()),
    ]
}

fn shellish() -> impl Strategy<Value = String> {
    prop::collection::vec(shellish_token(), 0..24).prop_map(|tokens| tokens.join(" "))
}

const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case",
    "esac", "select", "function", "time", "coproc",
];

fn plain_word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{1,7}".prop_filter("not a reserved word", |w| !RESERVED.contains(&w.as_str()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_text(src in "\\PC{0,200}") {
        let analysis = analyze(&src);
        assert_no_internal_panic(&src, &analysis);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes_as_lossy_text(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let src = String::from_utf8_lossy(&bytes).into_owned();
        let analysis = analyze(&src);
        assert_no_internal_panic(&src, &analysis);
    }

    #[test]
    fn never_panics_on_shellish_text(src in shellish()) {
        let analysis = analyze(&src);
        assert_no_internal_panic(&src, &analysis);
    }

    #[test]
    fn inserting_empty_quotes_inside_a_word_changes_nothing(
        words in prop::collection::vec(plain_word(), 1..6),
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        quote in prop_oneof![Just("''"), Just("\"\"")],
    ) {
        let plain = words.join(" ");
        let target = pick.index(words.len());
        let mut quoted_words = words.clone();
        if let Some(word) = quoted_words.get_mut(target) {
            let pos = 1 + at.index(word.len().saturating_sub(1).max(1));
            let pos = pos.min(word.len());
            word.insert_str(pos, quote);
        }
        let quoted = quoted_words.join(" ");
        let a = analyze(&plain);
        let b = analyze(&quoted);
        prop_assert_eq!(&a.commands, &b.commands, "{:?} vs {:?}", plain, quoted);
        prop_assert_eq!(&a.files, &b.files);
    }
}

#[test]
fn a_one_megabyte_here_document_fed_to_bash_is_analysed() {
    let mut src = String::from("bash <<'EOF'\n");
    let mut i = 0;
    while src.len() < 1_000_000 {
        // Quotes keep these lines off the plain-command fast path: the parser runs.
        src.push_str(&format!(
            "echo 'line {i}' of a \"long\" script > /dev/null\n"
        ));
        i += 1;
    }
    src.push_str("rm -rf /tmp/at-the-end\nEOF\n");
    let analysis = analyze(&src);
    assert!(
        analysis.unresolved.is_empty(),
        "{:?}",
        analysis.unresolved.first()
    );
    assert!(
        analysis
            .commands
            .iter()
            .any(|c| c.argv == ["rm", "-rf", "/tmp/at-the-end"] && c.via == ["bash <<"]),
        "the command at the end of the here-document was not found"
    );
    assert_eq!(
        analysis.commands.len(),
        i + 2,
        "bash, every echo line, and rm"
    );
}

#[test]
fn deep_nesting_is_reported_not_overflowing_the_stack() {
    let src = format!("{}rm x{}", "$(".repeat(5000), ")".repeat(5000));
    let analysis = analyze(&src);
    assert!(!analysis.unresolved.is_empty());
    let src = format!("{}rm x;{}", "{ ".repeat(5000), " }".repeat(5000));
    let analysis = analyze(&src);
    assert!(
        analysis
            .unresolved
            .iter()
            .any(|u| u.kind == gatehouse_shell::UnresolvedKind::TooDeep)
    );
    assert!(analysis.commands.iter().any(|c| c.argv == ["rm", "x"]));
}

#[test]
fn the_deepest_accepted_nesting_fits_a_small_thread_stack() {
    let depth = 16;
    let inputs = [
        format!("{}rm x;{}", "{ ".repeat(depth), " }".repeat(depth)),
        format!("{}rm x{}", "( ".repeat(depth), " )".repeat(depth)),
        // Each `$(..)` is one level of re-analysis; 10 stay under the limit.
        format!("echo {}rm x{}", "$(".repeat(10), ")".repeat(10)),
        format!(
            "{}rm x;{}",
            "if true; then ".repeat(depth),
            " fi;".repeat(depth)
        ),
        // Each `eval` is one level of re-analysis; 10 stay under the limit.
        format!("bash -c \"{}rm x\"", "eval ".repeat(10)),
    ];
    for src in inputs {
        let shown = src.clone();
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || analyze(&src))
            .map(|handle| handle.join());
        let analysis = match worker {
            Ok(Ok(analysis)) => analysis,
            other => panic!("analysis thread failed: {:?}", other.err()),
        };
        assert!(
            analysis.commands.iter().any(|c| c.argv == ["rm", "x"]),
            "{shown}: {analysis:?}"
        );
    }
}
