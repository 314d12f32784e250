//! The gatehouse policy language.
//!
//! Text goes in ([`Policy::load`]), a compiled, indexed policy comes out, and
//! [`Policy::evaluate`] decides a [`ToolCall`] — a pure, total function that
//! never fails and never panics. Everything here is free of I/O: callers read
//! files and pass the text in. See `glob.rs` for the pattern semantics and
//! `evaluate.rs` for how rules combine (most restrictive wins; allow rules must
//! cover every executed command).

pub mod args;
pub mod ast;
pub mod bundled;
pub mod cache;
pub mod compile;
pub mod diag;
pub mod engine;
pub mod evaluate;
pub mod glob;
pub mod glob_match;
pub mod lint;
pub mod node;
pub mod parse;
pub mod policy_tests;
pub mod schema;

use std::sync::{Arc, OnceLock};

use gatehouse_core::{Action, CallContext, Decision, Severity, ToolCall, Via};

use crate::ast::{PolicyDoc, TestDoc};
use crate::compile::{Compiled, GlobCheck, Thresholds};
use crate::diag::{Diagnostic, Diagnostics};
use crate::evaluate::Settings;

pub use engine::{Engine, Verdict};
pub use policy_tests::TestOutcome;

/// What an `ask` does when no human can be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headless {
    /// Deny at once (the default: CI must not hang, and must not pass silently).
    Deny,
    /// Let the call through, audited.
    Allow,
    /// Hold the call until someone answers or it times out.
    Wait,
}

/// Approval settings of a policy (`approval:` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// How long an ask may stay pending before it expires as a denial.
    pub timeout_secs: u64,
    /// What an ask does when nobody can be asked.
    pub headless: Headless,
    /// Where asks are answered unless a rule says otherwise.
    pub via: Via,
}

/// A compiled policy, ready to evaluate. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Policy {
    compiled: Arc<Compiled>,
    settings: Settings,
    approval: ApprovalSettings,
    tests: Arc<Vec<TestDoc>>,
    warnings: Arc<Vec<Diagnostic>>,
    /// Where the policy came from and its text, so people reviewing what is in
    /// force (the dashboard's policy page) see the source, not just a summary.
    source: Arc<Source>,
}

/// The origin and text a policy was loaded from.
#[derive(Debug, Default)]
struct Source {
    origin: String,
    text: String,
}

/// A policy that failed to load; `Display` gives one `origin:line:col: error: message` line per problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// Default thresholds when neither the file nor its presets set them.
const DEFAULT_THRESHOLDS: Thresholds = Thresholds {
    block_at: Severity::Critical,
    ask_at: Severity::High,
};

/// Default approval timeout: one hour.
const DEFAULT_TIMEOUT_SECS: u64 = 3600;

impl Policy {
    /// Parse and compile policy text. `origin` names it in error messages (a file path).
    pub fn load(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let (doc, diags) = parse::parse_policy(text, origin);
        Policy::from_parsed(doc, diags, origin, GlobCheck::AtLoad)
            .map(|p| p.with_source(origin, text))
    }

    /// [`Policy::load`], also returning an entry for the compiled policy
    /// cache ([`cache`]) when the text loads cleanly. The caller keys the
    /// entry by the exact text (and the binary), and passes it back to
    /// [`Policy::load_cached`] with that same text.
    pub fn load_cacheable(
        text: &str,
        origin: &str,
    ) -> Result<(Policy, Option<Vec<u8>>), PolicyError> {
        let Ok(root) = node::parse_yaml(text) else {
            // Let `load` word the syntax error.
            return Policy::load(text, origin).map(|p| (p, None));
        };
        let (doc, diags) = parse::parse_policy_node(&root, origin);
        let policy = Policy::from_parsed(doc, diags, origin, GlobCheck::AtLoad)?;
        Ok((policy.with_source(origin, text), cache::encode(&root)))
    }

    /// Loads `text` from a cache entry [`Policy::load_cacheable`] made for
    /// exactly this text: no YAML parsing, and globs compiled on first need
    /// only (they all compiled when the entry was made). `None` for an entry
    /// that does not decode or load: the caller then loads the text itself.
    pub fn load_cached(entry: &[u8], text: &str, origin: &str) -> Option<Policy> {
        let root = cache::decode(entry)?;
        let (doc, diags) = parse::parse_policy_node(&root, origin);
        let policy = Policy::from_parsed(doc, diags, origin, GlobCheck::Known).ok()?;
        Some(policy.with_source(origin, text))
    }

    fn with_source(mut self, origin: &str, text: &str) -> Policy {
        self.source = Arc::new(Source {
            origin: origin.to_owned(),
            text: text.to_owned(),
        });
        self
    }

    /// Where this policy was loaded from (a file path, or `bundled:default.yaml`).
    pub fn origin(&self) -> &str {
        &self.source.origin
    }

    /// The text this policy was loaded from (for the bundled policy: `default.yaml`,
    /// whose presets pull in the bundled packs).
    pub fn text(&self) -> &str {
        &self.source.text
    }

    /// Compile a parsed document; any error diagnostic fails the load.
    fn from_parsed(
        doc: PolicyDoc,
        mut diags: Diagnostics,
        origin: &str,
        user_globs: GlobCheck,
    ) -> Result<Policy, PolicyError> {
        let policy = Policy::from_doc(doc, &mut diags, user_globs);
        let errors = diags.errors();
        if !errors.is_empty() {
            let lines: Vec<String> = errors.iter().map(|d| d.render(origin)).collect();
            return Err(PolicyError(lines.join("\n")));
        }
        Ok(policy)
    }

    /// Build from a parsed document, adding compile problems to `diags`.
    /// `user_globs` says when the document's own globs are compiled; the
    /// bundled packs' are always [`GlobCheck::Known`].
    fn from_doc(doc: PolicyDoc, diags: &mut Diagnostics, user_globs: GlobCheck) -> Policy {
        let packs = bundled::preset_docs(&doc.presets);
        for (name, _) in &packs {
            let broken = bundled::pack(name)
                .map(|p| p.diagnostics.iter().any(|d| d.level == diag::Level::Error))
                .unwrap_or(true);
            if broken {
                diags.error(
                    node::Pos::default(),
                    format!("the bundled pack {name} does not load; this is a gatehouse bug, please report it"),
                );
            }
        }
        let mut preset_thresholds: Option<Thresholds> = None;
        for (_, pack) in &packs {
            if let (Some(block_at), Some(ask_at)) = (pack.block_at, pack.ask_at) {
                // Several presets: the strictest thresholds of them.
                preset_thresholds = Some(match preset_thresholds {
                    None => Thresholds { block_at, ask_at },
                    Some(t) => Thresholds {
                        block_at: t.block_at.min(block_at),
                        ask_at: t.ask_at.min(ask_at),
                    },
                });
            }
        }
        let base = preset_thresholds.unwrap_or(DEFAULT_THRESHOLDS);
        let thresholds = Thresholds {
            block_at: doc.block_at.unwrap_or(base.block_at),
            ask_at: doc.ask_at.unwrap_or(base.ask_at),
        };
        let rules: Vec<(&ast::RuleDoc, GlobCheck)> = packs
            .iter()
            .flat_map(|(_, d)| d.rules.iter().map(|r| (r, GlobCheck::Known)))
            .chain(doc.rules.iter().map(|r| (r, user_globs)))
            .collect();
        let compiled = compile::compile(&rules, thresholds, diags);
        let approval = ApprovalSettings {
            timeout_secs: doc.approval_timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
            headless: doc.approval_headless.unwrap_or(Headless::Deny),
            via: doc.approval_via.unwrap_or(Via::Auto),
        };
        let mut class_defaults = [None; 7];
        for (class, action) in &doc.class_defaults {
            if let Some(i) = gatehouse_core::ToolClass::ALL
                .iter()
                .position(|k| k == class)
                && let Some(slot) = class_defaults.get_mut(i)
            {
                *slot = Some(*action);
            }
        }
        let settings = Settings {
            default: doc.default.unwrap_or(Action::Defer),
            class_defaults,
            unresolved: doc.unresolved.unwrap_or(Action::Ask),
            via: approval.via,
            timeout_secs: approval.timeout_secs,
        };
        let warnings = diags
            .items
            .iter()
            .filter(|d| d.level == diag::Level::Warning)
            .cloned()
            .collect();
        Policy {
            compiled: Arc::new(compiled),
            settings,
            approval,
            tests: Arc::new(doc.tests),
            warnings: Arc::new(warnings),
            source: Arc::default(),
        }
    }

    /// The bundled default policy (`default: defer`, preset `balanced`).
    /// Compiled once per process. Should the bundled text ever fail to load
    /// (a test guards against it) this fails closed: a policy that denies everything.
    pub fn bundled() -> Policy {
        static BUNDLED: OnceLock<Policy> = OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                let (doc, diags) = bundled::parse_bundled("default.yaml", bundled::DEFAULT);
                Policy::from_parsed(doc, diags, "bundled:default.yaml", GlobCheck::Known)
                    .map(|p| p.with_source("bundled:default.yaml", bundled::DEFAULT))
                    .unwrap_or_else(|_| Policy::deny_all())
            })
            .clone()
    }

    /// A policy with no rules whose default is deny: the fail-closed fallback.
    pub fn deny_all() -> Policy {
        let mut diags = Diagnostics::default();
        Policy::from_doc(
            PolicyDoc {
                default: Some(Action::Deny),
                ..PolicyDoc::default()
            },
            &mut diags,
            GlobCheck::Known,
        )
    }

    /// Approval settings (`approval:`).
    pub fn approval(&self) -> &ApprovalSettings {
        &self.approval
    }

    /// The `default:` action.
    pub fn default_action(&self) -> Action {
        self.settings.default
    }

    /// Number of rules in force, presets included.
    pub fn rule_count(&self) -> usize {
        self.compiled.rules.len()
    }

    /// Warnings found while loading (unknown keys outside `match:` and the like).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Decide a call. Pure and total: never fails, never panics.
    pub fn evaluate(&self, call: &ToolCall, ctx: &CallContext) -> Decision {
        evaluate::evaluate(&self.compiled, &self.settings, call, ctx)
    }

    /// Decide an exec call whose command line the caller has already analysed
    /// (`None` for other calls): saves a second parse in callers that show the analysis.
    pub fn evaluate_analyzed(
        &self,
        call: &ToolCall,
        ctx: &CallContext,
        analysis: Option<&gatehouse_shell::Analysis>,
    ) -> Decision {
        evaluate::evaluate_analyzed(&self.compiled, &self.settings, call, ctx, analysis)
    }

    /// Run the policy file's own `tests:`.
    pub fn run_tests(&self) -> Vec<TestOutcome> {
        policy_tests::run(self, &self.tests)
    }

    /// Number of `tests:` in the policy file.
    pub fn test_count(&self) -> usize {
        self.tests.len()
    }
}
