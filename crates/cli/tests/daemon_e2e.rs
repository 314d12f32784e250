//! End to end: a real `gatehouse serve` on port 0 with a temporary
//! GATEHOUSE_HOME, real `gatehouse hook claude-code` processes holding calls on
//! it, and the real CLI resolving them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

const POLICY: &str = r#"
version: 1
default: allow
approval:
  timeout: 1h
rules:
  - name: deploys
    match:
      tool: exec
      command: ["kubectl apply *"]
    action: ask
    via: gateway
    message: Production deployment requires approval
  - name: quick-expiry
    match:
      tool: exec
      command: ["terraform apply *"]
    action: ask
    via: gateway
    timeout: 1
  - name: two-person
    match:
      tool: exec
      command: ["make release*"]
    action: ask
    via: gateway
    approvers: 2
"#;

/// A temporary data dir with the test policy.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("policy.yaml"), POLICY).expect("policy");
        Home { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn policy(&self) -> PathBuf {
        self.path().join("policy.yaml")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("GATEHOUSE_HOME", self.path())
            .env("GATEHOUSE_POLICY", self.policy())
            .env_remove("GATEHOUSE_URL")
            .env_remove("GATEHOUSE_TOKEN")
            .env_remove("GATEHOUSE_SESSION")
            .stdin(Stdio::null());
        c
    }

    /// Run a CLI command, optionally with an explicit token.
    fn cli(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut c = self.command(args);
        if let Some(t) = token {
            c.env("GATEHOUSE_TOKEN", t);
        }
        c.output().expect("run gatehouse")
    }

    fn credentials(&self) -> Value {
        let text = std::fs::read_to_string(self.path().join("credentials.json")).expect("creds");
        serde_json::from_str(&text).expect("creds json")
    }

    fn admin_token(&self) -> String {
        self.credentials()["admin_token"]
            .as_str()
            .expect("admin")
            .to_owned()
    }

    fn agent_token(&self) -> String {
        self.credentials()["agent_token"]
            .as_str()
            .expect("agent")
            .to_owned()
    }

    /// Create an approver token named `name` with the admin credentials.
    fn approver(&self, name: &str) -> String {
        let out = self.cli(
            Some(&self.admin_token()),
            &["token", "create", "--role", "approver", "--name", name],
        );
        assert!(out.status.success(), "token create: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn serve(&self) -> Daemon {
        let mut child = self
            .command(&[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--disconnect-grace-secs",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let pid = child.id();
        let info = self.path().join("daemon.json");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(text) = std::fs::read_to_string(&info)
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && v["pid"].as_u64() == Some(u64::from(pid))
            {
                let url = v["url"].as_str().unwrap_or_default().to_owned();
                return Daemon { child, url };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("daemon did not start within 20 s");
    }

    /// Start a Claude Code hook holding `command` in `session`.
    fn hook(&self, command: &str, session: &str, deadline_secs: u64) -> Child {
        let payload = json!({
            "session_id": session,
            "transcript_path": "/tmp/transcript.jsonl",
            "cwd": "/",
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": { "command": command },
            "tool_use_id": "toolu_1",
        });
        let mut child = self
            .command(&[
                "hook",
                "claude-code",
                "--deadline-secs",
                &deadline_secs.to_string(),
            ])
            .env("GATEHOUSE_SESSION", session)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hook");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(payload.to_string().as_bytes())
            .expect("write payload");
        child
    }

    /// The pending approvals, waiting until there are `n`.
    fn wait_pending(&self, n: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let out = self.cli(Some(&self.admin_token()), &["pending", "--json"]);
            if out.status.success() {
                let v: Value = serde_json::from_slice(&out.stdout).expect("pending json");
                let items = v.as_array().cloned().unwrap_or_default();
                if items.len() >= n {
                    return items;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "expected {n} pending approvals"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

struct Daemon {
    child: Child,
    url: String,
}

impl Daemon {
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn get(&self, token: &str, path: &str) -> Value {
        let mut resp = ureq::get(&format!("{}{path}", self.url))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .expect("GET");
        serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("json")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The hook's answer: (permissionDecision, permissionDecisionReason).
fn hook_answer(child: Child) -> (String, String) {
    let out = child.wait_with_output().expect("hook output");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "hook printed no JSON ({e}): {text:?}, stderr {}",
            stderr(&out)
        )
    });
    let h = &v["hookSpecificOutput"];
    (
        h["permissionDecision"].as_str().unwrap_or("").to_owned(),
        h["permissionDecisionReason"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

fn id_of(a: &Value) -> String {
    a["id"].as_str().expect("id").to_owned()
}

#[test]
fn approve_releases_the_held_hook_and_is_audited_with_identity() {
    let home = Home::new();
    let daemon = home.serve();
    let alice = home.approver("alice");
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let pending = home.wait_pending(1);
    assert_eq!(pending[0]["call"]["command"], "kubectl apply -f prod.yaml");
    assert_eq!(pending[0]["context"]["session"], "app/main");
    assert_eq!(pending[0]["decision"]["rules"][0]["name"], "deploys");
    let out = home.cli(
        Some(&alice),
        &["approve", &id_of(&pending[0]), "--reason", "ship it"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (decision, reason) = hook_answer(hook);
    assert_eq!(decision, "allow", "{reason}");
    assert!(reason.contains("approved by alice"), "{reason}");

    let audit = daemon.get(&home.admin_token(), "/v1/audit?limit=20");
    let resolution = audit
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["record"]["kind"] == "resolution")
        .expect("a resolution record");
    assert_eq!(resolution["record"]["actor"], "alice");
    assert_eq!(resolution["record"]["channel"], "cli");
    assert_eq!(resolution["record"]["outcome"], "approved");
    assert_eq!(resolution["record"]["reason"], "ship it");
}

#[test]
fn deny_reason_reaches_the_hook_output() {
    let home = Home::new();
    let _daemon = home.serve();
    let alice = home.approver("alice");
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    let out = home.cli(
        Some(&alice),
        &["deny", &id, "--reason", "use the staging cluster"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (decision, reason) = hook_answer(hook);
    assert_eq!(decision, "deny");
    assert!(reason.contains("use the staging cluster"), "{reason}");
}

#[test]
fn expiry_is_a_denial() {
    let home = Home::new();
    let _daemon = home.serve();
    let hook = home.hook("terraform apply -auto-approve", "app/main", 30);
    let (decision, reason) = hook_answer(hook);
    assert_eq!(decision, "deny");
    assert!(reason.contains("expired"), "{reason}");
}

#[test]
fn hook_deadline_denies_before_the_host_timeout_and_cancels_the_approval() {
    let home = Home::new();
    let daemon = home.serve();
    let started = Instant::now();
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 2);
    let (decision, reason) = hook_answer(hook);
    // Well before a host timeout of 25-60 s, even on a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(decision, "deny");
    assert!(reason.contains("no decision within 2 s"), "{reason}");
    let list = daemon.get(&home.admin_token(), "/v1/approvals?status=cancelled");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[test]
fn quorum_needs_two_distinct_approvers() {
    let home = Home::new();
    let _daemon = home.serve();
    let alice = home.approver("alice");
    let bob = home.approver("bob");
    let mut hook = home.hook("make release", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    let out = home.cli(Some(&alice), &["approve", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 of 2"));
    let again = home.cli(Some(&alice), &["approve", &id]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already approved"),
        "{}",
        stderr(&again)
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        hook.try_wait().expect("poll").is_none(),
        "one approval must not release a two-person call"
    );
    let out = home.cli(Some(&bob), &["approve", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (decision, reason) = hook_answer(hook);
    assert_eq!(decision, "allow", "{reason}");
    assert!(reason.contains("bob"), "{reason}");
}

#[test]
fn approval_for_session_grants_the_same_call_in_the_same_session_only() {
    let home = Home::new();
    let daemon = home.serve();
    let alice = home.approver("alice");
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    let out = home.cli(
        Some(&alice),
        &["approve", &id, "--for-session", "--ttl", "10m"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(hook_answer(hook).0, "allow");

    // The same call in the same session passes at once.
    let (decision, reason) = hook_answer(home.hook("kubectl apply -f prod.yaml", "app/main", 30));
    assert_eq!(decision, "allow");
    assert!(reason.contains("session grant"), "{reason}");
    let grants = daemon.get(&alice, "/v1/grants");
    assert_eq!(grants.as_array().map(Vec::len), Some(1));

    // Another session, or another command, still asks.
    let other = home.hook("kubectl apply -f prod.yaml", "app/feature", 30);
    let different = home.hook("kubectl apply -f other.yaml", "app/main", 30);
    let pending = home.wait_pending(2);
    assert_eq!(pending.len(), 2);
    for a in &pending {
        let out = home.cli(Some(&alice), &["deny", &id_of(a), "--reason", "no"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(hook_answer(other).0, "deny");
    assert_eq!(hook_answer(different).0, "deny");

    // Listed, and once revoked the same call asks again.
    let admin = home.admin_token();
    let out = home.cli(Some(&admin), &["grants", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).expect("grants json");
    let grant_id = list[0]["id"].as_str().expect("grant id").to_owned();
    assert_eq!(list[0]["session"], "app/main");
    assert_eq!(list[0]["created_by"], "alice");
    let out = home.cli(Some(&admin), &["grants", "revoke", &grant_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    home.cli(Some(&alice), &["deny", &id, "--reason", "grant revoked"]);
    assert_eq!(hook_answer(again).0, "deny");
}

#[test]
fn lockdown_denies_pending_and_new_calls_until_lifted() {
    let home = Home::new();
    let _daemon = home.serve();
    let admin = home.admin_token();
    let held = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    home.wait_pending(1);
    let out = home.cli(Some(&admin), &["lockdown", "on"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (decision, reason) = hook_answer(held);
    assert_eq!(decision, "deny");
    assert!(reason.contains("lockdown"), "{reason}");
    let (decision, reason) = hook_answer(home.hook("kubectl apply -f prod.yaml", "s", 30));
    assert_eq!(decision, "deny");
    assert!(reason.contains("lockdown"), "{reason}");
    let out = home.cli(Some(&admin), &["lockdown", "off"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = home.cli(Some(&admin), &["lockdown", "status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("off"));
}

#[test]
fn pending_approval_survives_kill_9_and_the_waiting_hook_gets_the_answer() {
    let home = Home::new();
    let mut daemon = home.serve();
    let alice = home.approver("alice");
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 40);
    let id = id_of(&home.wait_pending(1)[0]);
    daemon.kill9();
    let _restarted = home.serve();
    let pending = home.wait_pending(1);
    assert_eq!(id_of(&pending[0]), id, "the same approval is restored");
    let out = home.cli(Some(&alice), &["approve", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (decision, reason) = hook_answer(hook);
    assert_eq!(decision, "allow", "{reason}");
}

#[test]
fn agent_token_cannot_approve_and_the_attempt_is_audited() {
    let home = Home::new();
    let daemon = home.serve();
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    let out = home.cli(Some(&home.agent_token()), &["approve", &id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("403"), "{}", stderr(&out));
    let audit = daemon.get(&home.admin_token(), "/v1/audit?limit=5");
    assert_eq!(audit[0]["record"]["outcome"], "refused", "{audit}");
    assert_eq!(audit[0]["record"]["actor"], "local-agent");
    // Still pending: deny it so the hook ends.
    let alice = home.approver("alice");
    assert!(home.wait_pending(1).len() == 1);
    let out = home.cli(Some(&alice), &["deny", &id, "--reason", "no"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(hook_answer(hook).0, "deny");
}

#[test]
fn local_credentials_without_a_terminal_are_refused() {
    if !Path::new("/usr/bin/setsid").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "setsid (util-linux) is required under CI"
        );
        eprintln!("SKIPPED: setsid not installed");
        return;
    }
    let home = Home::new();
    let _daemon = home.serve();
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    // A new session has no controlling terminal, like an agent's tool call.
    let mut c = Command::new("/usr/bin/setsid");
    c.args(["-w", BIN, "approve", &id])
        .env("GATEHOUSE_HOME", home.path())
        .env_remove("GATEHOUSE_URL")
        .env_remove("GATEHOUSE_TOKEN")
        .stdin(Stdio::null());
    let out = c.output().expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("needs a person at a terminal"),
        "{}",
        stderr(&out)
    );
    assert_eq!(home.wait_pending(1).len(), 1, "still pending");
    let alice = home.approver("alice");
    home.cli(Some(&alice), &["deny", &id, "--reason", "cleanup"]);
    assert_eq!(hook_answer(hook).0, "deny");
}

#[test]
fn local_credentials_approve_after_confirmation_on_a_terminal() {
    if !Path::new("/usr/bin/script").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "script (util-linux) is required under CI"
        );
        eprintln!("SKIPPED: script not installed");
        return;
    }
    let home = Home::new();
    let _daemon = home.serve();
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    // `script` gives the command a pseudo-terminal and types "yes" into it.
    let mut child = Command::new("/usr/bin/script")
        .args(["-qec", &format!("{BIN} approve {id}"), "/dev/null"])
        .env("GATEHOUSE_HOME", home.path())
        .env_remove("GATEHOUSE_URL")
        .env_remove("GATEHOUSE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script");
    let mut stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(b"yes\n").expect("type yes");
    drop(stdin);
    let out = child.wait_with_output().expect("script output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Type 'yes' to confirm"), "{text}");
    let (decision, reason) = hook_answer(hook);
    assert_eq!(decision, "allow", "{reason} / {text}");
    assert!(reason.contains("local-admin via cli"), "{reason}");
}

#[test]
fn a_hook_killed_by_its_host_cancels_its_approval_after_the_grace_period() {
    let home = Home::new();
    let daemon = home.serve();
    let mut hook = home.hook("kubectl apply -f prod.yaml", "app/main", 30);
    let id = id_of(&home.wait_pending(1)[0]);
    hook.kill().expect("kill hook");
    let _ = hook.wait();
    let start = Instant::now();
    loop {
        let a = daemon.get(&home.admin_token(), &format!("/v1/approvals/{id}"));
        if a["status"] == "cancelled" {
            assert!(
                a["outcome"].as_str().unwrap_or("").contains("went away"),
                "{a}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not cancelled: {a}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Daemon {
    /// Submit `command` as an agent and return the daemon's action.
    fn decide(&self, agent: &str, command: &str) -> String {
        let body = json!({ "tool": "Bash", "input": { "command": command } });
        let mut resp = ureq::post(&format!("{}/v1/decisions", self.url))
            .header("authorization", &format!("Bearer {agent}"))
            .send_json(&body)
            .expect("POST /v1/decisions");
        let v: Value =
            serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("json");
        v["action"].as_str().unwrap_or_default().to_owned()
    }
}

#[test]
fn policy_file_changes_are_picked_up_and_a_broken_file_keeps_the_old_policy() {
    let home = Home::new();
    let daemon = home.serve();
    let agent = home.agent_token();
    assert_eq!(daemon.decide(&agent, "echo hello"), "allow");

    let stricter = POLICY.replace("default: allow", "default: deny");
    std::fs::write(home.policy(), stricter).expect("rewrite policy");
    let start = Instant::now();
    while daemon.decide(&agent, "echo hello") != "deny" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "policy change not picked up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    std::fs::write(home.policy(), "version: 1\nrules: [ {{ broken").expect("break policy");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        daemon.decide(&agent, "echo hello"),
        "deny",
        "a broken file must keep the previous policy in force"
    );
}

#[test]
fn a_stopped_daemon_means_a_prompt_deny_not_a_hang() {
    let home = Home::new();
    let mut daemon = home.serve();
    daemon.kill9(); // leaves a stale daemon.json behind, as a crash would
    let started = Instant::now();
    let (decision, reason) = hook_answer(home.hook("kubectl apply -f prod.yaml", "app/main", 30));
    assert_eq!(decision, "deny");
    assert!(reason.contains("not reachable"), "{reason}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn sigterm_stops_the_daemon_promptly_with_a_hook_waiting_and_removes_daemon_json() {
    let home = Home::new();
    let mut daemon = home.serve();
    let hook = home.hook("kubectl apply -f prod.yaml", "app/main", 4);
    home.wait_pending(1);
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = daemon.child.wait().expect("daemon exit");
    assert!(exit.success(), "{exit:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "graceful shutdown waited for the long-poll: {:?}",
        started.elapsed()
    );
    assert!(!home.path().join("daemon.json").exists());
    // The hook, with no daemon to come back, denies at its deadline.
    assert_eq!(hook_answer(hook).0, "deny");
}
