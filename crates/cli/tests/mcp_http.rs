//! End-to-end for the Streamable HTTP front: the Python MCP SDK's streamable
//! HTTP client -> `gatehouse mcp --listen … --upstream …` -> the fixture
//! server (same SDK) serving Streamable HTTP.

#[path = "mcp_common.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

struct Scene {
    _tmp: tempfile::TempDir,
    notes: PathBuf,
    py: PathBuf,
    _server: Killed,
    _front: Killed,
    /// The front's MCP endpoint.
    url: String,
}

/// A free loopback port (bound then released; the fixture server takes it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "fixture server did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Scene {
    fn start() -> Option<Scene> {
        let py = common::python()?;
        let tmp = tempfile::tempdir().expect("temp dir");
        let notes = tmp.path().join("notes");
        std::fs::create_dir_all(&notes).expect("notes dir");
        let port = free_port();
        let server = Command::new(&py)
            .arg(fixture("server.py"))
            .args(["--http", &port.to_string()])
            .env("NOTES_DIR", &notes)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the fixture server");
        let server = Killed(server);
        wait_for_port(port);
        let mut front = Command::new(gatehouse())
            .args(["mcp", "--name", "fx", "--policy"])
            .arg(fixture("policy.yaml"))
            .args(["--listen", "127.0.0.1:0", "--upstream"])
            .arg(format!("http://127.0.0.1:{port}/mcp"))
            .env("GATEHOUSE_HOME", tmp.path().join("home"))
            .env_remove("GATEHOUSE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gatehouse mcp --listen");
        let stderr = front.stderr.take().expect("stderr");
        let front = Killed(front);
        // "gatehouse mcp: serving fx on http://127.0.0.1:PORT -> ..."
        let mut line = String::new();
        BufReader::new(stderr)
            .read_line(&mut line)
            .expect("read the front's banner");
        let addr = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Some(Scene {
            _tmp: tmp,
            notes,
            py,
            _server: server,
            _front: front,
            url: format!("{addr}/mcp"),
        })
    }

    fn run(&self, steps: Value) -> Vec<Value> {
        let mut cmd = Command::new(&self.py);
        cmd.arg(fixture("client.py"))
            .arg(steps.to_string())
            .args(["--url", &self.url])
            .stdin(Stdio::null());
        let run = run_with_timeout(cmd, Duration::from_secs(60));
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
