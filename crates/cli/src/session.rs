//! Session identity for `session:` rules: `GATEHOUSE_SESSION`, else
//! `repo/branch` from git, else the host's session id.
//!
//! Git is read from files, never by running `git` (a subprocess would cost
//! more than the whole hook): walk up from the cwd to `.git`, follow a
//! `.git` file to a worktree's gitdir, read `HEAD`.

use std::path::{Path, PathBuf};

/// How far up the tree to look for `.git` before giving up.
const MAX_DEPTH: usize = 64;

/// The session identity. `env_session` is `GATEHOUSE_SESSION` (the caller
/// reads the environment); empty values count as unset.
pub fn identity(
    env_session: Option<&str>,
    cwd: Option<&Path>,
    host_session: Option<&str>,
) -> Option<String> {
    if let Some(s) = env_session.map(str::trim).filter(|s| !s.is_empty()) {
        return Some(s.to_owned());
    }
    if let Some(id) = cwd.and_then(git_identity) {
        return Some(id);
    }
    host_session.filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `repo/branch` of the git work tree containing `cwd`. A detached HEAD
/// gives `repo/<first 12 hex digits>`. In a linked worktree, `repo` is the
/// main repository's directory name, so every worktree of `myapp` is `myapp/...`.
pub fn git_identity(cwd: &Path) -> Option<String> {
    let (top, git_dir) = find_git_dir(cwd)?;
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let branch = match head.strip_prefix("ref:") {
        Some(r) => {
            let r = r.trim();
            r.strip_prefix("refs/heads/").unwrap_or(r).to_owned()
        }
        None if head.len() >= 12 && head.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head.get(..12)?.to_owned()
        }
        None => return None,
    };
    let repo_dir = main_repo_dir(&git_dir).unwrap_or(top);
    let repo = repo_dir.file_name()?.to_str()?.to_owned();
    Some(format!("{repo}/{branch}"))
}

/// The work tree's top directory and its git dir, following a `.git` file
/// (`gitdir: <path>`, as in worktrees and submodules).
fn find_git_dir(start: &Path) -> Option<(PathBuf, PathBuf)> {
    let mut dir = Some(start);
    for _ in 0..MAX_DEPTH {
        let d = dir?;
        let dot_git = d.join(".git");
        if let Ok(meta) = std::fs::metadata(&dot_git) {
            if meta.is_dir() {
                return Some((d.to_path_buf(), dot_git));
            }
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
            let target = Path::new(target);
            let git_dir = if target.is_absolute() {
                target.to_path_buf()
            } else {
                d.join(target)
            };
            return Some((d.to_path_buf(), git_dir));
        }
        dir = d.parent();
    }
    None
}

/// For a linked worktree's gitdir (`<main>/.git/worktrees/<name>`, with a
/// `commondir` file), the main repository's top directory.
fn main_repo_dir(git_dir: &Path) -> Option<PathBuf> {
    let common = std::fs::read_to_string(git_dir.join("commondir")).ok()?;
    let common = Path::new(common.trim());
    let common = if common.is_absolute() {
        common.to_path_buf()
    } else {
        git_dir.join(common)
    };
    let common = normalize(&common);
    // `<main>/.git` -> `<main>`; a bare repository has no work tree name to offer.
    (common.file_name()? == ".git").then(|| common.parent().map(Path::to_path_buf))?
}

/// Resolves `.` and `..` lexically (no I/O, no symlinks).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(p: &Path, s: &str) {
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).expect("mkdir");
        }
        fs::write(p, s).expect("write");
    }

    #[test]
    fn env_wins_then_git_then_host() {
        let tmp = tempfile::tempdir().expect("tmp");
        let repo = tmp.path().join("myapp");
        write(&repo.join(".git/HEAD"), "ref: refs/heads/feature/x\n");
        let sub = repo.join("src/deep");
        fs::create_dir_all(&sub).expect("mkdir");
        assert_eq!(
            identity(Some("pinned"), Some(&sub), Some("h")).as_deref(),
            Some("pinned")
        );
        assert_eq!(
            identity(Some("  "), Some(&sub), Some("h")).as_deref(),
            Some("myapp/feature/x")
        );
        let outside = tmp.path().join("elsewhere");
        fs::create_dir_all(&outside).expect("mkdir");
        assert_eq!(
            identity(None, Some(&outside), Some("h")).as_deref(),
            Some("h")
        );
        assert_eq!(identity(None, None, None), None);
    }

    #[test]
    fn detached_head_gives_short_hash() {
        let tmp = tempfile::tempdir().expect("tmp");
        let repo = tmp.path().join("r");
        write(
            &repo.join(".git/HEAD"),
            "0123456789abcdef0123456789abcdef01234567\n",
        );
        assert_eq!(git_identity(&repo).as_deref(), Some("r/0123456789ab"));
    }

    #[test]
    fn linked_worktree_is_named_after_the_main_repository() {
        let tmp = tempfile::tempdir().expect("tmp");
        let main = tmp.path().join("myapp");
        write(&main.join(".git/HEAD"), "ref: refs/heads/main\n");
        let wt_git = main.join(".git/worktrees/hotfix");
        write(&wt_git.join("HEAD"), "ref: refs/heads/hotfix\n");
        write(&wt_git.join("commondir"), "../..\n");
        let wt = tmp.path().join("myapp-hotfix");
        write(&wt.join(".git"), &format!("gitdir: {}\n", wt_git.display()));
        assert_eq!(git_identity(&wt).as_deref(), Some("myapp/hotfix"));
        assert_eq!(git_identity(&main).as_deref(), Some("myapp/main"));
    }

    #[test]
    fn garbage_head_is_no_identity() {
        let tmp = tempfile::tempdir().expect("tmp");
        write(&tmp.path().join("r/.git/HEAD"), "nonsense");
        assert_eq!(git_identity(&tmp.path().join("r")), None);
    }
}
