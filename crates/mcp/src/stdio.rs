//! The stdio transport: the proxy spawns the MCP server as its child and
//! pumps newline-delimited JSON-RPC frames between its own stdin/stdout (the
//! client) and the child's (the server). stdout carries protocol frames only;
//! everything the proxy has to say goes to stderr via `tracing`.

use std::collections::HashMap;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gatehouse_core::{CallContext, Timestamp};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::audit::AuditSink;
use crate::hold::Approver;
use crate::message::{self, IdKey};
use crate::session::{ClientAction, HoldOutcome, Proxy, Release, ServerAction};

/// How long the upstream gets to exit after the client closed its input,
/// before it is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings of one stdio proxy run.
#[derive(Debug, Clone)]
pub struct StdioOptions {
    /// How often a held call with a progress token gets `notifications/progress`.
    pub progress_interval: Duration,
    /// The context every call is evaluated in (`now` is filled per call).
    pub context: CallContext,
}

/// Why the proxy stopped.
#[derive(Debug)]
pub enum Ending {
    /// The client closed its side; the upstream then exited (or was killed).
    ClientClosed,
    /// The upstream server exited or closed its output first.
    UpstreamExited(Option<ExitStatus>),
}

/// Errors that stop the proxy before it can run.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// The server command could not be started.
    #[error("cannot start the MCP server `{program}`: {source}; check the command after `--`")]
    Spawn {
        /// The program that failed to start.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// No command was given.
    #[error("no MCP server command given; pass it after `--`")]
    NoCommand,
}

/// Spawns the upstream server with piped stdin/stdout and inherited stderr
/// (its logs go where ours go). It is killed if the proxy drops it.
pub fn spawn_upstream(command: &[String]) -> Result<Child, StdioError> {
    let (program, args) = command.split_first().ok_or(StdioError::NoCommand)?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| StdioError::Spawn {
            program: program.clone(),
            source,
        })
}

/// One line read from a peer.
enum Frame {
    /// A line of text, without its line ending.
    Line(String),
    /// A line that is not UTF-8 (and so not JSON).
    NotUtf8,
    /// The peer closed its output (or reading failed).
    Eof,
}

/// Everything the event loop reacts to.
enum Event {
    Client(Frame),
    Server(Frame),
    HoldDone(IdKey, HoldOutcome),
}

/// A hold in progress: how to cancel it and its progress ticker.
struct Holding {
    cancel: Option<oneshot::Sender<()>>,
    ticker: Option<JoinHandle<()>>,
}

impl Holding {
    fn stop(mut self) {
        if let Some(cancel) = self.cancel.take() {
            let _ = cancel.send(());
        }
        self.stop_ticker();
    }

    fn stop_ticker(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }
}

/// The current time as a [`Timestamp`] (the I/O edge reads the clock; the core never does).
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_millis(ms)
}

fn spawn_reader<R>(input: R, events: mpsc::UnboundedSender<Event>, wrap: fn(Frame) -> Event)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut reader = BufReader::new(input);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let frame = match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => Frame::Eof,
                Ok(_) => {
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match String::from_utf8(std::mem::take(&mut buf)) {
                        Ok(s) => Frame::Line(s),
                        Err(_) => Frame::NotUtf8,
                    }
                }
            };
            let eof = matches!(frame, Frame::Eof);
            if events.send(wrap(frame)).is_err() || eof {
                return;
            }
        }
    });
}

fn spawn_writer<W>(mut output: W) -> (mpsc::UnboundedSender<String>, JoinHandle<()>)
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let task = tokio::spawn(async move {
        while let Some(mut line) = rx.recv().await {
            line.push('\n');
            if output.write_all(line.as_bytes()).await.is_err() || output.flush().await.is_err() {
                return;
            }
        }
        let _ = output.shutdown().await;
    });
    (tx, task)
}

/// Runs the proxy until the client or the upstream is done.
pub async fn run<R, W>(
    mut proxy: Proxy,
    approver: Arc<dyn Approver>,
    audit: Arc<dyn AuditSink>,
    mut child: Child,
    client_in: R,
    client_out: W,
    options: StdioOptions,
) -> Ending
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (events_tx, mut events) = mpsc::unbounded_channel();
    spawn_reader(client_in, events_tx.clone(), Event::Client);
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, events_tx.clone(), Event::Server);
    } else {
        let _ = events_tx.send(Event::Server(Frame::Eof));
    }
    let (to_client, client_writer) = spawn_writer(client_out);
    let mut to_server = child.stdin.take().map(|stdin| spawn_writer(stdin).0);
    let mut holds: HashMap<IdKey, Holding> = HashMap::new();
    let mut client_closed = false;
    let grace = tokio::time::sleep(Duration::MAX);
    tokio::pin!(grace);

    let send_client = |v: &Value| {
        let _ = to_client.send(v.to_string());
    };

    let ending = loop {
        let event = tokio::select! {
            e = events.recv() => match e { Some(e) => e, None => break Ending::ClientClosed },
            () = &mut grace => {
                tracing::warn!("the MCP server did not exit within {SHUTDOWN_GRACE:?} of its input closing; killing it");
                let _ = child.start_kill();
                break Ending::ClientClosed;
            }
        };
        let ctx = CallContext {
            now: now(),
            ..options.context.clone()
        };
        match event {
            Event::Client(Frame::Line(raw)) if !client_closed => {
                let step = proxy.on_client_frame(&raw, &ctx);
                if let Some((call, decision)) = &step.decided {
                    audit.decided(call, decision, &ctx);
                }
                match step.action {
                    ClientAction::Forward => match &to_server {
                        Some(tx) => {
                            let _ = tx.send(raw);
                        }
                        None => tracing::warn!("the MCP server's input is closed; message dropped"),
                    },
                    ClientAction::Reply(v) => send_client(&v),
                    ClientAction::Hold(ticket) => {
                        let key = ticket.key.clone();
                        let ticker = ticket.progress_token.clone().map(|token| {
                            let to_client = to_client.clone();
                            let note = ticket
                                .decision
                                .message
                                .clone()
                                .unwrap_or_else(|| "approval required".to_owned());
                            let every = options.progress_interval;
                            tokio::spawn(async move {
                                let mut tick = tokio::time::interval_at(
                                    tokio::time::Instant::now() + every,
                                    every,
                                );
                                for n in 1u64.. {
                                    tick.tick().await;
                                    let msg = format!("waiting for approval: {note}");
                                    let v = message::progress_notification(&token, n, &msg);
                                    if to_client.send(v.to_string()).is_err() {
                                        return;
                                    }
                                }
                            })
                        });
                        let (cancel_tx, cancel_rx) = oneshot::channel();
                        let fut = approver.hold(*ticket, cancel_rx);
                        let done = events_tx.clone();
                        let done_key = key.clone();
                        tokio::spawn(async move {
                            let outcome = fut.await;
                            let _ = done.send(Event::HoldDone(done_key, outcome));
                        });
                        holds.insert(
                            key,
                            Holding {
                                cancel: Some(cancel_tx),
                                ticker,
                            },
                        );
                    }
                    ClientAction::CancelHold(key) => {
                        if let Some(h) = holds.remove(&key) {
                            tracing::info!("client cancelled held request {key}");
                            h.stop();
                        }
                    }
                }
            }
            Event::Client(Frame::NotUtf8) if !client_closed => {
                send_client(&message::error_response(
                    &Value::Null,
                    message::PARSE_ERROR,
                    "gatehouse: message is not UTF-8 text; dropped",
                ))
            }
            Event::Client(Frame::Eof) if !client_closed => {
                client_closed = true;
                for (_, h) in holds.drain() {
                    h.stop();
                }
                // Closing the server's input is how MCP's stdio transport asks it to exit.
                to_server = None;
                grace
                    .as_mut()
                    .reset(tokio::time::Instant::now() + SHUTDOWN_GRACE);
            }
            Event::Client(_) => {}
            Event::Server(Frame::Line(raw)) => match proxy.on_server_frame(&raw, &ctx) {
                ServerAction::Forward => {
                    let _ = to_client.send(raw);
                }
                ServerAction::ForwardRewritten(v) => send_client(&v),
                ServerAction::Drop(why) => tracing::warn!("{why}; dropped: {raw:.200}"),
            },
            Event::Server(Frame::NotUtf8) => {
                tracing::warn!("upstream sent a line that is not UTF-8; dropped");
            }
            Event::Server(Frame::Eof) => {
                let status = tokio::time::timeout(Duration::from_secs(2), child.wait())
                    .await
                    .ok()
                    .and_then(Result::ok);
                if client_closed {
                    break Ending::ClientClosed;
                }
                let why = match status {
                    Some(s) => format!("exited ({s})"),
                    None => "closed its output".to_owned(),
                };
                let gone = proxy.on_upstream_gone(&why);
                for key in &gone.cancelled_holds {
                    if let Some(h) = holds.remove(key) {
                        h.stop();
                    }
                }
                for reply in &gone.replies {
                    send_client(reply);
                }
                break Ending::UpstreamExited(status);
            }
            Event::HoldDone(key, outcome) => {
                let Some(mut h) = holds.remove(&key) else {
                    continue;
                };
                h.stop_ticker();
                match proxy.resolve_hold(&key, outcome) {
                    Some(Release::Forward(raw)) => match &to_server {
                        Some(tx) => {
                            let _ = tx.send(raw);
                        }
                        None => tracing::warn!(
                            "approved call dropped: the MCP server's input is closed"
                        ),
                    },
                    Some(Release::Reply(v)) => send_client(&v),
                    None => {}
                }
            }
        }
    };
    for (_, h) in holds.drain() {
        h.stop();
    }
    drop(to_server);
    drop(to_client);
    // Let the last replies reach the client before returning.
    let _ = tokio::time::timeout(Duration::from_secs(2), client_writer).await;
    if matches!(ending, Ending::ClientClosed) {
        let _ = tokio::time::timeout(Duration::from_secs(1), child.wait()).await;
    }
    ending
}

/// The proxy's own stdin and stdout as async streams.
///
/// Pipes and sockets (what MCP clients spawn servers with) are registered
/// with the reactor directly, on duplicates of fds 0 and 1: no thread hop per
/// message, which keeps the added latency per call low and steady. Anything
/// else (a file, a terminal) falls back to tokio's thread-backed stdio.
pub fn client_stdio() -> (ClientIn, ClientOut) {
    (stdin_stream(), stdout_stream())
}

/// The client's side of the conversation, read by the proxy.
pub type ClientIn = Box<dyn AsyncRead + Unpin + Send>;
/// The client's side of the conversation, written by the proxy.
pub type ClientOut = Box<dyn AsyncWrite + Unpin + Send>;

fn stdin_stream() -> ClientIn {
    use std::os::fd::AsFd;
    let reactor =
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| -> Option<ClientIn> {
                let file = std::fs::File::from(fd);
                let kind = file.metadata().ok()?.file_type();
                if std::os::unix::fs::FileTypeExt::is_fifo(&kind) {
                    let rx = tokio::net::unix::pipe::Receiver::from_file(file).ok()?;
                    Some(Box::new(rx))
                } else if std::os::unix::fs::FileTypeExt::is_socket(&kind) {
                    Some(Box::new(unix_stream(file)?))
                } else {
                    None
                }
            });
    reactor.unwrap_or_else(|| Box::new(tokio::io::stdin()))
}

fn stdout_stream() -> ClientOut {
    use std::os::fd::AsFd;
    let reactor = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| -> Option<ClientOut> {
            let file = std::fs::File::from(fd);
            let kind = file.metadata().ok()?.file_type();
            if std::os::unix::fs::FileTypeExt::is_fifo(&kind) {
                let tx = tokio::net::unix::pipe::Sender::from_file(file).ok()?;
                Some(Box::new(tx))
            } else if std::os::unix::fs::FileTypeExt::is_socket(&kind) {
                Some(Box::new(unix_stream(file)?))
            } else {
                None
            }
        });
    reactor.unwrap_or_else(|| Box::new(tokio::io::stdout()))
}

fn unix_stream(file: std::fs::File) -> Option<tokio::net::UnixStream> {
    let std_stream = std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(file));
    std_stream.set_nonblocking(true).ok()?;
    tokio::net::UnixStream::from_std(std_stream).ok()
}
