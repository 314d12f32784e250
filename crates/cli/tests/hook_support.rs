//! Shared helpers for the hook tests: run the real `gatehouse` binary with a
//! temporary data dir and an explicit policy file, feed it a payload, and
//! read back what it printed and recorded. (Also built as its own empty test
//! target; included by the others with `#[path]`.)
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gatehouse_store::{AuditQuery, AuditStore, SqliteStore};

/// What one hook run printed.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// A sandbox: temp data dir, temp HOME, a policy file.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// The parts of an audit record the tests look at.
#[derive(Debug, Clone, PartialEq)]
pub struct Audited {
    pub kind: String,
    pub tool: String,
    pub decision: Option<String>,
    pub outcome: Option<String>,
    pub session: Option<String>,
    pub message: Option<String>,
}

impl Default for Sandbox {
    fn default() -> Sandbox {
        Sandbox::new()
    }
}

/// A small policy used by the decision tests, independent of the bundled one.
pub const POLICY: &str = r#"version: 1
default: defer
rules:
  - name: no-rm
    match: { tool: exec, command: ["rm *"] }
    action: deny
    message: Deleting files is not allowed
  - name: ls-ok
    match: { tool: exec, command: ["ls", "ls *"] }
    action: allow
    message: Listing is fine
  - name: deploys
    match: { tool: exec, command: ["kubectl apply *"] }
    action: ask
    message: Production deployment requires approval
  - name: gateway-only
    match: { tool: exec, command: ["terraform apply *"] }
    action: ask
    via: gateway
    message: Terraform needs a reviewer
  - name: secrets
    id: PATH-SECRET
    match: { tool: read, path: ["**/.env", "**/.ssh/**"] }
    action: deny
    message: Secrets are off limits
  - name: no-secret-writes
    match: { tool: write, path: ["**/.env"] }
    action: deny
    message: Do not write .env files
  - name: fetch-ask
    match: { tool: fetch }
    action: ask
    message: Network access needs approval
  - name: mcp-github
    match: { tool: "mcp__github__*" }
    action: allow
    message: GitHub MCP is trusted
"#;

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("policy.yaml"), POLICY).expect("policy");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn policy(&self) -> PathBuf {
        self.path().join("policy.yaml")
    }

    pub fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    /// Runs `gatehouse hook <host> --policy <sandbox policy> [extra]` on `stdin`.
    pub fn hook(&self, host: &str, extra: &[&str], stdin: &[u8]) -> Run {
        let policy = self.policy();
        let mut args = vec!["hook", host, "--policy", policy.to_str().expect("utf-8")];
        args.extend_from_slice(extra);
        self.run(&args, stdin, &[])
    }

    /// Runs the binary with `args`, HOME and GATEHOUSE_HOME in the sandbox.
    pub fn run(&self, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args(args)
            .current_dir(self.path())
            .env("HOME", self.path().join("home"))
            .env("GATEHOUSE_HOME", self.data())
            .env_remove("GATEHOUSE_POLICY")
            .env_remove("GATEHOUSE_SESSION")
            .env_remove("GATEHOUSE_TEST_PANIC")
            .env_remove("GATEHOUSE_URL")
            .env_remove("GATEHOUSE_TOKEN")
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn gatehouse");
        let mut input = child.stdin.take().expect("stdin");
        // The hook may stop reading early (payload over the limit): ignore EPIPE.
        let _ = input.write_all(stdin);
        drop(input);
        let out = child.wait_with_output().expect("wait");
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// Every audit record written so far.
    pub fn audit(&self) -> Vec<Audited> {
        let path = SqliteStore::path_in(&self.data());
        if !path.exists() {
            return Vec::new();
        }
        let store = SqliteStore::open_existing(&path).expect("open audit");
        store
            .query(&AuditQuery::default())
            .expect("query")
            .into_iter()
            .map(|e| Audited {
                kind: e.record.kind.as_str().to_owned(),
                tool: e.record.tool,
                decision: e.record.decision.map(|d| d.as_str().to_owned()),
                outcome: e.record.outcome,
                session: e.record.session,
                message: e.record.message,
            })
            .collect()
    }
}

/// A Claude Code `PreToolUse` payload (or another event) for `tool` with `input` (JSON text).
pub fn claude(event: &str, tool: &str, input: &str) -> String {
    format!(
        r#"{{"session_id":"sess-1","transcript_path":"/tmp/t.jsonl","cwd":"/work/app","permission_mode":"default","hook_event_name":"{event}","tool_name":"{tool}","tool_input":{input},"tool_use_id":"toolu_01"}}"#
    )
}

/// Claude Code's exact `PreToolUse` answer.
pub fn pre_tool_use(decision: &str, reason: &str) -> String {
    format!(
        "{{\"hookSpecificOutput\":{{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"{decision}\",\"permissionDecisionReason\":\"{reason}\"}}}}\n"
    )
}
