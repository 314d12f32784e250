//! The bundled policy files, compiled into the binary.
//!
//! * `gate.yaml` — self-protection: agents may not run gatehouse's approval and
//!   admin commands, touch its data dir or config, or edit the hosts' hook
//!   settings. Explicit `deny`, whatever the thresholds. Part of every preset.
//! * `detections.yaml` — detections with stable ids and severities
//!   (`PATH-ENV-FILE`, `PATH-SSH-KEY`, …). Part of every preset; the preset's
//!   thresholds turn severities into actions.
//! * `conservative.yaml`, `balanced.yaml`, `permissive.yaml` — thresholds plus
//!   any preset-specific rules.
//! * `default.yaml` — the policy used when the user has none: `default: defer`,
//!   preset `balanced`.

use std::sync::{Arc, OnceLock};

use crate::ast::{PolicyDoc, Preset};
use crate::diag::Diagnostic;
use crate::diag::Diagnostics;
use crate::parse::{parse_policy, parse_policy_node};

/// The bundled files' node trees, built at compile time by `build.rs`.
mod prebuilt {
    use std::borrow::Cow;

    use crate::node::{Node, Pos, Value};
    include!(concat!(env!("OUT_DIR"), "/bundled_nodes.rs"));
}

/// Self-protection pack.
pub const GATE: &str = include_str!("../bundled/gate.yaml");
/// Detection pack.
pub const DETECTIONS: &str = include_str!("../bundled/detections.yaml");
/// Conservative preset.
pub const CONSERVATIVE: &str = include_str!("../bundled/conservative.yaml");
/// Balanced preset.
pub const BALANCED: &str = include_str!("../bundled/balanced.yaml");
/// Permissive preset.
pub const PERMISSIVE: &str = include_str!("../bundled/permissive.yaml");
/// The default policy.
pub const DEFAULT: &str = include_str!("../bundled/default.yaml");

/// Every bundled file: (name, text).
pub const FILES: [(&str, &str); 6] = [
    ("gate.yaml", GATE),
    ("detections.yaml", DETECTIONS),
    ("conservative.yaml", CONSERVATIVE),
    ("balanced.yaml", BALANCED),
    ("permissive.yaml", PERMISSIVE),
    ("default.yaml", DEFAULT),
];

/// A bundled file parsed once, with whatever problems it has (tests keep that empty).
pub struct Pack {
    /// The parsed document.
    pub doc: Arc<PolicyDoc>,
    /// Parse problems (a bug in the bundled text).
    pub diagnostics: Vec<Diagnostic>,
}

fn parse_pack(name: &str, text: &str) -> Pack {
    let (doc, diags) = parse_bundled(name, text);
    Pack {
        doc: Arc::new(doc),
        diagnostics: diags.items,
    }
}

/// Validates a bundled file from its prebuilt node tree (no YAML parsing at
/// run time); falls back to parsing the text should the tree be missing.
pub fn parse_bundled(name: &str, text: &str) -> (PolicyDoc, Diagnostics) {
    let origin = format!("bundled:{name}");
    match prebuilt::prebuilt_node(name) {
        Some(root) => parse_policy_node(root, &origin),
        None => parse_policy(text, &origin),
    }
}

/// The parsed bundled file called `name`. Each file is parsed on first use
/// only: a hook process loading the default policy never touches the other presets.
pub fn pack(name: &str) -> Option<&'static Pack> {
    static PACKS: [OnceLock<Pack>; FILES.len()] = [const { OnceLock::new() }; FILES.len()];
    let i = FILES.iter().position(|(n, _)| *n == name)?;
    let (name, text) = FILES.get(i)?;
    Some(PACKS.get(i)?.get_or_init(|| parse_pack(name, text)))
}

/// The file of a preset.
pub fn preset_file(p: Preset) -> &'static str {
    match p {
        Preset::Conservative => "conservative.yaml",
        Preset::Balanced => "balanced.yaml",
        Preset::Permissive => "permissive.yaml",
    }
}

/// The packs the given presets bring in, in evaluation order, each once.
pub fn preset_docs(presets: &[Preset]) -> Vec<(&'static str, Arc<PolicyDoc>)> {
    if presets.is_empty() {
        return Vec::new();
    }
    let mut names = vec!["gate.yaml", "detections.yaml"];
    for p in presets {
        let f = preset_file(*p);
        if !names.contains(&f) {
            names.push(f);
        }
    }
    names
        .into_iter()
        .filter_map(|n| pack(n).map(|p| (n, p.doc.clone())))
        .collect()
}

/// The policy text a bundled file's `tests:` run against: a preset file's
/// tests run against `{default: defer, presets: [that preset]}`, the default
/// policy's against itself, the shared packs' against the default policy.
pub fn test_policy_text(name: &str) -> String {
    match name {
        "conservative.yaml" | "balanced.yaml" | "permissive.yaml" => format!(
            "version: 1\ndefault: defer\npresets: [{}]\n",
            name.trim_end_matches(".yaml")
        ),
        _ => DEFAULT.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_yaml;

    /// The trees `build.rs` emits must be exactly what parsing the text gives,
    /// or the bundled policy would silently differ from its YAML.
    #[test]
    fn prebuilt_trees_match_parsing_the_text() {
        for (name, text) in FILES {
            let prebuilt = prebuilt::prebuilt_node(name)
                .unwrap_or_else(|| panic!("build.rs emitted no tree for {name}"));
            let parsed = parse_yaml(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(*prebuilt, parsed, "{name}");
        }
    }

    /// Loading compiles no bundled glob (they are trusted), so this test is
    /// what stands behind that trust: every glob of every pack, compiled as
    /// strictly as a user's policy, without a single diagnostic.
    #[test]
    fn every_bundled_glob_compiles() {
        use crate::compile::{GlobCheck, Thresholds, compile};
        use gatehouse_core::Severity;
        for (name, text) in FILES {
            let (doc, mut diags) = parse_bundled(name, text);
            let rules: Vec<_> = doc.rules.iter().map(|r| (r, GlobCheck::AtLoad)).collect();
            let thresholds = Thresholds {
                block_at: Severity::Critical,
                ask_at: Severity::High,
            };
            compile(&rules, thresholds, &mut diags);
            assert!(diags.items.is_empty(), "{name}: {:?}", diags.items);
        }
    }
}
