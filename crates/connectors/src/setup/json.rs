//! A JSON value that keeps object keys in file order, so editing a user's
//! settings file changes only what we add or remove.
//!
//! (serde_json's `preserve_order` feature would do this too, but features
//! unify across the binary and would change key order for every crate that
//! serialises a `serde_json::Map`, so this crate keeps its own type.)

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A JSON document whose objects remember their key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Any number, kept exactly as serde_json read it.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, in file order.
    Object(IndexMap<String, Json>),
}

impl Json {
    /// An empty object.
    pub fn object() -> Json {
        Json::Object(IndexMap::new())
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object's map, if this is an object.
    pub fn as_object(&self) -> Option<&IndexMap<String, Json>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The object's map, mutably, if this is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut IndexMap<String, Json>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The array, mutably, if this is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Converts a `serde_json::Value` (for values we build with `json!`).
    pub fn from_value(v: serde_json::Value) -> Json {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(b),
            serde_json::Value::Number(n) => Json::Number(n),
            serde_json::Value::String(s) => Json::String(s),
            serde_json::Value::Array(a) => {
                Json::Array(a.into_iter().map(Json::from_value).collect())
            }
            serde_json::Value::Object(m) => Json::Object(
                m.into_iter()
                    .map(|(k, v)| (k, Json::from_value(v)))
                    .collect(),
            ),
        }
    }
}

/// Parses a settings file, with serde_json's line/column in errors.
pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
    // First pass for a precise error message; the untagged enum's own errors
    // do not say where.
    serde_json::from_str::<serde::de::IgnoredAny>(text)?;
    serde_json::from_str(text)
}

/// Pretty-prints with two-space indentation and a final newline.
pub fn to_pretty(doc: &Json) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(doc)?;
    s.push('\n');
    Ok(s)
}

/// An object from key/value pairs, in the order given.
pub fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Json {
    Json::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}
