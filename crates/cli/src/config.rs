//! Where things live: the data dir, the config dir, which policy is in force.
//! The only module that reads environment variables for paths.

use std::path::{Path, PathBuf};

use anyhow::Context;
use gatehouse_policy::Policy;

/// The data dir: `--data-dir`, else `GATEHOUSE_HOME`, else `$XDG_DATA_HOME/gatehouse`.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("GATEHOUSE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("gatehouse")
}

/// The user's policy file in the config dir (`$XDG_CONFIG_HOME/gatehouse/policy.yaml`).
pub fn user_policy_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("gatehouse").join("policy.yaml"))
}

/// Which policy file is in force: `--policy`, else `GATEHOUSE_POLICY`, else
/// the user's policy file if it exists; `None` means the bundled policy.
pub fn policy_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("GATEHOUSE_POLICY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    user_policy_path().filter(|p| p.is_file())
}

/// Load the policy in force. A named file that cannot be read or parsed is an
/// error (callers that gate must turn it into a deny), never a silent fallback.
pub fn load_policy(flag: Option<&Path>) -> anyhow::Result<Policy> {
    load_policy_with(flag, Policy::load)
}

/// [`load_policy`] through the compiled policy cache in `data_dir`: for a
/// process per call (the hook), which would otherwise parse the same text each time.
pub fn load_policy_cached(flag: Option<&Path>, data_dir: &Path) -> anyhow::Result<Policy> {
    let dir = crate::policy_cache::dir_in(data_dir);
    load_policy_with(flag, |text, origin| {
        crate::policy_cache::load(text, origin, &dir)
    })
}

fn load_policy_with(
    flag: Option<&Path>,
    load: impl FnOnce(&str, &str) -> Result<Policy, gatehouse_policy::PolicyError>,
) -> anyhow::Result<Policy> {
    match policy_path(flag) {
        None => Ok(Policy::bundled()),
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read policy file {}", path.display()))?;
            Ok(load(&text, &path.display().to_string())?)
        }
    }
}
