//! End-to-end for the Streamable HTTP front: the Python MCP SDK's streamable
//! HTTP client -> `gatehouse mcp --listen … --upstream …` -> the fixture
//! server (same SDK) serving Streamable HTTP.

#[path = "mcp_common.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{call_text, fixture, gatehouse, run_with_timeout};
use serde_json::{Value, json};

/// Kills a background process when the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How the front reaches the fixture server.
#[derive(Clone, Copy)]
enum Upstream {
    Http,
    /// Over TLS; `trusted` says whether the front is given the server's certificate.
    Https {
        trusted: bool,
    },
}

struct Scene {
    _tmp: tempfile::TempDir,
    notes: PathBuf,
    py: PathBuf,
    _server: Killed,
    _front: Killed,
    /// The front's MCP endpoint.
    url: String,
}

impl Scene {
    fn start() -> Option<Scene> {
        Scene::start_with(Upstream::Http)
    }

    fn start_with(mode: Upstream) -> Option<Scene> {
        let py = common::python()?;
        let tmp = tempfile::tempdir().expect("temp dir");
        let notes = tmp.path().join("notes");
        std::fs::create_dir_all(&notes).expect("notes dir");
        let (server, upstream, trust) = match mode {
            Upstream::Http => {
                let (server, url) = common::http_fixture_server(&py, &notes);
                (server, url, None)
            }
            Upstream::Https { trusted } => {
                let (server, url, cert) = common::https_fixture_server(&py, &notes, tmp.path());
                // An untrusted run gets an empty trust store, not the machine's.
                let store = if trusted {
                    cert
                } else {
                    tmp.path().join("no-roots.pem")
                };
                (server, url, Some(store))
            }
        };
        let server = Killed(server);
        let mut front = Command::new(gatehouse());
        if let Some(store) = trust {
            front.env("SSL_CERT_FILE", store);
        }
        let mut front = front
            .args(["mcp", "--name", "fx", "--policy"])
            .arg(fixture("policy.yaml"))
            .args(["--listen", "127.0.0.1:0", "--upstream"])
            .arg(&upstream)
            .env("GATEHOUSE_HOME", tmp.path().join("home"))
            .env_remove("GATEHOUSE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gatehouse mcp --listen");
        let stderr = front.stderr.take().expect("stderr");
        let front = Killed(front);
        let url = common::front_url(stderr);
        Some(Scene {
            _tmp: tmp,
            notes,
            py,
            _server: server,
            _front: front,
            url,
        })
    }

    /// Runs the client's steps, whatever comes of them.
    fn try_run(&self, steps: &Value) -> common::ClientRun {
        let mut cmd = Command::new(&self.py);
        cmd.arg(fixture("client.py"))
            .arg(steps.to_string())
            .args(["--url", &self.url])
            .stdin(Stdio::null());
        run_with_timeout(cmd, Duration::from_secs(60))
    }

    fn run(&self, steps: Value) -> Vec<Value> {
        let run = self.try_run(&steps);
        assert!(run.ok, "client failed: {}", run.stderr);
        assert_eq!(
            run.results.len(),
            steps.as_array().map_or(0, Vec::len),
            "{}",
            run.stderr
        );
        run.results
    }
}

#[test]
fn http_front_forwards_allowed_calls_and_answers_denied_ones() {
    let Some(scene) = Scene::start() else { return };
    std::fs::write(scene.notes.join("keep.txt"), "precious").expect("seed");
    let results = scene.run(json!([
        {"op":"list"},
        {"op":"call","tool":"echo","args":{"text":"over http"}},
        {"op":"call","tool":"delete_all"},
        {"op":"call","tool":"write_note","args":{"title":"plain","body":"ok"}}
    ]));
    assert_eq!(
        results[0]["tools"],
        json!(["echo", "write_note", "purge_cache", "crash"])
    );
    assert_eq!(results[1], json!({"isError": false, "text": "over http"}));
    assert_eq!(results[2]["isError"], json!(true));
    assert!(call_text(&results[2]).contains("Deleting every note is not allowed"));
    assert!(
        scene.notes.join("keep.txt").is_file(),
        "delete_all must not reach the server"
    );
    assert_eq!(call_text(&results[3]), "wrote plain");
    assert!(scene.notes.join("plain.txt").is_file());
}

#[test]
fn http_front_reaches_an_https_upstream_and_verifies_its_certificate() {
    let Some(scene) = Scene::start_with(Upstream::Https { trusted: true }) else {
        return;
    };
    let results = scene.run(json!([
        {"op":"call","tool":"echo","args":{"text":"over tls"}},
        {"op":"call","tool":"delete_all"}
    ]));
    assert_eq!(results[0], json!({"isError": false, "text": "over tls"}));
    assert!(call_text(&results[1]).contains("Deleting every note is not allowed"));

    // The same server with a certificate the front does not trust: nothing is forwarded.
    let Some(untrusted) = Scene::start_with(Upstream::Https { trusted: false }) else {
        return;
    };
    let run = untrusted.try_run(&json!([
        {"op":"call","tool":"write_note","args":{"title":"leak","body":"x"}}
    ]));
    assert!(
        !untrusted.notes.join("leak.txt").exists(),
        "an unverified upstream must not receive the call: {:?}",
        run.results
    );
    assert!(
        !run.ok || run.results.iter().all(|r| r["text"] != "wrote leak"),
        "the call must not succeed: {:?}",
        run.results
    );
}

#[test]
fn http_front_holds_asks_and_follows_headless_deny_without_a_daemon() {
    let Some(scene) = Scene::start() else { return };
    let results = scene.run(json!([
        {"op":"list"},
        {"op":"call","tool":"write_note","args":{"title":"secret-x","body":"b"},"progress":true},
        {"op":"call","tool":"purge_cache"}
    ]));
    assert_eq!(results[1]["isError"], json!(true), "{results:?}");
    assert!(
        call_text(&results[1]).contains("no approval daemon"),
        "{results:?}"
    );
    assert!(!scene.notes.join("secret-x.txt").exists());
    // destructiveHint learnt from this session's tools/list makes purge_cache an ask.
    assert_eq!(results[2]["isError"], json!(true), "{results:?}");
}
