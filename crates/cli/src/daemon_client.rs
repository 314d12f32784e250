//! The daemon's client, for the hooks (submit and hold) and the approver
//! commands (`pending`, `approve`, `lockdown`, `token`...).
//!
//! Blocking and small (ureq, no async runtime): a hook that never needs the
//! daemon pays nothing for it, and one that does pays one connection.
//!
//! Where the daemon is: `GATEHOUSE_URL` + `GATEHOUSE_TOKEN` (remote clients,
//! explicit tokens), else `<data_dir>/daemon.json` written by `gatehouse serve`
//! with the local credentials beside it in `<data_dir>/credentials.json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use gatehouse_core::{Action, CallContext, Decision, ToolCall};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// File in the data dir that says where the local daemon listens.
pub const DAEMON_FILE: &str = "daemon.json";
/// File in the data dir with the local credentials (owner-only).
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// What `gatehouse serve` writes to `daemon.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// Base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// The daemon's process id.
    pub pid: u32,
}

/// The local credentials `gatehouse serve` creates on first start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// For hooks: submit and wait only.
    pub agent_token: String,
    /// For the local CLI; approving with it needs a person at a terminal.
    pub admin_token: String,
}

/// Which token a client uses, which decides what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum As {
    /// The hook's agent token.
    Agent,
    /// A person at the CLI: `GATEHOUSE_TOKEN`, else the local admin token.
    Person,
}

/// A resolved daemon: where, with which token.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL without a trailing slash.
    pub url: String,
    /// Bearer token.
    pub token: String,
    /// True when the token is the local credentials file's (not `GATEHOUSE_TOKEN`):
    /// approving with it needs an interactive confirmation.
    pub local: bool,
}

/// Where the daemon is, for `who`; `Ok(None)` when none is configured at all.
pub fn resolve(data_dir: &Path, who: As) -> anyhow::Result<Option<Endpoint>> {
    let env_url = std::env::var("GATEHOUSE_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let env_token = std::env::var("GATEHOUSE_TOKEN")
        .ok()
        .filter(|s| !s.is_empty());
    let url = match env_url {
        Some(u) => u,
        None => match read_daemon_info(data_dir)? {
            Some(info) => info.url,
            None => return Ok(None),
        },
    };
    let url = url.trim_end_matches('/').to_owned();
    if let Some(token) = env_token {
        return Ok(Some(Endpoint {
            url,
            token,
            local: false,
        }));
    }
    let creds = read_credentials(data_dir)?.ok_or_else(|| {
        anyhow!(
            "no GATEHOUSE_TOKEN and no local credentials in {}; run `gatehouse serve` on this machine or set GATEHOUSE_TOKEN",
            data_dir.join(CREDENTIALS_FILE).display()
        )
    })?;
    let token = match who {
        As::Agent => creds.agent_token,
        As::Person => creds.admin_token,
    };
    Ok(Some(Endpoint {
        url,
        token,
        local: true,
    }))
}

/// `daemon.json` in `data_dir`, if present.
pub fn read_daemon_info(data_dir: &Path) -> anyhow::Result<Option<DaemonInfo>> {
    read_json(&data_dir.join(DAEMON_FILE))
}

/// `credentials.json` in `data_dir`, if present.
pub fn read_credentials(data_dir: &Path) -> anyhow::Result<Option<Credentials>> {
    read_json(&data_dir.join(CREDENTIALS_FILE))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &PathBuf) -> anyhow::Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("{} is not valid", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// An HTTP failure: the daemon could not be reached, or answered with an error.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the gatehouse daemon at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the daemon answered {status}: {message}")]
    Status { status: u16, message: String },
}

impl Endpoint {
    fn agent(&self, timeout: Duration) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// Send one request; `body` makes it a JSON POST/PUT.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.url);
        let agent = self.agent(timeout);
        let auth = format!("Bearer {}", self.token);
        let unreachable = |e: ureq::Error| ClientError::Unreachable {
            url: self.url.clone(),
            detail: e.to_string(),
        };
        let result = match (method, body) {
            ("GET", _) => agent
                .get(&url)
                .header("authorization", &auth)
                .header("x-gatehouse-channel", "cli")
                .call(),
            ("DELETE", _) => agent
                .delete(&url)
                .header("authorization", &auth)
                .header("x-gatehouse-channel", "cli")
                .call(),
            ("PUT", b) => agent
                .put(&url)
                .header("authorization", &auth)
                .header("x-gatehouse-channel", "cli")
                .send_json(b.cloned().unwrap_or(Value::Null)),
            (_, b) => agent
                .post(&url)
                .header("authorization", &auth)
                .header("x-gatehouse-channel", "cli")
                .send_json(b.cloned().unwrap_or_else(|| json!({}))),
        };
        let mut resp = result.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| ClientError::Unreachable {
                url: self.url.clone(),
                detail: format!("reading the answer: {e}"),
            })?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status >= 400 {
            let message = value["error"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            return Err(ClientError::Status { status, message });
        }
        Ok(value)
    }
}

/// How long one long-poll asks the daemon to hold, at most.
const POLL_SECS: u64 = 20;
/// Pause before retrying after the daemon could not be reached.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// How long a submission keeps retrying an unreachable daemon (covers a restart).
const SUBMIT_PATIENCE: Duration = Duration::from_secs(3);

/// Hold `call` on the daemon until a person resolves it or `deadline` passes.
///
/// `None` when no daemon is configured (the caller applies
/// `approval.headless`). Otherwise always a decision: allow, or deny with the
/// approver's reason, or deny "no decision within N s" at the deadline, or
/// deny when the daemon cannot be reached or misbehaves. Reconnects until the
/// deadline, re-reading `daemon.json` each time, so a daemon restarted
/// meanwhile (on another port) still answers the same approval.
pub fn hold_on_gateway(
    data_dir: &Path,
    call: &ToolCall,
    ctx: &CallContext,
    decision: &Decision,
    deadline: Instant,
) -> Option<Decision> {
    let endpoint = match resolve(data_dir, As::Agent) {
        Ok(Some(e)) => e,
        Ok(None) => return None,
        Err(e) => return Some(deny(decision, format!("{e:#}"))),
    };
    let started = Instant::now();
    // Whole seconds, rounded up: the hook's deadline as configured, less its start-up.
    let budget = deadline
        .saturating_duration_since(started)
        .as_millis()
        .div_ceil(1000);
    let body = json!({
        "tool": call.tool,
        "class": call.class,
        "input": call.input,
        "command": call.command,
        "paths": call.paths,
        "urls": call.urls,
        "context": {
            "session": ctx.session,
            "host_session_id": ctx.host_session_id,
            "cwd": ctx.cwd,
            "home": ctx.home,
            "host": ctx.host,
            "agent": ctx.agent,
        },
        // A hook killed by its host (its own timeout) cancels its approval once
        // the daemon's grace period passes without a reconnect, so nobody
        // approves a call that no one is waiting for.
        "cancel_on_disconnect": true,
    });
    let mut endpoint = endpoint;
    // Submit, retrying briefly while the daemon is unreachable (a restart in
    // progress); a daemon that stays down is a prompt deny, not a hang until
    // the deadline on every call.
    let submit_until = deadline.min(started + SUBMIT_PATIENCE);
    let submitted = loop {
        let left = submit_until.saturating_duration_since(Instant::now());
        let result = if left.is_zero() {
            None
        } else {
            Some(endpoint.request("POST", "/v1/decisions", Some(&body), left))
        };
        match result {
            Some(Ok(v)) => break v,
            None | Some(Err(ClientError::Unreachable { .. })) if left.is_zero() => {
                return Some(deny(
                    decision,
                    format!(
                        "needs approval, but the gatehouse daemon at {} is not reachable (is `gatehouse serve` running?); denied",
                        endpoint.url
                    ),
                ));
            }
            None | Some(Err(ClientError::Unreachable { .. })) => {
                std::thread::sleep(RETRY_PAUSE.min(left));
                if let Ok(Some(e)) = resolve(data_dir, As::Agent) {
                    endpoint = e;
                }
            }
            Some(Err(e)) => {
                return Some(deny(
                    decision,
                    format!("the gatehouse daemon refused the call: {e}"),
                ));
            }
        }
    };
    let action = submitted["action"]
        .as_str()
        .and_then(Action::parse)
        .unwrap_or(Action::Deny);
    if action != Action::Ask {
        let message = submitted["decision"]["message"]
            .as_str()
            .unwrap_or("decided by the gatehouse daemon")
            .to_owned();
        return Some(Decision {
            action,
            message: Some(message),
            ..decision.clone()
        });
    }
    let Some(id) = submitted["approval"]["id"].as_str().map(str::to_owned) else {
        return Some(deny(
            decision,
            "the daemon answered ask without an approval id".into(),
        ));
    };
    // Wait, resuming with the same id after any dropped connection.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(50) {
            let reason = format!(
                "no decision within {budget} s (approval {id} is still pending; it was cancelled)"
            );
            let _ = endpoint.request(
                "POST",
                &format!("/v1/approvals/{id}/cancel"),
                Some(&json!({ "reason": "the hook's deadline passed" })),
                Duration::from_secs(1),
            );
            return Some(deny(decision, reason));
        }
        // Ask the daemon to answer a little before our own deadline.
        let poll = left.saturating_sub(Duration::from_millis(30));
        let secs = poll.as_secs().clamp(0, POLL_SECS);
        let path = format!("/v1/approvals/{id}/wait?timeout={secs}");
        match endpoint.request(
            "GET",
            &path,
            None,
            poll.min(Duration::from_secs(POLL_SECS + 5)),
        ) {
            Ok(v) => {
                if let Some(final_decision) = resolved(decision, &v) {
                    return Some(final_decision);
                }
                if secs == 0 {
                    std::thread::sleep(Duration::from_millis(20).min(left));
                }
            }
            Err(ClientError::Unreachable { .. }) => {
                std::thread::sleep(RETRY_PAUSE.min(left));
                if let Ok(Some(e)) = resolve(data_dir, As::Agent) {
                    endpoint = e;
                }
            }
            Err(e) => {
                return Some(deny(
                    decision,
                    format!("waiting on approval {id} failed: {e}"),
                ));
            }
        }
    }
}

/// The final decision an approval's state means, `None` while pending.
fn resolved(asked: &Decision, approval: &Value) -> Option<Decision> {
    let status = approval["status"].as_str()?;
    if status == "pending" {
        return None;
    }
    let action = if status == "approved" {
        Action::Allow
    } else {
        Action::Deny
    };
    let outcome = approval["outcome"].as_str().unwrap_or(status).to_owned();
    Some(Decision {
        action,
        message: Some(outcome),
        ..asked.clone()
    })
}

fn deny(asked: &Decision, why: String) -> Decision {
    Decision {
        action: Action::Deny,
        message: Some(why),
        ..asked.clone()
    }
}

/// An endpoint for a person's command, or an error saying how to start one.
pub fn person(data_dir: &Path) -> anyhow::Result<Endpoint> {
    match resolve(data_dir, As::Person)? {
        Some(e) => Ok(e),
        None => bail!(
            "no gatehouse daemon found: {} does not exist and GATEHOUSE_URL is not set; start one with `gatehouse serve`",
            data_dir.join(DAEMON_FILE).display()
        ),
    }
}
