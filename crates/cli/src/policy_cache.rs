//! The compiled policy cache: a hook whose user policy is unchanged since it
//! last loaded skips the YAML parser and the load-time glob checks (for a
//! 1,000-rule policy, most of a 20 ms load; see BENCHMARKS.md).
//!
//! Entries live in `<data dir>/policy-cache/`, named by SHA-256 of the entry
//! format, this binary's identity (path, size, modification time: a rebuilt
//! or upgraded binary never reads another's entries) and the exact policy
//! text, so an edit to the policy is a miss by construction. Entries are
//! written atomically (temporary file, then rename) and best effort: failing
//! to read, decode or write one only costs the full load, never the decision.
//!
//! Trust: an entry says what the policy is, so the cache is as sensitive as
//! the policy file. It lives in the data dir, which already holds what hooks
//! trust (`daemon.json`, the audit log) and which the bundled gate pack
//! forbids agents to touch.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use gatehouse_policy::{Policy, PolicyError, cache};
use sha2::{Digest, Sha256};

/// Entries kept; older ones are removed when a new one is written.
const MAX_ENTRIES: usize = 16;

/// The cache dir inside a data dir.
pub fn dir_in(data_dir: &Path) -> PathBuf {
    data_dir.join("policy-cache")
}

/// Loads `text` through the cache in `dir`: the entry for this text if there
/// is a good one, else a full load that leaves an entry for next time.
pub fn load(text: &str, origin: &str, dir: &Path) -> Result<Policy, PolicyError> {
    let key = key(text);
    if let Some(key) = &key
        && let Ok(entry) = fs::read(dir.join(key))
        && let Some(policy) = Policy::load_cached(&entry, text, origin)
    {
        return Ok(policy);
    }
    let (policy, entry) = Policy::load_cacheable(text, origin)?;
    if let (Some(key), Some(entry)) = (key, entry) {
        // Best effort, as the module docs say.
        let _ = store(dir, &key, &entry);
    }
    Ok(policy)
}

/// The entry's file name, or `None` when this binary cannot name itself
/// (then nothing is cached).
fn key(text: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = fs::metadata(&exe).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    let mut h = Sha256::new();
    for part in [
        cache::FORMAT.as_bytes(),
        exe.as_os_str().as_encoded_bytes(),
        &meta.len().to_le_bytes(),
        &modified.as_nanos().to_le_bytes(),
        text.as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    Some(format!("{}.bin", hex::encode(h.finalize())))
}

fn store(dir: &Path, key: &str, entry: &[u8]) -> std::io::Result<()> {
    create_private_dir(dir)?;
    let tmp = dir.join(format!(".{key}.{}.tmp", std::process::id()));
    let written = create_private_file(&tmp).and_then(|mut f| f.write_all(entry));
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, dir.join(key))) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    prune(dir)
}

/// Keeps the newest [`MAX_ENTRIES`] entries.
fn prune(dir: &Path) -> std::io::Result<()> {
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bin"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if entries.len() <= MAX_ENTRIES {
        return Ok(());
    }
    entries.sort();
    for (_, path) in entries.iter().take(entries.len() - MAX_ENTRIES) {
        let _ = fs::remove_file(path);
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

/// Owner-only, like everything else in the data dir.
#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "version: 1\ndefault: allow\nrules:\n  - name: no-push\n    match: { command: \"git push *\" }\n    action: deny\n";

    fn decide(policy: &Policy, command: &str) -> gatehouse_core::Action {
        let call =
            gatehouse_core::ToolCall::infer("Bash", serde_json::json!({ "command": command }));
        policy
            .evaluate(&call, &gatehouse_core::CallContext::default())
            .action
    }

    #[test]
    fn a_second_load_comes_from_the_cache_and_decides_the_same() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = dir_in(tmp.path());
        let first = load(POLICY, "p.yaml", &dir).expect("loads");
        let entries: Vec<_> = fs::read_dir(&dir)
            .expect("cache dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(entries.len(), 1, "one entry written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&entries[0])
                .expect("entry")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "owner-only");
        }
        let second = load(POLICY, "p.yaml", &dir).expect("loads from the cache");
        for policy in [&first, &second] {
            assert_eq!(
                decide(policy, "git push origin main"),
                gatehouse_core::Action::Deny
            );
            assert_eq!(decide(policy, "git status"), gatehouse_core::Action::Allow);
            assert_eq!(policy.text(), POLICY);
        }
        // Proof that the second load read the entry: plant another policy's
        // entry under this text's name and the load follows the entry.
        let other = POLICY.replace("action: deny", "action: ask");
        let (_, planted) = Policy::load_cacheable(&other, "p.yaml").expect("loads");
        let name = key(POLICY).expect("key");
        fs::write(dir.join(name), planted.expect("entry")).expect("plant");
        let third = load(POLICY, "p.yaml", &dir).expect("loads");
        assert_eq!(decide(&third, "git push"), gatehouse_core::Action::Ask);
    }

    #[test]
    fn an_edited_policy_misses_and_a_corrupt_entry_is_ignored() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = dir_in(tmp.path());
        load(POLICY, "p.yaml", &dir).expect("loads");
        let key = key(POLICY).expect("key");
        fs::write(dir.join(&key), b"not an entry").expect("corrupt it");
        let policy = load(POLICY, "p.yaml", &dir).expect("falls back to a full load");
        assert_eq!(decide(&policy, "git push"), gatehouse_core::Action::Deny);
        let edited = POLICY.replace("action: deny", "action: allow");
        assert_ne!(key, self::key(&edited).expect("key"));
        let policy = load(&edited, "p.yaml", &dir).expect("loads");
        assert_eq!(decide(&policy, "git push"), gatehouse_core::Action::Allow);
    }

    #[test]
    fn a_broken_policy_is_an_error_and_leaves_no_entry() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = dir_in(tmp.path());
        let broken =
            "version: 1\nrules:\n  - name: x\n    match: { comand: ls }\n    action: deny\n";
        let err = load(broken, "p.yaml", &dir).expect_err("unknown match key");
        assert!(err.to_string().contains("comand"), "{err}");
        let bad_glob =
            "version: 1\nrules:\n  - name: x\n    match: { command: \"ls [\" }\n    action: deny\n";
        assert!(
            load(bad_glob, "p.yaml", &dir).is_err(),
            "a bad glob fails at load"
        );
        assert!(!dir.exists() || fs::read_dir(&dir).expect("dir").next().is_none());
    }

    #[test]
    fn the_cache_keeps_only_the_newest_entries() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = dir_in(tmp.path());
        for i in 0..MAX_ENTRIES + 4 {
            let text = POLICY.replace("no-push", &format!("no-push-{i}"));
            load(&text, "p.yaml", &dir).expect("loads");
        }
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), MAX_ENTRIES);
    }
}
