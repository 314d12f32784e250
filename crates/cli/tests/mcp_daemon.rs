//! End-to-end: asks held on a real `gatehouse serve`, resolved by a real
//! `gatehouse approve` / `deny`, while the official Python MCP SDK client
//! waits through `gatehouse mcp` (with progress notifications), and cancelled
//! when the client gives up.

#[path = "mcp_common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{call_text, fixture, gatehouse, proxied};
use serde_json::{Value, json};

/// A data dir with a running daemon, the MCP test policy, and a notes dir.
struct Home {
    dir: tempfile::TempDir,
    py: PathBuf,
    daemon: Child,
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

impl Home {
    fn start() -> Option<Home> {
        let py = common::python()?;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("notes")).expect("notes dir");
        let mut cmd = Command::new(gatehouse());
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        env(&mut cmd, dir.path());
        let daemon = cmd.spawn().expect("spawn gatehouse serve");
        let home = Home { dir, py, daemon };
        home.wait_for_daemon();
        Some(home)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn notes(&self) -> PathBuf {
        self.path().join("notes")
    }

    fn wait_for_daemon(&self) {
        let info = self.path().join("daemon.json");
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&info)
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && v["pid"].as_u64() == Some(u64::from(self.daemon.id()))
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs a `gatehouse` command with `token` as GATEHOUSE_TOKEN.
    fn cli(&self, token: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(gatehouse());
        cmd.args(args)
            .env("GATEHOUSE_TOKEN", token)
            .stdin(Stdio::null());
        env(&mut cmd, self.path());
        cmd.output().expect("run gatehouse")
    }

    /// `gatehouse VERB <id of pending> [options]` as `token`, which must succeed
    /// (`verb_and_options`: `["approve"]`, `["deny", "--reason", "…"]`).
    fn resolve(&self, token: &str, pending: &Value, verb_and_options: &[&str]) {
        let id = pending["id"].as_str().expect("approval id");
        let mut args = vec![verb_and_options[0], id];
        args.extend_from_slice(&verb_and_options[1..]);
        let out = self.cli(token, &args);
        assert!(
            out.status.success(),
            "{}: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn admin_token(&self) -> String {
        let text =
            std::fs::read_to_string(self.path().join("credentials.json")).expect("credentials");
        let v: Value = serde_json::from_str(&text).expect("credentials json");
        v["admin_token"].as_str().expect("admin token").to_owned()
    }

    /// An approver token (a person's, not the agent's).
    fn approver(&self, name: &str) -> String {
        let out = self.cli(
            &self.admin_token(),
            &["token", "create", "--role", "approver", "--name", name],
        );
        assert!(
            out.status.success(),
            "token create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn pending(&self) -> Vec<Value> {
        let out = self.cli(&self.admin_token(), &["pending", "--json"]);
        assert!(
            out.status.success(),
            "pending: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    /// Waits until exactly `n` approvals are pending.
    fn wait_pending(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let pending = self.pending();
            if pending.len() == n {
                return pending;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "expected {n} pending approvals, have {pending:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the Python client through `gatehouse mcp` in the background.
    fn client(&self, steps: Value) -> Child {
        let server = vec![
            self.py.display().to_string(),
            fixture("server.py").display().to_string(),
        ];
        let policy = fixture("policy.yaml");
        let argv = proxied("fx", &policy, &["--progress-interval", "200ms"], &server);
        let mut cmd = Command::new(&self.py);
        cmd.arg(fixture("client.py"))
            .arg(steps.to_string())
            .arg("--")
            .args(&argv)
            .env("NOTES_DIR", self.notes())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        env(&mut cmd, self.path());
        cmd.spawn().expect("spawn the MCP client")
    }
}

/// The environment every process of a test shares: its own data dir and policy.
fn env(cmd: &mut Command, home: &Path) {
    cmd.env("GATEHOUSE_HOME", home)
        .env("GATEHOUSE_POLICY", fixture("policy.yaml"))
        .env_remove("GATEHOUSE_URL")
        .env_remove("GATEHOUSE_SESSION");
}

/// Waits for the client and returns its per-step results.
fn results(client: Child) -> Vec<Value> {
    let pid = client.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("client output"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("the MCP client did not finish");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed: {stderr}");
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Vec<Value>>(l).ok())
        .unwrap_or_else(|| panic!("no results from the client; stderr: {stderr}"))
}

fn secret_note_call() -> Value {
    json!({"op":"call","tool":"write_note","args":{"title":"secret-plan","body":"launch"},"progress":true})
}

#[test]
fn asked_call_completes_after_gatehouse_approve_with_progress_meanwhile() {
    let Some(home) = Home::start() else { return };
    let alice = home.approver("alice");
    let client = home.client(json!([secret_note_call()]));
    let pending = home.wait_pending(1);
    assert_eq!(
        pending[0]["call"]["tool"],
        json!("mcp__fx__write_note"),
        "{pending:?}"
    );
    // Long enough for a few 200 ms progress notifications.
    std::thread::sleep(Duration::from_millis(900));
    assert!(
        !home.notes().join("secret-plan.txt").exists(),
        "held call ran early"
    );
    home.resolve(&alice, &pending[0], &["approve", "--reason", "ship it"]);
    let results = results(client);
    assert_eq!(call_text(&results[0]), "wrote secret-plan", "{results:?}");
    assert_eq!(results[0]["isError"], json!(false));
    let progress = results[0]["progress"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !progress.is_empty(),
        "expected progress while held: {results:?}"
    );
    assert!(
        progress[0]
            .as_str()
            .unwrap_or_default()
            .contains("Secret notes need approval"),
        "{progress:?}"
    );
    assert_eq!(
        std::fs::read_to_string(home.notes().join("secret-plan.txt"))
            .ok()
            .as_deref(),
        Some("launch")
    );
}

#[test]
fn asked_call_fails_after_gatehouse_deny_with_the_reason() {
    let Some(home) = Home::start() else { return };
    let bob = home.approver("bob");
    let client = home.client(json!([secret_note_call()]));
    let pending = home.wait_pending(1);
    home.resolve(
        &bob,
        &pending[0],
        &["deny", "--reason", "use the staging notes"],
    );
    let results = results(client);
    assert_eq!(results[0]["isError"], json!(true), "{results:?}");
    let text = call_text(&results[0]);
    assert!(text.contains("use the staging notes"), "{text}");
    assert!(
        !home.notes().join("secret-plan.txt").exists(),
        "denied call must not run"
    );
}

#[test]
fn client_cancellation_withdraws_the_pending_approval() {
    let Some(home) = Home::start() else { return };
    // The client gives up after 1.5 s (the SDK then sends notifications/cancelled),
    // and goes on to make an allowed call on the same connection.
    let mut timed_out = secret_note_call();
    timed_out["timeout"] = json!(1.5);
    let client = home.client(json!([
        timed_out,
        {"op":"call","tool":"echo","args":{"text":"still here"}}
    ]));
    let pending = home.wait_pending(1);
    let results = results(client);
    assert!(
        results[0].get("error").is_some(),
        "the first call should time out: {results:?}"
    );
    assert_eq!(call_text(&results[1]), "still here");
    home.wait_pending(0);
    let id = pending[0]["id"].as_str().expect("approval id");
    let out = home.cli(&home.admin_token(), &["show", id]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains(r#""status": "cancelled""#), "{shown}");
    assert!(!home.notes().join("secret-plan.txt").exists());
}

#[test]
fn http_front_holds_an_ask_until_gatehouse_approve() {
    let Some(home) = Home::start() else { return };
    let alice = home.approver("alice");
    let (server, upstream) = common::http_fixture_server(&home.py, &home.notes());
    let _server = KillOnDrop(server);
    let mut cmd = Command::new(gatehouse());
    cmd.args(["mcp", "--name", "fx", "--progress-interval", "200ms"])
        .args(["--listen", "127.0.0.1:0", "--upstream", &upstream])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    env(&mut cmd, home.path());
    let mut front = cmd.spawn().expect("start the HTTP front");
    // Regression: the banner is read and stderr then closed; logging to a
    // closed stderr once panicked the hold (and so denied an approved call).
    let url = common::front_url(front.stderr.take().expect("stderr"));
    let _front = KillOnDrop(front);
    let mut client = Command::new(&home.py);
    client
        .arg(fixture("client.py"))
        .arg(json!([secret_note_call()]).to_string())
        .args(["--url", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let client = client.spawn().expect("spawn the MCP client");
    let pending = home.wait_pending(1);
    std::thread::sleep(Duration::from_millis(700));
    home.resolve(&alice, &pending[0], &["approve"]);
    let results = results(client);
    assert_eq!(call_text(&results[0]), "wrote secret-plan", "{results:?}");
    assert!(
        !results[0]["progress"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .is_empty(),
        "expected progress over SSE while held: {results:?}"
    );
    assert!(home.notes().join("secret-plan.txt").is_file());
}

/// Kills a background process when the test ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
