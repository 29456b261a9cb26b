//! A positioned YAML 1.1 reader: every node keeps the line and column where it starts, so
//! findings about a CI file (JSON pointers) can be reported as `file:line:column`.
//!
//! Contract:
//! - One document per text (a second document is an error); the empty text is `null`.
//! - Plain scalars resolve as Ruby's Psych does, which is what GitLab uses (see [`scalar`]).
//!   Quoted and block scalars are strings; core tags (`!!str`, `!!int`, ...) are honoured.
//! - Anchors and aliases are expanded (with a cap on the expanded size, against alias
//!   bombs), and merge keys `<<` are applied as Psych does: the merged mapping's pairs are
//!   inserted where `<<` stands and a later key wins. Nodes copied by an alias or a merge keep
//!   the position where they were written.
//! - A node with a custom tag, such as `!reference [.setup, script]`, is represented by its
//!   content (here the sequence `[".setup", "script"]`); the tag itself is dropped. This keeps
//!   `to_json` valid for GitLab's schema, whose `script` items accept nested string arrays.
//! - Nesting deeper than [`MAX_DEPTH`] is an error, so no input can exhaust the stack, and
//!   no input panics.

mod build;
pub mod scalar;

pub use build::{MAX_DEPTH, MAX_NODES};

/// One node of the document, with where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// The line where the node starts, from 1.
    pub line: usize,
    /// The column where the node starts, from 1 (in characters).
    pub col: usize,
}

/// A YAML value after resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing.
    Null,
    /// `true`, `yes`, `on`, ... (see [`scalar`]).
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A float, including `.inf` and `.nan`.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order; duplicate keys are kept (the last one wins in `to_json`).
    Map(Vec<(Node, Node)>),
}

/// The text is not YAML, or not something this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct YamlError {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    build::build(text)
}

impl Node {
    /// The JSON form GitLab sees: map keys become strings (`true`, `1`, the empty string for null), `.inf`
    /// and `.nan` (which JSON cannot hold) become the strings `".inf"`, `"-.inf"`, `".nan"`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
                || {
                    J::String(if f.is_nan() {
                        ".nan".to_owned()
                    } else if *f > 0.0 {
                        ".inf".to_owned()
                    } else {
                        "-.inf".to_owned()
                    })
                },
                J::Number,
            ),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(pairs) => {
                let mut m = serde_json::Map::new();
                for (k, v) in pairs {
                    m.insert(k.key_string(), v.to_json());
                }
                J::Object(m)
            }
        }
    }

    /// The string a mapping key becomes in JSON.
    pub fn key_string(&self) -> String {
        match &self.value {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(_) => match self.to_json() {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            },
            Value::Str(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) => self.to_json().to_string(),
        }
    }

    /// The value of a mapping key (the last one, as in `to_json`).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.key_string() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, for a string node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Where the node at an RFC 6901 JSON pointer starts. A mapping member is located at its
    /// key (the line a reader looks for), a sequence item at the item. `None` when the
    /// pointer does not name a node of this document.
    pub fn locate(&self, json_pointer: &str) -> Option<(usize, usize)> {
        if json_pointer.is_empty() {
            return Some((self.line, self.col));
        }
        let rest = json_pointer.strip_prefix('/')?;
        let mut node = self;
        let mut at = (self.line, self.col);
        for raw in rest.split('/') {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            match &node.value {
                Value::Map(pairs) => {
                    let (k, v) = pairs.iter().rev().find(|(k, _)| k.key_string() == seg)?;
                    at = (k.line, k.col);
                    node = v;
                }
                Value::Seq(items) => {
                    let i: usize = seg.parse().ok()?;
                    node = items.get(i)?;
                    at = (node.line, node.col);
                }
                _ => return None,
            }
        }
        Some(at)
    }

    /// Like [`Node::locate`], but falls back to the deepest node on the pointer's path, so a
    /// finding about a missing key still points at its parent.
    pub fn locate_nearest(&self, json_pointer: &str) -> (usize, usize) {
        let mut p = json_pointer.to_owned();
        loop {
            if let Some(at) = self.locate(&p) {
                return at;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return (self.line, self.col),
            }
        }
    }
}

#[cfg(test)]
mod tests;
