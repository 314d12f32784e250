//! Shared set-up for the MCP end-to-end tests: real peers, installed by the
//! tests themselves into the target dir (a Python venv with the official MCP
//! SDK, and `@modelcontextprotocol/server-filesystem` from npm).
//!
//! Outside CI a missing toolchain or registry skips the tests loudly; under
//! `CI=true` it fails them.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The Python MCP SDK version the tests run against (pinned: the SDK's API moves).
pub const PY_MCP: &str = "mcp==2.3.0";
/// The npm filesystem server version the tests run against.
pub const NPM_FS: &str = "@modelcontextprotocol/server-filesystem@2026.8.31";

/// The `gatehouse` binary under test.
pub fn gatehouse() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gatehouse"))
}

/// The cargo target dir (the binary lives in `<target>/<profile>/`).
fn target_dir() -> PathBuf {
    let exe = gatehouse();
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// The repository root (`crates/cli/../..`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fixture file under `tests/mcp/`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/mcp").join(name)
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skip (outside CI) or fail (under CI) because a peer cannot be installed.
fn unavailable(what: &str, why: &str) -> Option<PathBuf> {
    if under_ci() {
        panic!("{what} is required under CI=true but could not be set up: {why}");
    }
    eprintln!("\n!!! SKIPPING MCP end-to-end test: {what} unavailable: {why}\n");
    None
}

/// Runs a set-up command, returning its failure as text.
fn setup_step(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Holds an exclusive lock on `<target>/<name>.lock` so parallel test
/// binaries install each peer once.
fn install_lock(name: &str) -> Option<File> {
    let dir = target_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let file = File::create(dir.join(format!("{name}.lock"))).ok()?;
    file.lock().ok()?;
    Some(file)
}

/// The venv's Python, with the MCP SDK installed (`None`: skipped).
pub fn python() -> Option<PathBuf> {
    let venv = target_dir().join("mcp-venv");
    let py = venv.join("bin/python");
    let _lock = install_lock("mcp-venv");
    let ready = venv.join(".gatehouse-ready");
    if ready.is_file() {
        return Some(py);
    }
    let result = setup_step(Command::new("python3").args(["-m", "venv"]).arg(&venv))
        .and_then(|()| {
            setup_step(
                Command::new(&py)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .arg(PY_MCP),
            )
        })
        .and_then(|()| std::fs::write(&ready, PY_MCP).map_err(|e| e.to_string()));
    match result {
        Ok(()) => Some(py),
        Err(why) => unavailable("the Python MCP SDK", &why),
    }
}

/// The filesystem server's entry script, installed from npm (`None`: skipped).
pub fn filesystem_server() -> Option<PathBuf> {
    let dir = target_dir().join("mcp-node");
    let entry = dir.join("node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
    let _lock = install_lock("mcp-node");
    let ready = dir.join(".gatehouse-ready");
    if ready.is_file() && entry.is_file() {
        return Some(entry);
    }
    let result = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            setup_step(Command::new("npm").current_dir(&dir).args([
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                NPM_FS,
            ]))
        })
        .and_then(|()| std::fs::write(&ready, NPM_FS).map_err(|e| e.to_string()));
    match result {
        Ok(()) if entry.is_file() => Some(entry),
        Ok(()) => unavailable(
            "the npm filesystem server",
            "installed but its entry script is missing",
        ),
        Err(why) => unavailable("the npm filesystem server", &why),
    }
}

/// What the scripted client printed, and its stderr (which includes the proxy's).
#[derive(Debug)]
pub struct ClientRun {
    /// One result per step (see tests/mcp/client.py).
    pub results: Vec<Value>,
    /// stderr of the client and everything it spawned.
    pub stderr: String,
    /// Whether the client exited successfully.
    pub ok: bool,
}

/// Runs tests/mcp/client.py with `steps` against `server` (the command the
/// client spawns, normally `gatehouse mcp ... -- <server>`).
pub fn run_client(py: &Path, steps: &Value, server: &[String], env: &[(&str, &Path)]) -> ClientRun {
    let mut cmd = Command::new(py);
    cmd.arg(fixture("client.py"))
        .arg(steps.to_string())
        .arg("--")
        .args(server)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_with_timeout(cmd, Duration::from_secs(90))
}

/// Runs `cmd` to completion, failing the test if it takes longer than `limit`.
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> ClientRun {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap_or_else(|e| panic!("waiting for the client failed: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("the MCP client did not finish within {limit:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let results = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Vec<Value>>(l).ok())
        .unwrap_or_default();
    ClientRun {
        results,
        stderr,
        ok: out.status.success(),
    }
}

/// `gatehouse mcp --name NAME --policy POLICY [extra...] -- server...` as an argv.
pub fn proxied(name: &str, policy: &Path, extra: &[&str], server: &[String]) -> Vec<String> {
    let mut argv = vec![
        gatehouse().display().to_string(),
        "mcp".into(),
        "--name".into(),
        name.into(),
        "--policy".into(),
        policy.display().to_string(),
    ];
    argv.extend(extra.iter().map(|s| (*s).to_owned()));
    argv.push("--".into());
    argv.extend(server.iter().cloned());
    argv
}

/// The text of a call step's result, failing the test if it was a protocol error.
pub fn call_text(result: &Value) -> &str {
    assert!(
        result.get("error").is_none(),
        "unexpected protocol error: {result}"
    );
    result["text"].as_str().unwrap_or_default()
}

/// A free loopback port (bound then released; the next process takes it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something listens on `port`.
pub fn wait_for_port(port: u16) {
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nothing listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts the fixture server in Streamable HTTP mode; returns it and its MCP URL.
pub fn http_fixture_server(py: &Path, notes: &Path) -> (std::process::Child, String) {
    let port = free_port();
    let server = Command::new(py)
        .arg(fixture("server.py"))
        .args(["--http", &port.to_string()])
        .env("NOTES_DIR", notes)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the fixture server");
    wait_for_port(port);
    (server, format!("http://127.0.0.1:{port}/mcp"))
}

/// Starts the fixture server over TLS with a fresh certificate for 127.0.0.1,
/// signed by a fresh test CA (both made with the `openssl` CLI in `dir`);
/// returns it, its URL and the CA file a client must trust.
pub fn https_fixture_server(
    py: &Path,
    notes: &Path,
    dir: &Path,
) -> (std::process::Child, String, std::path::PathBuf) {
    // A CA and a server certificate it signed, as a real deployment has (a
    // self-signed certificate with CA:TRUE is no valid server certificate).
    let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    let (csr, ext) = (dir.join("server.csr"), dir.join("server.ext"));
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write the certificate extensions");
    let openssl = |args: Vec<&std::ffi::OsStr>| {
        let made = Command::new("openssl")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run openssl (Debian package openssl)");
        assert!(made.success(), "openssl could not make a test certificate");
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    openssl(vec![
        os("req"),
        os("-x509"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-days"),
        os("1"),
        os("-subj"),
        os("/CN=gatehouse test CA"),
        os("-keyout"),
        ca_key.as_os_str(),
        os("-out"),
        ca.as_os_str(),
    ]);
    openssl(vec![
        os("req"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-subj"),
        os("/CN=127.0.0.1"),
        os("-keyout"),
        key.as_os_str(),
        os("-out"),
        csr.as_os_str(),
    ]);
    openssl(vec![
        os("x509"),
        os("-req"),
        os("-in"),
        csr.as_os_str(),
        os("-CA"),
        ca.as_os_str(),
        os("-CAkey"),
        ca_key.as_os_str(),
        os("-CAcreateserial"),
        os("-days"),
        os("1"),
        os("-extfile"),
        ext.as_os_str(),
        os("-out"),
        cert.as_os_str(),
    ]);
    let port = free_port();
    let server = Command::new(py)
        .arg(fixture("server.py"))
        .arg("--https")
        .arg(port.to_string())
        .arg(&cert)
        .arg(&key)
        .env("NOTES_DIR", notes)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the fixture server over TLS");
    wait_for_port(port);
    (server, format!("https://127.0.0.1:{port}/mcp"), ca)
}

/// Reads the HTTP front's banner from its stderr and returns its MCP URL.
pub fn front_url(stderr: std::process::ChildStderr) -> String {
    use std::io::BufRead;
    // "gatehouse mcp: serving fx on http://127.0.0.1:PORT -> ...", possibly
    // after log lines (a trust store that cannot be read is warned about).
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("read the front's stderr");
        if let Some(addr) = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
        {
            return format!("{addr}/mcp");
        }
        seen.push(line);
    }
    panic!("the front printed no address: {seen:?}")
}
