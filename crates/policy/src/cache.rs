//! The payload of the compiled policy cache: a user policy's node tree in a
//! compact binary form, so that a hook whose policy text is unchanged since
//! it last loaded skips the YAML parser (by far the largest cost of loading
//! a user policy) and the load-time glob checks.
//!
//! Pure: the CLI decides where entries live and what keys them (the exact
//! policy text and the binary reading it). The tree is stored flat, in
//! pre-order, so decoding never recurses on untrusted nesting, and the
//! rebuild refuses anything deeper than [`MAX_DEPTH`] or malformed: a bad
//! entry is a cache miss, never a crash.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::node::{Node, Pos, Value};

/// Deeper than any policy; a guard against a corrupt entry exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// Changes whenever the layout below does (also part of the CLI's cache key).
pub const FORMAT: &str = "gatehouse-policy-nodes-v1";

/// One node, children following it in pre-order.
#[derive(Serialize, Deserialize)]
struct Flat<'a> {
    line: u32,
    col: u32,
    #[serde(borrow)]
    value: FlatValue<'a>,
}

#[derive(Serialize, Deserialize)]
enum FlatValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    /// A sequence of this many nodes.
    Seq(u32),
    /// A mapping of this many key, value pairs.
    Map(u32),
}

/// Encodes a node tree; `None` only for a tree too large for the format.
pub fn encode(root: &Node) -> Option<Vec<u8>> {
    let mut flat = Vec::new();
    flatten(root, &mut flat)?;
    postcard::to_allocvec(&flat).ok()
}

fn flatten<'a>(node: &'a Node, out: &mut Vec<Flat<'a>>) -> Option<()> {
    let value = match &node.value {
        Value::Null => FlatValue::Null,
        Value::Bool(b) => FlatValue::Bool(*b),
        Value::Int(i) => FlatValue::Int(*i),
        Value::Float(f) => FlatValue::Float(*f),
        Value::Str(s) => FlatValue::Str(s.as_ref()),
        Value::Seq(items) => FlatValue::Seq(u32::try_from(items.len()).ok()?),
        Value::Map(entries) => FlatValue::Map(u32::try_from(entries.len()).ok()?),
    };
    out.push(Flat {
        line: node.pos.line,
        col: node.pos.col,
        value,
    });
    match &node.value {
        Value::Seq(items) => items.iter().try_for_each(|n| flatten(n, out)),
        Value::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            flatten(k, out)?;
            flatten(v, out)
        }),
        _ => Some(()),
    }
}

/// Decodes what [`encode`] made; `None` for anything else.
pub fn decode(bytes: &[u8]) -> Option<Node> {
    let (flat, rest): (Vec<Flat<'_>>, _) = postcard::take_from_bytes(bytes).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut items = flat.into_iter();
    let root = rebuild(&mut items, 0)?;
    // Trailing nodes mean the entry is not one tree.
    items.next().is_none().then_some(root)
}

fn rebuild<'a>(items: &mut impl Iterator<Item = Flat<'a>>, depth: usize) -> Option<Node> {
    if depth > MAX_DEPTH {
        return None;
    }
    let flat = items.next()?;
    let value = match flat.value {
        FlatValue::Null => Value::Null,
        FlatValue::Bool(b) => Value::Bool(b),
        FlatValue::Int(i) => Value::Int(i),
        FlatValue::Float(f) => Value::Float(f),
        FlatValue::Str(s) => Value::Str(Cow::Owned(s.to_owned())),
        FlatValue::Seq(n) => Value::Seq(Cow::Owned(
            (0..n)
                .map(|_| rebuild(items, depth + 1))
                .collect::<Option<_>>()?,
        )),
        FlatValue::Map(n) => Value::Map(Cow::Owned(
            (0..n)
                .map(|_| Some((rebuild(items, depth + 1)?, rebuild(items, depth + 1)?)))
                .collect::<Option<_>>()?,
        )),
    };
    Some(Node {
        pos: Pos {
            line: flat.line,
            col: flat.col,
        },
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_yaml;

    #[test]
    fn a_tree_survives_the_round_trip_with_its_positions() {
        for (name, text) in crate::bundled::FILES {
            let tree = parse_yaml(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let bytes = encode(&tree).unwrap_or_else(|| panic!("{name}: not encoded"));
            assert_eq!(decode(&bytes), Some(tree), "{name}");
        }
    }

    #[test]
    fn corrupt_entries_are_misses_not_crashes() {
        let tree = parse_yaml("a: [1, {b: c}]\n").unwrap_or_else(|e| panic!("{e:?}"));
        let bytes = encode(&tree).unwrap_or_else(|| panic!("not encoded"));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "truncated at {cut}");
        }
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(&bytes);
        assert_eq!(decode(&trailing), None);
        // A sequence claiming more items than there are, and one nested past the limit.
        let liar = postcard::to_allocvec(&vec![Flat {
            line: 1,
            col: 1,
            value: FlatValue::Seq(u32::MAX),
        }])
        .unwrap_or_default();
        assert_eq!(decode(&liar), None);
        let deep: Vec<Flat<'_>> = (0..10_000)
            .map(|_| Flat {
                line: 1,
                col: 1,
                value: FlatValue::Seq(1),
            })
            .collect();
        let deep = postcard::to_allocvec(&deep).unwrap_or_default();
        assert_eq!(decode(&deep), None);
    }
}
