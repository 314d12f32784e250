//! JSON-RPC 2.0 messages as MCP frames them, kept as raw [`Value`]s.
//!
//! The proxy only needs to know a message's kind, its id and its method; every
//! other byte is passed through untouched, so this module classifies and
//! builds messages but never models their payloads.

use serde_json::{Value, json};

/// JSON-RPC error code for a request the proxy could not parse.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC error code for a structurally invalid request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC error code for a request whose params are unusable.
pub const INVALID_PARAMS: i64 = -32602;
/// Implementation-defined server error: the upstream server is gone.
pub const UPSTREAM_GONE: i64 = -32000;

/// What kind of JSON-RPC message a frame carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind<'a> {
    /// A call expecting an answer: has `method` and `id`.
    Request {
        /// The id the answer must carry (a string or a number).
        id: &'a Value,
        /// The method name (`tools/call`, `initialize`...).
        method: &'a str,
    },
    /// A one-way message: has `method`, no `id`.
    Notification {
        /// The method name (`notifications/cancelled`...).
        method: &'a str,
    },
    /// An answer: has `id` and `result` or `error`, no `method`.
    Response {
        /// The id of the request it answers.
        id: &'a Value,
    },
    /// A JSON-RPC batch (an array of messages; MCP 2025-03-26 allowed them).
    Batch,
    /// Anything else: not a JSON-RPC message the proxy can route.
    Invalid,
}

/// Classifies one parsed frame.
pub fn kind(msg: &Value) -> Kind<'_> {
    if msg.is_array() {
        return Kind::Batch;
    }
    let Some(obj) = msg.as_object() else {
        return Kind::Invalid;
    };
    let id = obj.get("id").filter(|id| id.is_string() || id.is_number());
    match (obj.get("method").and_then(Value::as_str), id) {
        (Some(method), Some(id)) => Kind::Request { id, method },
        (Some(method), None) if !obj.contains_key("id") => Kind::Notification { method },
        (None, Some(id)) if obj.contains_key("result") || obj.contains_key("error") => {
            Kind::Response { id }
        }
        _ => Kind::Invalid,
    }
}

/// A request id as a map key. JSON-RPC ids are strings or numbers and `1` and
/// `"1"` are different ids, so the key is the id's JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdKey(String);

impl IdKey {
    /// The key of a request id.
    pub fn of(id: &Value) -> IdKey {
        IdKey(id.to_string())
    }
}

impl std::fmt::Display for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON-RPC error response.
pub fn error_response(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// A successful `tools/call` result that reports a tool error the model can
/// read: how MCP says "the tool ran and failed" rather than "the protocol broke".
pub fn tool_error_result(id: &Value, text: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": { "content": [{ "type": "text", "text": text }], "isError": true }
    })
}

/// A `notifications/progress` for a held call, so clients with idle timeouts
/// keep waiting. `progress` must grow with every notification for one token.
pub fn progress_notification(token: &Value, progress: u64, message: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": { "progressToken": token, "progress": progress, "message": message }
    })
}

/// The `_meta.progressToken` of a request, when the client asked for progress.
pub fn progress_token(msg: &Value) -> Option<&Value> {
    msg.pointer("/params/_meta/progressToken")
        .filter(|t| t.is_string() || t.is_number())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_requests_notifications_responses_and_junk() {
        let req = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}});
        assert_eq!(
            kind(&req),
            Kind::Request {
                id: &json!(1),
                method: "tools/call"
            }
        );
        let note = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
        assert_eq!(
            kind(&note),
            Kind::Notification {
                method: "notifications/initialized"
            }
        );
        let resp = json!({"jsonrpc":"2.0","id":"a","result":{}});
        assert_eq!(kind(&resp), Kind::Response { id: &json!("a") });
        let err = json!({"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}});
        assert_eq!(kind(&err), Kind::Response { id: &json!("a") });
        assert_eq!(kind(&json!([req])), Kind::Batch);
        assert_eq!(kind(&json!("text")), Kind::Invalid);
        // A method with a null or object id is neither a request nor a notification.
        assert_eq!(
            kind(&json!({"id":null,"method":"tools/call"})),
            Kind::Invalid
        );
        assert_eq!(kind(&json!({"id":{},"method":"tools/call"})), Kind::Invalid);
        assert_eq!(kind(&json!({"id":1})), Kind::Invalid);
    }

    #[test]
    fn id_keys_distinguish_numbers_from_strings() {
        assert_ne!(IdKey::of(&json!(1)), IdKey::of(&json!("1")));
        assert_eq!(IdKey::of(&json!("x")), IdKey::of(&json!("x")));
    }

    #[test]
    fn progress_token_is_read_from_meta() {
        let msg = json!({"params":{"_meta":{"progressToken":"p1"}}});
        assert_eq!(progress_token(&msg), Some(&json!("p1")));
        assert_eq!(progress_token(&json!({"params":{}})), None);
        assert_eq!(
            progress_token(&json!({"params":{"_meta":{"progressToken":null}}})),
            None
        );
    }
}
