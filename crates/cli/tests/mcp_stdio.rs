//! End-to-end: the official Python MCP SDK as the client, `gatehouse mcp` in
//! the middle, and real servers behind it (tests/mcp/server.py, written with
//! the same SDK, and `@modelcontextprotocol/server-filesystem` from npm).

#[path = "mcp_common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::{call_text, fixture, proxied, run_client};
use serde_json::json;

/// A scratch dir with a notes dir and the data dir, and the fixture server's argv.
struct Scene {
    _tmp: tempfile::TempDir,
    notes: PathBuf,
    home: PathBuf,
    py: PathBuf,
}

impl Scene {
    fn new() -> Option<Scene> {
        let py = common::python()?;
        let tmp = tempfile::tempdir().expect("temp dir");
        let notes = tmp.path().join("notes");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&notes).expect("notes dir");
        std::fs::create_dir_all(&home).expect("home dir");
        Some(Scene {
            _tmp: tmp,
            notes,
            home,
            py,
        })
    }

    fn server(&self) -> Vec<String> {
        vec![
            self.py.display().to_string(),
            fixture("server.py").display().to_string(),
        ]
    }

    fn run(&self, policy: &Path, extra: &[&str], steps: serde_json::Value) -> common::ClientRun {
        let argv = proxied("fx", policy, extra, &self.server());
        let run = run_client(
            &self.py,
            &steps,
            &argv,
            &[("NOTES_DIR", &self.notes), ("GATEHOUSE_HOME", &self.home)],
        );
        assert!(run.ok, "client failed: {}", run.stderr);
        assert_eq!(
            run.results.len(),
            steps.as_array().map_or(0, Vec::len),
            "one result per step; stderr: {}",
            run.stderr
        );
        run
    }
}

fn policy() -> PathBuf {
    fixture("policy.yaml")
}

#[test]
fn allowed_call_returns_the_servers_result() {
    let Some(scene) = Scene::new() else { return };
    let run = scene.run(
        &policy(),
        &[],
        json!([
            {"op":"call","tool":"echo","args":{"text":"hello through gatehouse"}},
            {"op":"call","tool":"write_note","args":{"title":"todo","body":"buy milk"}}
        ]),
    );
    assert_eq!(
        run.results[0],
        json!({"isError": false, "text": "hello through gatehouse"})
    );
    assert_eq!(call_text(&run.results[1]), "wrote todo");
    let note = std::fs::read_to_string(scene.notes.join("todo.txt")).expect("note written");
    assert_eq!(note, "buy milk");
}

#[test]
fn denied_call_returns_a_tool_error_with_the_reason_and_never_reaches_the_server() {
    let Some(scene) = Scene::new() else { return };
    std::fs::write(scene.notes.join("keep.txt"), "precious").expect("seed note");
    let run = scene.run(&policy(), &[], json!([{"op":"call","tool":"delete_all"}]));
    assert_eq!(run.results[0]["isError"], json!(true), "{:?}", run.results);
    let text = call_text(&run.results[0]);
    assert!(
        text.contains("Deleting every note is not allowed"),
        "{text}"
    );
    assert!(text.contains("mcp__fx__delete_all"), "{text}");
    assert!(
        scene.notes.join("keep.txt").is_file(),
        "the server must not have run delete_all"
    );
}

#[test]
fn tools_list_hides_denied_tools_unless_asked_to_show_them() {
    let Some(scene) = Scene::new() else { return };
    let hidden = scene.run(&policy(), &[], json!([{"op":"list"}]));
    let names = &hidden.results[0]["tools"];
    assert_eq!(
        names,
        &json!(["echo", "write_note", "purge_cache", "crash"])
    );
    // Annotations still reach the client unchanged.
    assert_eq!(
        hidden.results[0]["annotations"]["purge_cache"],
        json!({"read_only_hint": true, "destructive_hint": true})
    );
    let shown = scene.run(&policy(), &["--show-denied-tools"], json!([{"op":"list"}]));
    assert_eq!(
        shown.results[0]["tools"],
        json!(["echo", "write_note", "delete_all", "purge_cache", "crash"])
    );
}

#[test]
fn asked_call_without_a_daemon_follows_headless_deny() {
    let Some(scene) = Scene::new() else { return };
    let run = scene.run(
        &policy(),
        &[],
        json!([{"op":"call","tool":"write_note","args":{"title":"secret-plan","body":"x"},"progress":true}]),
    );
    assert_eq!(run.results[0]["isError"], json!(true), "{:?}", run.results);
    let text = call_text(&run.results[0]);
    assert!(text.contains("needs approval"), "{text}");
    assert!(text.contains("headless"), "{text}");
    assert!(
        !scene.notes.join("secret-plan.txt").exists(),
        "held call must not run"
    );
}

#[test]
fn annotations_make_a_decision_stricter() {
    let Some(scene) = Scene::new() else { return };
    // tools/list first, so the proxy has seen purge_cache's destructiveHint.
    let run = scene.run(
        &policy(),
        &[],
        json!([{"op":"list"}, {"op":"call","tool":"purge_cache"}]),
    );
    assert_eq!(run.results[1]["isError"], json!(true), "{:?}", run.results);
    assert!(call_text(&run.results[1]).contains("needs approval"));
}

#[test]
fn read_only_hint_never_loosens_a_decision() {
    let Some(scene) = Scene::new() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let strict = dir.path().join("strict.yaml");
    std::fs::write(
        &strict,
        "version: 1\ndefault: deny\nrules:\n  - name: trust-read-only\n    match:\n      tool: mcp__fx__purge_cache\n      args: { _annotations.readOnlyHint: true }\n    action: allow\n",
    )
    .expect("policy");
    let run = scene.run(
        &strict,
        &["--show-denied-tools"],
        json!([{"op":"list"}, {"op":"call","tool":"purge_cache"}]),
    );
    assert_eq!(run.results[1]["isError"], json!(true), "{:?}", run.results);
}

#[test]
fn unloadable_policy_denies_every_call_with_the_reason() {
    let Some(scene) = Scene::new() else { return };
    let run = scene.run(
        Path::new("/nonexistent/gatehouse-policy.yaml"),
        &[],
        json!([{"op":"call","tool":"echo","args":{"text":"hi"}}]),
    );
    assert_eq!(run.results[0]["isError"], json!(true));
    assert!(call_text(&run.results[0]).contains("cannot be loaded"));
}

#[test]
fn upstream_exit_fails_the_pending_call_and_stops_the_proxy_cleanly() {
    let Some(scene) = Scene::new() else { return };
    let argv = proxied("fx", &policy(), &[], &scene.server());
    let run = run_client(
        &scene.py,
        &json!([{"op":"call","tool":"crash","timeout":20}]),
        &argv,
        &[("NOTES_DIR", &scene.notes), ("GATEHOUSE_HOME", &scene.home)],
    );
    let outcome = run.results.first().cloned().unwrap_or_default();
    let error = outcome["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("upstream MCP server exited"),
        "{outcome} / {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("gatehouse mcp: the MCP server") && run.stderr.contains("exited"),
        "{}",
        run.stderr
    );
}

#[test]
fn filesystem_server_from_npm_allowed_read_and_denied_write() {
    let Some(scene) = Scene::new() else { return };
    let Some(fs_entry) = common::filesystem_server() else {
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let root_path = root.path().canonicalize().expect("canonical root");
    std::fs::create_dir_all(root_path.join("protected")).expect("dir");
    std::fs::write(root_path.join("readme.txt"), "hello from disk").expect("file");
    let server = vec![
        "node".to_owned(),
        fs_entry.display().to_string(),
        root_path.display().to_string(),
    ];
    let argv = proxied("files", &policy(), &[], &server);
    let target = root_path.join("protected/new.txt");
    let run = run_client(
        &scene.py,
        &json!([
            {"op":"call","tool":"read_text_file","args":{"path": root_path.join("readme.txt")}},
            {"op":"call","tool":"write_file","args":{"path": target, "content":"nope"}},
            {"op":"call","tool":"write_file","args":{"path": root_path.join("ok.txt"), "content":"yes"}}
        ]),
        &argv,
        &[("GATEHOUSE_HOME", &scene.home)],
    );
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.results.len(), 3, "{}", run.stderr);
    assert!(
        call_text(&run.results[0]).contains("hello from disk"),
        "{:?}",
        run.results
    );
    assert_eq!(run.results[1]["isError"], json!(true));
    assert!(call_text(&run.results[1]).contains("Files under protected/ are read-only"));
    assert!(!target.exists(), "denied write must not happen");
    assert_eq!(run.results[2]["isError"], json!(false), "{:?}", run.results);
    assert_eq!(
        std::fs::read_to_string(root_path.join("ok.txt"))
            .ok()
            .as_deref(),
        Some("yes")
    );
}
