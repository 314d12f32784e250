//! `gatehouse serve`: run the approval daemon.
//!
//! Resolves everything the server library is handed: data dir, database,
//! policy (and its reloads on file change or SIGHUP), local credentials. Writes
//! `<data_dir>/daemon.json` so hooks and the CLI on this machine find it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use gatehouse_policy::Policy;
use gatehouse_server::{LocalToken, Role, ServerConfig};
use gatehouse_store::SqliteStore;

use crate::daemon_client::{CREDENTIALS_FILE, Credentials, DAEMON_FILE, DaemonInfo};
use crate::exit::Exit;

/// Arguments of `gatehouse serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (see daemon.json for the URL).
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub listen: SocketAddr,
    /// SQLite database (default: <data dir>/gatehouse.db, shared with the hooks' audit log).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Policy file (default: GATEHOUSE_POLICY, the user's policy, or the bundled one).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Data dir (default: GATEHOUSE_HOME, or the XDG data dir).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seconds a disconnected waiter of a `cancel_on_disconnect` approval has
    /// to reconnect before the approval is cancelled.
    #[arg(long, default_value_t = 10)]
    pub disconnect_grace_secs: u64,
}

/// Names of the tokens in the local credentials file.
const LOCAL_AGENT: &str = "local-agent";
const LOCAL_ADMIN: &str = "local-admin";

pub fn run(args: ServeArgs) -> anyhow::Result<Exit> {
    let data_dir = crate::config::data_dir(args.data_dir.as_deref());
    create_private_dir(&data_dir)?;
    let policy_path = crate::config::policy_path(args.policy.as_deref());
    let policy = crate::config::load_policy(args.policy.as_deref())?;
    let creds = local_credentials(&data_dir)?;
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| SqliteStore::path_in(&data_dir));
    let audit =
        Arc::new(SqliteStore::open(&db).with_context(|| format!("cannot open {}", db.display()))?);
    let reload_path = policy_path.clone();
    let reload: gatehouse_server::ReloadFn = Arc::new(move || load(reload_path.as_deref()));
    let config = ServerConfig {
        db_path: db.clone(),
        audit,
        policy,
        reload: Some(reload),
        local_tokens: vec![
            LocalToken {
                name: LOCAL_AGENT.into(),
                role: Role::Agent,
                hash: gatehouse_server::hash_token(&creds.agent_token),
            },
            LocalToken {
                name: LOCAL_ADMIN.into(),
                role: Role::Admin,
                hash: gatehouse_server::hash_token(&creds.admin_token),
            },
        ],
        disconnect_grace_secs: args.disconnect_grace_secs,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init()
        .ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let state = gatehouse_server::start(config)?;
        let url = format!("http://{addr}");
        write_daemon_info(&data_dir, &url)?;
        let policy_shown = policy_path
            .as_ref()
            .map_or_else(|| "bundled".to_owned(), |p| p.display().to_string());
        let mut out = std::io::stdout().lock();
        writeln!(out, "gatehouse daemon listening on {url}")?;
        writeln!(
            out,
            "  API:         {url}/v1   (OpenAPI: {url}/v1/openapi.json, metrics: {url}/metrics)"
        )?;
        writeln!(out, "  dashboard:   {url}/")?;
        writeln!(out, "  data:        {}", data_dir.display())?;
        writeln!(out, "  database:    {}", db.display())?;
        writeln!(out, "  policy:      {policy_shown}")?;
        writeln!(
            out,
            "  credentials: {}",
            data_dir.join(CREDENTIALS_FILE).display()
        )?;
        out.flush()?;
        drop(out);
        if let Some(path) = policy_path.clone() {
            watch_policy(path, state.clone());
        }
        reload_on_sighup(policy_path.clone(), state.clone());
        let result = gatehouse_server::serve(listener, state, shutdown_signal()).await;
        remove_daemon_info(&data_dir);
        result.map_err(anyhow::Error::from)
    })?;
    Ok(Exit::Ok)
}

fn load(path: Option<&Path>) -> Result<Policy, String> {
    match path {
        None => Ok(Policy::bundled()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Policy::load(&text, &p.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

/// Reload when the policy file changes. Watches the directory, since editors
/// replace files by renaming; changes within 200 ms are taken as one.
fn watch_policy(path: PathBuf, state: gatehouse_server::AppState) {
    use notify::Watcher;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let name = path.file_name().map(|n| n.to_owned());
    let watched = path.clone();
    let handler = move |event: notify::Result<notify::Event>| {
        if let Ok(ev) = event
            && ev
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_owned()) == name)
        {
            let _ = tx.send(());
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("cannot watch {}: {e}; reload with SIGHUP", path.display());
            return;
        }
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    if let Err(e) = watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
        tracing::warn!("cannot watch {}: {e}; reload with SIGHUP", dir.display());
        return;
    }
    tokio::spawn(async move {
        let _watcher = watcher;
        while rx.recv().await.is_some() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            while rx.try_recv().is_ok() {}
            apply_reload(&state, Some(&watched), "file change");
        }
    });
}

fn reload_on_sighup(path: Option<PathBuf>, state: gatehouse_server::AppState) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; policy reload on signal is off");
        return;
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            apply_reload(&state, path.as_deref(), "SIGHUP");
        }
    });
}

fn apply_reload(state: &gatehouse_server::AppState, path: Option<&Path>, why: &str) {
    match load(path) {
        Ok(policy) => {
            state.set_policy(policy);
            tracing::info!("policy reloaded ({why})");
        }
        Err(e) => {
            tracing::error!("policy reload ({why}) failed; the previous policy stays in force: {e}")
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}

/// The local credentials, created (owner-only) on first start.
fn local_credentials(data_dir: &Path) -> anyhow::Result<Credentials> {
    if let Some(c) = crate::daemon_client::read_credentials(data_dir)? {
        return Ok(c);
    }
    let creds = Credentials {
        agent_token: gatehouse_server::new_token().context("no randomness for a token")?,
        admin_token: gatehouse_server::new_token().context("no randomness for a token")?,
    };
    write_private(
        &data_dir.join(CREDENTIALS_FILE),
        &serde_json::to_string_pretty(&creds)?,
    )?;
    Ok(creds)
}

fn write_daemon_info(data_dir: &Path, url: &str) -> anyhow::Result<()> {
    let info = DaemonInfo {
        url: url.to_owned(),
        pid: std::process::id(),
    };
    write_private(&data_dir.join(DAEMON_FILE), &serde_json::to_string(&info)?)
}

/// Remove daemon.json if it is still ours (another daemon may have replaced it).
fn remove_daemon_info(data_dir: &Path) {
    if let Ok(Some(info)) = crate::daemon_client::read_daemon_info(data_dir)
        && info.pid == std::process::id()
    {
        let _ = std::fs::remove_file(data_dir.join(DAEMON_FILE));
    }
}

/// Write `text` to `path` atomically (temp file + rename), readable by the owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data dir {}", dir.display()))
}
