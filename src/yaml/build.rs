//! Events from `granit-parser` → a [`Node`] tree, without recursion (an explicit stack), so
//! deeply nested input gives an error rather than a stack overflow.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::{Node, Value, YamlError, scalar};

/// The deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 256;
/// The most nodes a document may expand to (aliases included): a guard against alias bombs.
pub const MAX_NODES: usize = 1_000_000;

struct Frame {
    line: usize,
    col: usize,
    anchor: usize,
    kind: Kind,
}

enum Kind {
    Seq(Vec<Node>),
    Map {
        pairs: Vec<(Node, Node)>,
        key: Option<(Node, bool)>,
    },
}

fn pos(span: &Span) -> (usize, usize) {
    (span.start.line().max(1), span.start.col() + 1)
}

fn err(line: usize, col: usize, message: impl Into<String>) -> YamlError {
    YamlError {
        line,
        col,
        message: message.into(),
    }
}

fn size(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Map(pairs) => 1 + pairs.iter().map(|(k, v)| size(k) + size(v)).sum::<usize>(),
        _ => 1,
    }
}

/// A scalar's value, honouring core tags; custom tags keep the scalar as a string.
fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    match tag {
        None if style == ScalarStyle::Plain => scalar::resolve_plain(text),
        None => Value::Str(text.to_owned()),
        Some(t) => match t.core_suffix() {
            Some("null") => Value::Null,
            Some("bool" | "int" | "float") => match scalar::resolve_plain(text) {
                v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => v,
                _ => Value::Str(text.to_owned()),
            },
            _ => Value::Str(text.to_owned()),
        },
    }
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    total: usize,
    root: Option<Node>,
}

impl Builder {
    /// Hands a finished node (with whether it is a plain `<<` key) to its parent.
    fn complete(&mut self, node: Node, anchor: usize, merge_key: bool) {
        if anchor != 0 {
            let n = size(&node);
            self.anchors.insert(anchor, (node.clone(), n));
        }
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match &mut top.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map { pairs, key } => match key.take() {
                None => *key = Some((node, merge_key)),
                Some((k, true)) => merge(pairs, k, node),
                Some((k, false)) => pairs.push((k, node)),
            },
        }
    }

    fn count(&mut self, n: usize, span: &Span) -> Result<(), YamlError> {
        self.total = self.total.saturating_add(n);
        if self.total > MAX_NODES {
            let (l, c) = pos(span);
            return Err(err(
                l,
                c,
                format!(
                    "the document expands to more than {MAX_NODES} nodes (aliases of aliases?)"
                ),
            ));
        }
        Ok(())
    }
}

/// Psych's merge: a mapping (or a sequence of mappings, the first winning) is merged in
/// where `<<` stands; anything else stays an ordinary `<<` key.
fn merge(pairs: &mut Vec<(Node, Node)>, key: Node, value: Node) {
    match value.value {
        Value::Map(merged) => pairs.extend(merged),
        Value::Seq(items) if items.iter().all(|i| matches!(i.value, Value::Map(_))) => {
            for item in items.into_iter().rev() {
                if let Value::Map(merged) = item.value {
                    pairs.extend(merged);
                }
            }
        }
        other => pairs.push((
            key,
            Node {
                value: other,
                line: value.line,
                col: value.col,
            },
        )),
    }
}

pub fn build(text: &str) -> Result<Node, YamlError> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        total: 0,
        root: None,
    };
    let mut documents = 0usize;
    for next in Parser::new_from_str(text) {
        let (event, span) = next.map_err(|e| {
            let m = e.marker();
            err(m.line().max(1), m.col() + 1, e.info())
        })?;
        let (line, col) = pos(&span);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(err(
                        line,
                        col,
                        "a second YAML document starts here; a CI file holds one document",
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                b.count(1, &span)?;
                let merge_key = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
                let v = scalar_value(&value, style, tag.as_deref());
                b.complete(
                    Node {
                        value: v,
                        line,
                        col,
                    },
                    anchor,
                    merge_key,
                );
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                b.count(1, &span)?;
                if b.stack.len() >= MAX_DEPTH {
                    return Err(err(
                        line,
                        col,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let kind = if matches!(event, Event::SequenceStart(..)) {
                    Kind::Seq(Vec::new())
                } else {
                    Kind::Map {
                        pairs: Vec::new(),
                        key: None,
                    }
                };
                b.stack.push(Frame {
                    line,
                    col,
                    anchor,
                    kind,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = b.stack.pop() else {
                    return Err(err(line, col, "unbalanced collection end"));
                };
                let value = match frame.kind {
                    Kind::Seq(items) => Value::Seq(items),
                    Kind::Map { pairs, .. } => Value::Map(pairs),
                };
                b.complete(
                    Node {
                        value,
                        line: frame.line,
                        col: frame.col,
                    },
                    frame.anchor,
                    false,
                );
            }
            Event::Alias(id) => {
                let Some((node, n)) = b.anchors.get(&id).cloned() else {
                    return Err(err(line, col, "alias to an unknown anchor"));
                };
                b.count(n, &span)?;
                b.complete(node, 0, false);
            }
            Event::UnresolvedAlias(name) => {
                return Err(err(
                    line,
                    col,
                    format!("alias `*{name}` has no anchor before it"),
                ));
            }
            _ => {}
        }
    }
    Ok(b.root.unwrap_or(Node {
        value: Value::Null,
        line: 1,
        col: 1,
    }))
}
