//! `gatehouse setup` on temporary HOME and project dirs: install, idempotent
//! re-install, foreign hooks kept, backup, `--remove`, `--dry-run`, scopes.

#[path = "hook_support.rs"]
mod support;

use std::path::Path;

use support::Sandbox;

const FOREIGN: &str = r#"{
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [ { "type": "command", "command": "~/bin/guard.sh" } ] }
    ]
  },
  "env": { "A": "1" }
}
"#;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn backups(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".gatehouse-backup-"))
        .collect();
    v.sort();
    v
}

#[test]
fn claude_code_user_scope_install_is_idempotent_keeps_foreign_hooks_and_removes_cleanly() {
    let sb = Sandbox::new();
    let dir = sb.path().join("home/.claude");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let settings = dir.join("settings.json");
    std::fs::write(&settings, FOREIGN).expect("write");

    let run = sb.run(&["setup", "claude-code"], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(&format!(
            "installed gatehouse hooks in {} (backup: ",
            settings.display()
        )),
        "{}",
        run.stdout
    );
    let installed = read(&settings);
    let v: serde_json::Value = serde_json::from_str(&installed).expect("json");
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_gatehouse")).expect("exe");
    for event in ["PreToolUse", "PermissionRequest", "PostToolUse"] {
        let ours = v["hooks"][event]
            .as_array()
            .expect("list")
            .iter()
            .flat_map(|g| g["hooks"].as_array().cloned().unwrap_or_default())
            .find(|h| {
                h["command"]
                    .as_str()
                    .is_some_and(|c| c.contains(" hook claude-code"))
            })
            .unwrap_or_else(|| panic!("no gatehouse hook on {event}"));
        assert_eq!(
            ours["command"],
            format!("{} hook claude-code --deadline-secs 290", exe.display())
        );
        assert_eq!(ours["timeout"], 300);
        let gate = event != "PostToolUse";
        assert_eq!(
            ours.get("onFailure").and_then(|v| v.as_str()),
            gate.then_some("block"),
            "{event}"
        );
    }
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "~/bin/guard.sh"
    );
    assert_eq!(v["model"], "opus");
    assert_eq!(v["env"]["A"], "1");
    assert_eq!(backups(&dir).len(), 1);
    assert_eq!(
        read(&dir.join(&backups(&dir)[0])),
        FOREIGN,
        "backup holds the original"
    );

    // Twice changes nothing (and makes no new backup).
    let run = sb.run(&["setup", "claude-code"], b"", &[]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("already installed"), "{}", run.stdout);
    assert_eq!(read(&settings), installed);
    assert_eq!(backups(&dir).len(), 1);

    // --remove takes exactly ours out.
    let run = sb.run(&["setup", "claude-code", "--remove"], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("removed gatehouse hooks from"),
        "{}",
        run.stdout
    );
    let after: serde_json::Value = serde_json::from_str(&read(&settings)).expect("json");
    let before: serde_json::Value = serde_json::from_str(FOREIGN).expect("json");
    assert_eq!(after, before);
    let run = sb.run(&["setup", "claude-code", "--remove"], b"", &[]);
    assert!(run.stdout.contains("nothing to remove"), "{}", run.stdout);
}

#[test]
fn dry_run_prints_the_new_file_and_writes_nothing() {
    let sb = Sandbox::new();
    let run = sb.run(&["setup", "claude-code", "--dry-run"], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let settings = sb.path().join("home/.claude/settings.json");
    assert!(
        run.stdout.starts_with(&format!(
            "would write {}:\n{{\n  \"hooks\": {{\n    \"PreToolUse\": [",
            settings.display()
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\"onFailure\": \"block\""));
    assert!(!settings.exists());
}

#[test]
fn project_and_local_scopes_write_into_the_project() {
    let sb = Sandbox::new();
    let run = sb.run(&["setup", "claude-code", "--scope", "project"], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(sb.path().join(".claude/settings.json").exists());
    let run = sb.run(&["setup", "claude-code", "--scope", "local"], b"", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(sb.path().join(".claude/settings.local.json").exists());
    let run = sb.run(&["setup", "codex", "--scope", "local"], b"", &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("codex has no local scope"),
        "{}",
        run.stderr
    );
}

#[test]
fn pinned_policy_and_timeout_reach_the_command() {
    let sb = Sandbox::new();
    let run = sb.run(
        &[
            "setup",
            "claude-code",
            "--policy",
            "policy.yaml",
            "--timeout-secs",
            "60",
        ],
        b"",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = read(&sb.path().join("home/.claude/settings.json"));
    let policy = std::fs::canonicalize(sb.policy()).expect("policy");
    assert!(
        text.contains(&format!(
            "hook claude-code --deadline-secs 54 --policy {}",
            policy.display()
        )),
        "{text}"
    );
    assert!(text.contains("\"timeout\": 60"), "{text}");
}

#[test]
fn every_other_host_installs_and_removes_in_its_own_file() {
    let sb = Sandbox::new();
    let cases = [
        (
            "codex",
            sb.path().join("home/.codex/hooks.json"),
            "PreToolUse",
        ),
        (
            "gemini",
            sb.path().join("home/.gemini/settings.json"),
            "BeforeTool",
        ),
        (
            "cursor",
            sb.path().join("home/.cursor/hooks.json"),
            "beforeShellExecution",
        ),
        (
            "copilot",
            sb.path().join(".github/hooks/gatehouse.json"),
            "preToolUse",
        ),
    ];
    for (host, file, event) in cases {
        let run = sb.run(&["setup", host], b"", &[]);
        assert_eq!(run.code, 0, "{host}: {}", run.stderr);
        let text = read(&file);
        assert!(text.contains(&format!("\"{event}\"")), "{host}: {text}");
        assert!(text.contains(&format!(" hook {host}")), "{host}: {text}");
        let again = sb.run(&["setup", host], b"", &[]);
        assert!(
            again.stdout.contains("already installed"),
            "{host}: {}",
            again.stdout
        );
        let run = sb.run(&["setup", host, "--remove"], b"", &[]);
        assert_eq!(run.code, 0, "{host}: {}", run.stderr);
        if host == "copilot" {
            assert!(!file.exists(), "our own Copilot hooks file is deleted");
        } else {
            assert!(!read(&file).contains(" hook "), "{host}: {}", read(&file));
        }
    }
}

#[test]
fn a_broken_settings_file_is_left_alone() {
    let sb = Sandbox::new();
    let dir = sb.path().join("home/.claude");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("settings.json"), "{ \"a\": 1, }").expect("write");
    let run = sb.run(&["setup", "claude-code"], b"", &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is not valid JSON"), "{}", run.stderr);
    assert_eq!(read(&dir.join("settings.json")), "{ \"a\": 1, }");
    assert!(backups(&dir).is_empty());
}
