//! `gatehouse policy lint|test|schema`.

use std::path::PathBuf;

use anyhow::Context;
use gatehouse_policy::Policy;
use gatehouse_policy::diag::Level;
use gatehouse_policy::policy_tests::{self, TestOutcome};

use crate::exit::Exit;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file: errors (exit 1) and warnings, each as file:line:col.
    Lint {
        /// The policy file.
        file: PathBuf,
    },
    /// Run a policy file's `tests:` (without FILE: the bundled packs' tests).
    Test {
        /// The policy file.
        file: Option<PathBuf>,
    },
    /// Print the JSON Schema of the policy format.
    Schema,
}

pub fn run(command: PolicyCommand) -> anyhow::Result<Exit> {
    match command {
        PolicyCommand::Lint { file } => lint(&file),
        PolicyCommand::Test { file } => test(file.as_deref()),
        PolicyCommand::Schema => {
            print!("{}", gatehouse_policy::schema::schema_json());
            Ok(Exit::Ok)
        }
    }
}

fn read(file: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file)
        .with_context(|| format!("cannot read policy file {}", file.display()))
}

fn lint(file: &std::path::Path) -> anyhow::Result<Exit> {
    let text = read(file)?;
    let origin = file.display().to_string();
    let diags = gatehouse_policy::lint::lint(&text, &origin);
    for d in &diags {
        println!("{}", d.render(&origin));
    }
    let errors = diags.iter().filter(|d| d.level == Level::Error).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        eprintln!("{origin}: {errors} error(s), {warnings} warning(s)");
        Ok(Exit::Failed)
    } else {
        eprintln!("{origin}: ok, {warnings} warning(s)");
        Ok(Exit::Ok)
    }
}

fn report(origin: &str, outcomes: &[TestOutcome]) -> usize {
    let mut failed = 0;
    for o in outcomes {
        if !o.passed {
            failed += 1;
            println!("{}", o.describe_failure(origin));
        }
    }
    println!(
        "{origin}: {} passed, {failed} failed",
        outcomes.len() - failed
    );
    failed
}

fn test(file: Option<&std::path::Path>) -> anyhow::Result<Exit> {
    let (failed, total) = match file {
        Some(file) => {
            let text = read(file)?;
            let origin = file.display().to_string();
            let policy = Policy::load(&text, &origin)?;
            if policy.test_count() == 0 {
                eprintln!("{origin}: no tests: add a `tests:` list");
            }
            let outcomes = policy.run_tests();
            (report(&origin, &outcomes), outcomes.len())
        }
        None => {
            let mut failed = 0;
            let mut total = 0;
            for pack in policy_tests::run_bundled()? {
                failed += report(&format!("bundled:{}", pack.name), &pack.outcomes);
                total += pack.outcomes.len();
            }
            (failed, total)
        }
    };
    println!("{} passed, {failed} failed", total - failed);
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}
