//! How big GitLab thinks a CI file is. GitLab refuses a file whose *parsed* form is too big
//! ("The parsed YAML is too big"): `Gitlab::Config::Loader::Yaml` loads it with Psych and
//! measures the result with `Gitlab::Utils::DeepSize`, which adds `ObjectSpace.memsize_of`
//! of every object it reaches, keys and values alike, and counts nesting
//! (`lib/gitlab/config/loader/yaml.rb`, `lib/gitlab/utils/deep_size.rb`). The limits are the
//! application settings `max_yaml_size_bytes` (2 MiB by default today, 1 MiB in older
//! releases) and `max_yaml_depth` (100). See `docs/pipeline.md`.
//!
//! This module computes the same sum from the file as [`crate::yaml`] reads it (Psych's
//! rules), with Ruby's object sizes:
//!
//! - integers, floats, `true`, `false` and `nil` are immediates: 0 bytes;
//! - a string is a 40-byte object slot; Ruby 3.1 keeps up to 23 bytes inside it and
//!   allocates `len + 1` more for a longer one; Ruby 3.2 and later place a string of up to
//!   615 bytes in a slot of 40, 80, 160, 320 or 640 bytes (variable width allocation);
//! - an array of up to 3 elements fits its slot; a longer one grows as Ruby grows it while
//!   Psych pushes elements (`ary_double_capa`: half the capacity, at least 16, plus what is
//!   needed) and costs 8 bytes per slot of capacity;
//! - a hash of up to 8 pairs holds them in a 128-byte array table; a larger one is an
//!   `st_table` (56 bytes) with 24 bytes per entry and two bins per entry, whose index is 1,
//!   2 or 4 bytes wide, for a capacity of the next power of two, at least 32.
//!
//! [`Ruby::V3_1`] reproduces Ruby 3.1 exactly (the tests compare with a real Ruby 3.1);
//! [`Ruby::Vwa`] is the larger string size of Ruby 3.2 and later. [`measure`] reports the
//! larger of the two, so a file it passes fits whichever Ruby the GitLab instance runs.

use crate::yaml::{Node, Value};

/// Which Ruby's object sizes to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruby {
    /// Ruby 3.1: strings of more than 23 bytes are allocated outside their slot.
    V3_1,
    /// Ruby 3.2 and later: variable width allocation puts strings in larger slots.
    Vwa,
}

/// The parsed size and the nesting depth of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeepSize {
    /// Bytes, as `Gitlab::Utils::DeepSize` adds them.
    pub bytes: u64,
    /// The deepest nesting of arrays and hashes (the root hash counts 1).
    pub depth: usize,
}

const SLOT: u64 = 40;

fn string(len: usize, ruby: Ruby) -> u64 {
    let len = len as u64;
    match ruby {
        Ruby::V3_1 if len <= 23 => SLOT,
        Ruby::V3_1 => SLOT + len + 1,
        Ruby::Vwa => [40u64, 80, 160, 320, 640]
            .into_iter()
            .find(|slot| len + 1 + 24 <= *slot)
            .unwrap_or(SLOT + len + 1),
    }
}

fn array(len: usize) -> u64 {
    if len <= 3 {
        return SLOT;
    }
    // Psych pushes one element at a time onto an embedded array of capacity 3.
    let mut capa = 3usize;
    let mut n = 3usize;
    while n < len {
        n += 1;
        if n > capa {
            capa = (capa / 2).max(16) + n;
        }
    }
    SLOT + 8 * capa as u64
}

fn hash(len: usize) -> u64 {
    match len {
        0 => SLOT,
        1..=8 => SLOT + 128,
        _ => {
            let capa = len.next_power_of_two().max(32) as u64;
            let bins = 2 * capa;
            let index = if bins <= 256 {
                1
            } else if bins <= 65_536 {
                2
            } else {
                4
            };
            SLOT + 56 + 24 * capa + bins * index
        }
    }
}

fn add(node: &Node, ruby: Ruby, depth: usize, out: &mut DeepSize) {
    match &node.value {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
        Value::Str(s) => out.bytes += string(s.len(), ruby),
        Value::Seq(items) => {
            out.bytes += array(items.len());
            out.depth = out.depth.max(depth + 1);
            for i in items {
                add(i, ruby, depth + 1, out);
            }
        }
        Value::Map(pairs) => {
            // Psych stores a repeated key once: the later value wins.
            let mut distinct = 0;
            for (i, (k, _)) in pairs.iter().enumerate() {
                if !pairs[i + 1..]
                    .iter()
                    .any(|(later, _)| later.value == k.value)
                {
                    distinct += 1;
                }
            }
            out.bytes += hash(distinct);
            out.depth = out.depth.max(depth + 1);
            for (i, (k, v)) in pairs.iter().enumerate() {
                if pairs[i + 1..]
                    .iter()
                    .any(|(later, _)| later.value == k.value)
                {
                    continue;
                }
                add(k, ruby, depth + 1, out);
                add(v, ruby, depth + 1, out);
            }
        }
    }
}

/// The size of a parsed document under one Ruby's object sizes.
pub fn deep_size(root: &Node, ruby: Ruby) -> DeepSize {
    let mut out = DeepSize { bytes: 0, depth: 0 };
    add(root, ruby, 0, &mut out);
    out
}

/// The size GitLab may measure: the larger of Ruby 3.1's and Ruby 3.2+'s.
pub fn measure(root: &Node) -> DeepSize {
    let a = deep_size(root, Ruby::V3_1);
    let b = deep_size(root, Ruby::Vwa);
    DeepSize {
        bytes: a.bytes.max(b.bytes),
        depth: a.depth,
    }
}

fn add_json(value: &serde_json::Value, ruby: Ruby, depth: usize, out: &mut DeepSize) {
    use serde_json::Value as J;
    match value {
        J::Null | J::Bool(_) | J::Number(_) => {}
        J::String(s) => out.bytes += string(s.len(), ruby),
        J::Array(items) => {
            out.bytes += array(items.len());
            out.depth = out.depth.max(depth + 1);
            for i in items {
                add_json(i, ruby, depth + 1, out);
            }
        }
        J::Object(map) => {
            out.bytes += hash(map.len());
            out.depth = out.depth.max(depth + 1);
            for (k, v) in map {
                out.bytes += string(k.len(), ruby);
                add_json(v, ruby, depth + 1, out);
            }
        }
    }
}

/// [`measure`] of the document whose JSON form is `value`, without emitting and parsing it:
/// what the compiler uses to size a model's jobs before it splits models into child
/// pipelines. Equal to [`measure`] of the parsed text when every scalar of that text is a
/// string, a number, a boolean or null, as in the compiler's output.
pub fn measure_json(value: &serde_json::Value) -> DeepSize {
    let size = |ruby| {
        let mut out = DeepSize { bytes: 0, depth: 0 };
        add_json(value, ruby, 0, &mut out);
        out
    };
    let (a, b) = (size(Ruby::V3_1), size(Ruby::Vwa));
    DeepSize {
        bytes: a.bytes.max(b.bytes),
        depth: a.depth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_sizes_match_ruby_3_1() {
        // Measured with Ruby 3.1.2: `ObjectSpace.memsize_of` of Psych-loaded objects.
        for (len, want) in [(0, 40), (23, 40), (24, 65), (100, 141)] {
            assert_eq!(string(len, Ruby::V3_1), want, "string {len}");
        }
        for (n, want) in [
            (0, 40),
            (3, 40),
            (4, 200),
            (20, 200),
            (21, 336),
            (38, 488),
            (57, 720),
            (86, 1064),
            (129, 1584),
            (437, 5280),
            (2214, 26600),
        ] {
            assert_eq!(array(n), want, "array {n}");
        }
        for (n, want) in [
            (0, 40),
            (8, 168),
            (9, 928),
            (33, 1760),
            (65, 3424),
            (129, 7264),
            (513, 28768),
            (2049, 114_784),
        ] {
            assert_eq!(hash(n), want, "hash {n}");
        }
        assert_eq!(string(16, Ruby::Vwa), 80);
        assert_eq!(string(15, Ruby::Vwa), 40);
        assert_eq!(string(615, Ruby::Vwa), 640);
        assert_eq!(string(616, Ruby::Vwa), 657);
    }

    #[test]
    fn a_document_adds_keys_values_and_depth() {
        let doc =
            crate::yaml::parse("a: [1, 2, 3, 4]\nbb: {c: d}\nlong_key_of_more_than_23_bytes: x\n")
                .unwrap();
        let s = deep_size(&doc, Ruby::V3_1);
        // root hash (3 pairs) + "a" + array(4) + "bb" + hash(1) + "c" + "d" + long key + "x"
        assert_eq!(
            s.bytes,
            168 + 40 + 200 + 40 + 168 + 40 + 40 + (40 + 31) + 40
        );
        assert_eq!(s.depth, 2);
        assert!(measure(&doc).bytes >= s.bytes);
        assert_eq!(measure_json(&doc.to_json()), measure(&doc));
    }
}
