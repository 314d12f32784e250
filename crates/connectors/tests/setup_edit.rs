//! Editing hosts' hook configuration: install, idempotent re-install, foreign
//! hooks and settings kept in order, exact removal.

use gatehouse_connectors::Host;
use gatehouse_connectors::setup::{HookCommand, install, is_empty_config, is_ours, remove};

fn cmd() -> HookCommand {
    HookCommand {
        program: "/opt/bin/gatehouse".into(),
        extra_args: String::new(),
        deadline_secs: 290,
        timeout_secs: 300,
    }
}

const USER_SETTINGS: &str = r#"{
  "model": "opus",
  "permissions": { "allow": ["Bash(ls:*)"] },
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [ { "type": "command", "command": "~/bin/guard.sh" } ] }
    ],
    "Stop": [ { "hooks": [ { "type": "command", "command": "say done" } ] } ]
  },
  "alwaysThinkingEnabled": true
}"#;

#[test]
fn claude_code_install_adds_three_hooks_with_timeout_and_on_failure_block() {
    let out = install(Host::ClaudeCode, "settings.json", None, &cmd()).expect("installs");
    assert_eq!(
        out,
        r#"{
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "*",
        "hooks": [
          {
            "type": "command",
            "command": "/opt/bin/gatehouse hook claude-code --deadline-secs 290",
            "timeout": 300,
            "onFailure": "block"
          }
        ]
      }
    ],
    "PermissionRequest": [
      {
        "matcher": "*",
        "hooks": [
          {
            "type": "command",
            "command": "/opt/bin/gatehouse hook claude-code --deadline-secs 290",
            "timeout": 300,
            "onFailure": "block"
          }
        ]
      }
    ],
    "PostToolUse": [
      {
        "matcher": "*",
        "hooks": [
          {
            "type": "command",
            "command": "/opt/bin/gatehouse hook claude-code --deadline-secs 290",
            "timeout": 300
          }
        ]
      }
    ]
  }
}
"#
    );
}

#[test]
fn install_keeps_foreign_settings_and_hooks_in_order_and_is_idempotent() {
    for host in Host::ALL {
        let once = install(host, "f.json", Some(USER_SETTINGS), &cmd()).expect("installs");
        let twice = install(host, "f.json", Some(&once), &cmd()).expect("re-installs");
        assert_eq!(once, twice, "{host}: second install changed the file");
        let v: serde_json::Value = serde_json::from_str(&once).expect("valid JSON");
        assert_eq!(v["model"], "opus", "{host}");
        assert_eq!(v["permissions"]["allow"][0], "Bash(ls:*)", "{host}");
        assert_eq!(
            v["hooks"]["Stop"][0]["hooks"][0]["command"], "say done",
            "{host}"
        );
        assert_eq!(
            v["hooks"]["PreToolUse"][0]["hooks"][0]["command"], "~/bin/guard.sh",
            "{host}"
        );
        // Key order of the user's file survives.
        let pos = |k: &str| once.find(k).expect(k);
        assert!(
            pos("\"model\"") < pos("\"permissions\"")
                && pos("\"hooks\"") < pos("\"alwaysThinkingEnabled\"")
        );
    }
}

#[test]
fn remove_takes_exactly_ours_out_again() {
    for host in Host::ALL {
        let installed = install(host, "f.json", Some(USER_SETTINGS), &cmd()).expect("installs");
        let removed = remove(host, "f.json", &installed)
            .expect("removes")
            .expect("something was ours");
        let original: serde_json::Value = serde_json::from_str(USER_SETTINGS).expect("json");
        let mut after: serde_json::Value = serde_json::from_str(&removed).expect("json");
        if matches!(host, Host::Cursor | Host::Copilot) {
            // The flat layouts' `version: 1` stays: harmless, and the host's.
            after.as_object_mut().expect("object").remove("version");
        }
        assert_eq!(after, original, "{host}");
        assert_eq!(
            remove(host, "f.json", &removed).expect("ok"),
            None,
            "{host}: nothing left to remove"
        );
    }
}

#[test]
fn reinstall_with_a_moved_binary_replaces_ours_in_place_of_a_duplicate() {
    let old = install(Host::ClaudeCode, "f", None, &cmd()).expect("installs");
    let moved = HookCommand {
        program: "/usr/local/bin/gatehouse".into(),
        ..cmd()
    };
    let new = install(Host::ClaudeCode, "f", Some(&old), &moved).expect("re-installs");
    assert_eq!(new.matches("hook claude-code").count(), 3);
    assert!(!new.contains("/opt/bin/gatehouse"));
}

#[test]
fn other_hosts_get_their_own_shapes() {
    let gem = install(Host::Gemini, "s", None, &cmd()).expect("gemini");
    let v: serde_json::Value = serde_json::from_str(&gem).expect("json");
    assert_eq!(v["hooks"]["BeforeTool"][0]["matcher"], ".*");
    assert_eq!(v["hooks"]["BeforeTool"][0]["hooks"][0]["timeout"], 300_000);
    let cur = install(Host::Cursor, "h", None, &cmd()).expect("cursor");
    let v: serde_json::Value = serde_json::from_str(&cur).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["hooks"]["beforeShellExecution"][0]["command"],
        "/opt/bin/gatehouse hook cursor --deadline-secs 290"
    );
    let cop = install(Host::Copilot, "g", None, &cmd()).expect("copilot");
    let v: serde_json::Value = serde_json::from_str(&cop).expect("json");
    assert_eq!(
        v["hooks"]["preToolUse"][0]["bash"],
        "/opt/bin/gatehouse hook copilot --event preToolUse --deadline-secs 290"
    );
    assert_eq!(v["hooks"]["preToolUse"][0]["timeoutSec"], 300);
    let removed = remove(Host::Copilot, "g", &cop).expect("ok").expect("ours");
    assert!(is_empty_config(&removed));
    let codex = install(Host::Codex, "c", None, &cmd()).expect("codex");
    let v: serde_json::Value = serde_json::from_str(&codex).expect("json");
    assert!(v["hooks"]["PreToolUse"][0].get("matcher").is_none());
}

#[test]
fn ours_is_recognised_by_command_not_by_accident() {
    assert!(is_ours(
        Host::ClaudeCode,
        "/x/gatehouse hook claude-code --deadline-secs 5"
    ));
    assert!(is_ours(
        Host::ClaudeCode,
        "'/my dir/gatehouse' hook claude-code"
    ));
    assert!(!is_ours(Host::ClaudeCode, "/x/gatehouse hook claude-codex"));
    assert!(!is_ours(Host::ClaudeCode, "/x/gatehouse hook codex"));
    assert!(!is_ours(
        Host::ClaudeCode,
        "~/bin/guard.sh hook claude-code"
    ));
}

#[test]
fn unusable_files_are_errors_and_nothing_is_guessed() {
    assert!(install(Host::ClaudeCode, "f", Some("{not json"), &cmd()).is_err());
    assert!(install(Host::ClaudeCode, "f", Some("[1]"), &cmd()).is_err());
    assert!(install(Host::ClaudeCode, "f", Some(r#"{"hooks": []}"#), &cmd()).is_err());
    assert!(
        install(
            Host::ClaudeCode,
            "f",
            Some(r#"{"hooks": {"PreToolUse": {}}}"#),
            &cmd()
        )
        .is_err()
    );
    let err = install(Host::ClaudeCode, "f", Some("{\n  \"a\": 1,\n}"), &cmd())
        .expect_err("trailing comma");
    assert!(err.to_string().contains("line 3"), "{err}");
}
