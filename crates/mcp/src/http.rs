//! The Streamable HTTP front: `gatehouse mcp --listen ADDR --upstream URL`.
//!
//! Every request on the MCP endpoint (POST, GET, DELETE) is forwarded to the
//! upstream with its headers (`Mcp-Session-Id`, `MCP-Protocol-Version`,
//! `Authorization`, `Last-Event-ID`...), and the upstream's answer, JSON or
//! an SSE stream, is passed back as it arrives. Only a POSTed `tools/call` is
//! intercepted, exactly as on stdio: allow forwards, deny answers with a tool
//! error, ask holds (answering as an SSE stream that carries
//! `notifications/progress` while the call waits), and a `tools/list`
//! answer is filtered when filtering is on.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gatehouse_core::CallContext;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::audit::AuditSink;
use crate::gate::Gate;
use crate::hold::Approver;
use crate::message::{self, IdKey, Kind};
use crate::session::{ClientAction, HoldOutcome, HoldTicket, Proxy, ServerAction};
use crate::stdio::now;

/// Largest request body accepted from a client (a tool call's arguments).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Settings of the HTTP front.
#[derive(Clone)]
pub struct HttpOptions {
    /// The upstream MCP endpoint (`http://host:port/mcp`).
    pub upstream: String,
    /// Hide tools the policy denies outright from `tools/list`.
    pub hide_denied_tools: bool,
    /// How often a held call gets `notifications/progress`.
    pub progress_interval: Duration,
    /// The context calls are evaluated in (`now` is filled per call).
    pub context: CallContext,
}

/// Errors that stop the HTTP front from starting.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The upstream URL is not usable.
    #[error("bad --upstream URL `{0}`: use http[s]://host[:port]/path")]
    Upstream(String),
    /// Serving failed.
    #[error("the HTTP front stopped: {0}")]
    Serve(std::io::Error),
}

/// Shared state of the front.
struct Front {
    options: HttpOptions,
    client: reqwest::Client,
    /// The gate template; each session gets its own copy (tool annotations are per session).
    gate: Gate,
    /// Tool annotations learnt per `Mcp-Session-Id` (`""` for sessionless servers).
    sessions: Mutex<HashMap<String, Gate>>,
    /// Held calls per (session, request id), to cancel on `notifications/cancelled`.
    held: Mutex<HashMap<(String, IdKey), oneshot::Sender<()>>>,
    approver: Arc<dyn Approver>,
    audit: Arc<dyn AuditSink>,
}

/// Binds `listen` and serves until the process is stopped. `on_bound` gets
/// the bound address (to print it: port 0 picks a free port).
pub async fn serve(
    listen: &str,
    gate: Gate,
    approver: Arc<dyn Approver>,
    audit: Arc<dyn AuditSink>,
    options: HttpOptions,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), HttpError> {
    let url = reqwest::Url::parse(&options.upstream)
        .map_err(|_| HttpError::Upstream(options.upstream.clone()))?;
    // TLS by rustls (ring) against the system trust store (SSL_CERT_FILE and
    // SSL_CERT_DIR honoured); certificates are always verified.
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(HttpError::Upstream(options.upstream.clone()));
    }
    // reqwest is built without a default provider; an error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|_| HttpError::Upstream(options.upstream.clone()))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| HttpError::Bind {
            addr: listen.to_owned(),
            source,
        })?;
    let addr = listener.local_addr().map_err(HttpError::Serve)?;
    on_bound(addr);
    let front = Arc::new(Front {
        options,
        client,
        gate,
        sessions: Mutex::new(HashMap::new()),
        held: Mutex::new(HashMap::new()),
        approver,
        audit,
    });
    let app = Router::new().fallback(handle).with_state(front);
    axum::serve(listener, app).await.map_err(HttpError::Serve)
}

fn session_of(headers: &HeaderMap) -> String {
    headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

async fn handle(State(front): State<Arc<Front>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &message::error_response(
                    &Value::Null,
                    message::INVALID_REQUEST,
                    "gatehouse: request body too large or unreadable",
                ),
            );
        }
    };
    if parts.method == Method::DELETE {
        front.forget_session(&session_of(&parts.headers));
    }
    if parts.method != Method::POST {
        return front
            .forward(parts.method, &parts.headers, body, None)
            .await;
    }
    let session = session_of(&parts.headers);
    let text = String::from_utf8_lossy(&body).into_owned();
    // A cancellation of a held call is ours to act on; it never goes upstream.
    if let Ok(msg) = serde_json::from_str::<Value>(&text)
        && let Kind::Notification {
            method: "notifications/cancelled",
        } = message::kind(&msg)
        && let Some(request_id) = msg.pointer("/params/requestId")
    {
        let cancel = front
            .held
            .lock()
            .ok()
            .and_then(|mut h| h.remove(&(session.clone(), IdKey::of(request_id))));
        if let Some(cancel) = cancel {
            let _ = cancel.send(());
            return StatusCode::ACCEPTED.into_response();
        }
    }
    let gate = front
        .sessions
        .lock()
        .ok()
        .and_then(|s| s.get(&session).cloned())
        .unwrap_or_else(|| front.gate.clone());
    let mut proxy = Proxy::new(gate, front.options.hide_denied_tools);
    let ctx = CallContext {
        now: now(),
        ..front.options.context.clone()
    };
    let step = proxy.on_client_frame(&text, &ctx);
    if let Some((call, decision)) = &step.decided {
        front.audit.decided(call, decision, &ctx);
    }
    match step.action {
        ClientAction::Forward => {
            front
                .forward(Method::POST, &parts.headers, body, Some((proxy, session)))
                .await
        }
        ClientAction::Reply(v) => json_response(StatusCode::OK, &v),
        ClientAction::Hold(ticket) => front.hold(*ticket, parts.headers, body, session, proxy),
        // A cancellation for a call this front does not hold: pass it on.
        ClientAction::CancelHold(_) => {
            front
                .forward(Method::POST, &parts.headers, body, None)
                .await
        }
    }
}

/// Request headers not forwarded: they describe this hop, not the message.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "content-length"
            | "connection"
            | "transfer-encoding"
            | "keep-alive"
            | "upgrade"
            | "te"
            | "trailer"
            | "proxy-authorization"
            | "proxy-connection"
    )
}

impl Front {
    /// Forwards one request upstream and streams the answer back. With a
    /// `proxy` (a POST that may be `tools/list`), JSON-RPC messages in the
    /// answer pass through [`Proxy::on_server_frame`] for filtering.
    async fn forward(
        self: &Arc<Self>,
        method: Method,
        headers: &HeaderMap,
        body: Bytes,
        proxy: Option<(Proxy, String)>,
    ) -> Response {
        let upstream = match self.send_upstream(method, headers, body).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let status =
            StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut out_headers = HeaderMap::new();
        for (name, value) in upstream.headers() {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) && !hop_by_hop(&n)
            {
                out_headers.append(n, v);
            }
        }
        let is_sse = out_headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let is_json = out_headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let session = out_headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match proxy {
            Some((mut proxy, request_session)) if is_json => {
                let bytes = upstream.bytes().await.unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let ctx = self.context();
                let body = match proxy.on_server_frame(&text, &ctx) {
                    ServerAction::ForwardRewritten(v) => {
                        out_headers.remove(header::CONTENT_LENGTH);
                        Body::from(v.to_string())
                    }
                    _ => Body::from(bytes),
                };
                self.keep_gate(session.unwrap_or(request_session), &proxy);
                body
            }
            Some((proxy, request_session)) if is_sse => {
                out_headers.remove(header::CONTENT_LENGTH);
                let front = self.clone();
                let (tx, rx) = mpsc::unbounded_channel::<Result<Bytes, std::io::Error>>();
                let mut stream = upstream.bytes_stream();
                tokio::spawn(async move {
                    let mut proxy = proxy;
                    let mut events = SseEvents::default();
                    while let Some(chunk) = stream.next().await {
                        let Ok(chunk) = chunk else { break };
                        for event in events.push(&chunk) {
                            let out = front.filter_event(&mut proxy, event);
                            if tx.send(Ok(out)).is_err() {
                                return;
                            }
                        }
                    }
                    front.keep_gate(session.unwrap_or(request_session), &proxy);
                });
                Body::from_stream(tokio_stream_from(rx))
            }
            _ => Body::from_stream(upstream.bytes_stream()),
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        *resp.headers_mut() = out_headers;
        resp
    }

    async fn send_upstream(
        &self,
        method: Method,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<reqwest::Response, Response> {
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::POST);
        let mut req = self.client.request(method, &self.options.upstream);
        for (name, value) in headers {
            if !hop_by_hop(name) {
                req = req.header(name.as_str(), value.as_bytes());
            }
        }
        req.body(body).send().await.map_err(|e| {
            tracing::warn!("upstream {} unreachable: {e}", self.options.upstream);
            json_response(
                StatusCode::BAD_GATEWAY,
                &message::error_response(
                    &Value::Null,
                    message::UPSTREAM_GONE,
                    &format!(
                        "gatehouse: the upstream MCP server {} cannot be reached",
                        self.options.upstream
                    ),
                ),
            )
        })
    }

    /// The client ended its session (`DELETE`): drop what the session taught
    /// the gate and cancel its held calls.
    fn forget_session(&self, session: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(session);
        }
        if let Ok(mut held) = self.held.lock() {
            let keys: Vec<_> = held.keys().filter(|(s, _)| s == session).cloned().collect();
            for key in keys {
                if let Some(cancel) = held.remove(&key) {
                    let _ = cancel.send(());
                }
            }
        }
    }

    fn context(&self) -> CallContext {
        CallContext {
            now: now(),
            ..self.options.context.clone()
        }
    }

    /// Remembers what the session's `tools/list` taught the gate.
    fn keep_gate(&self, session: String, proxy: &Proxy) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.insert(session, proxy.gate().clone());
        }
    }

    /// Re-encodes one SSE event, rewriting its data when the proxy filters it.
    fn filter_event(&self, proxy: &mut Proxy, event: String) -> Bytes {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| {
                l.strip_prefix("data:")
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
            })
            .collect();
        if data.is_empty() {
            return Bytes::from(event + "\n\n");
        }
        match proxy.on_server_frame(&data.join("\n"), &self.context()) {
            ServerAction::ForwardRewritten(v) => {
                let mut out: String = event
                    .lines()
                    .filter(|l| !l.starts_with("data:"))
                    .map(|l| format!("{l}\n"))
                    .collect();
                out.push_str(&format!("data: {v}\n\n"));
                Bytes::from(out)
            }
            _ => Bytes::from(event + "\n\n"),
        }
    }

    /// Holds an asked call, answering as an SSE stream: progress while it
    /// waits (when the client asked for it), then the upstream's answer or
    /// the denial. A client that disconnects cancels the hold.
    fn hold(
        self: &Arc<Self>,
        ticket: HoldTicket,
        headers: HeaderMap,
        body: Bytes,
        session: String,
        proxy: Proxy,
    ) -> Response {
        let (cancel_tx, cancel_rx) = oneshot::channel();
        let key = (session.clone(), ticket.key.clone());
        if let Ok(mut held) = self.held.lock() {
            held.insert(key.clone(), cancel_tx);
        }
        let id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or(Value::Null);
        let (tx, rx) = mpsc::unbounded_channel::<Result<Bytes, std::io::Error>>();
        let front = self.clone();
        let progress_token = ticket.progress_token.clone();
        let note = ticket
            .decision
            .message
            .clone()
            .unwrap_or_else(|| "approval required".into());
        let tool = ticket.call.tool.clone();
        let fut = self.approver.hold(ticket, cancel_rx);
        tokio::spawn(async move {
            tokio::pin!(fut);
            let every = front.options.progress_interval;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            let mut n = 0u64;
            let outcome = loop {
                tokio::select! {
                    outcome = &mut fut => break outcome,
                    _ = tick.tick() => {
                        n += 1;
                        // Progress when asked for, else an SSE comment: both keep
                        // idle timeouts at bay and reveal a client that left.
                        let frame = match &progress_token {
                            Some(token) => sse_event(&message::progress_notification(
                                token,
                                n,
                                &format!("waiting for approval: {note}"),
                            )),
                            None => Bytes::from_static(b": waiting for approval\n\n"),
                        };
                        if tx.send(Ok(frame)).is_err() {
                            // The client went away: withdraw the approval.
                            if let Some(cancel) = front.held.lock().ok().and_then(|mut h| h.remove(&key)) {
                                let _ = cancel.send(());
                            }
                            let _ = fut.await;
                            return;
                        }
                    }
                }
            };
            let still_held = front
                .held
                .lock()
                .ok()
                .and_then(|mut h| h.remove(&key))
                .is_some();
            if !still_held {
                return; // cancelled by the client: no answer
            }
            match outcome {
                HoldOutcome::Denied(reason) => {
                    let v = message::tool_error_result(
                        &id,
                        &format!("gatehouse denied {tool}: {reason}"),
                    );
                    let _ = tx.send(Ok(sse_event(&v)));
                }
                HoldOutcome::Approved => {
                    let resp = front
                        .forward(Method::POST, &headers, body, Some((proxy, session)))
                        .await;
                    let mut upstream_body = resp.into_body().into_data_stream();
                    let mut events = SseEvents::default();
                    let mut raw = Vec::new();
                    while let Some(Ok(chunk)) = upstream_body.next().await {
                        raw.extend_from_slice(&chunk);
                        for event in events.push(&chunk) {
                            if tx.send(Ok(Bytes::from(event + "\n\n"))).is_err() {
                                return;
                            }
                        }
                    }
                    // A JSON (non-SSE) upstream answer becomes one event.
                    if !events.seen_any && !raw.is_empty() {
                        let _ = tx.send(Ok(Bytes::from(format!(
                            "data: {}\n\n",
                            String::from_utf8_lossy(&raw)
                        ))));
                    }
                }
            }
        });
        let mut resp = Response::new(Body::from_stream(tokio_stream_from(rx)));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        resp
    }
}

fn sse_event(v: &Value) -> Bytes {
    Bytes::from(format!("event: message\ndata: {v}\n\n"))
}

/// Splits an SSE byte stream into events (the text between blank lines).
#[derive(Default)]
struct SseEvents {
    buf: String,
    /// Whether any complete event was seen (else the body was not SSE).
    seen_any: bool,
}

impl SseEvents {
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.push_str(&String::from_utf8_lossy(chunk));
        if self.buf.contains('\r') {
            self.buf = self.buf.replace("\r\n", "\n");
        }
        let mut out = Vec::new();
        while let Some(end) = self.buf.find("\n\n") {
            let event: String = self.buf.drain(..end + 2).collect();
            out.push(event.trim_end_matches('\n').to_owned());
            self.seen_any = true;
        }
        out
    }
}

/// An unbounded receiver as a stream, for response bodies.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::UnboundedReceiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_across_chunks() {
        let mut ev = SseEvents::default();
        assert!(ev.push(b"event: message\ndata: {\"a\"").is_empty());
        let out = ev.push(b":1}\n\ndata: 2\r\n\r\nda");
        assert_eq!(
            out,
            vec![
                "event: message\ndata: {\"a\":1}".to_owned(),
                "data: 2".to_owned()
            ]
        );
        assert!(ev.seen_any);
    }
}
