//! A configuration file read into memory: its display name, its text, and the map from
//! every JSON pointer of the parsed document back to the TOML bytes it came from.

use std::collections::HashMap;
use std::ops::Range;

use miette::NamedSource;

/// The text of a config file, with the name used in diagnostics.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as the user gave it, for messages.
    pub name: String,
    /// The file's text.
    pub text: String,
}

impl Source {
    /// A source from a name and a text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// The source as miette wants it for labelled snippets.
    pub fn named(&self) -> NamedSource<String> {
        NamedSource::new(self.name.clone(), self.text.clone()).with_language("toml")
    }

    /// 1-based line and column of a byte offset, counting columns in characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where a JSON pointer's key and value sit in the TOML text.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    /// The key, when the value is a table entry.
    pub key: Option<Range<usize>>,
    /// The value.
    pub value: Range<usize>,
}

/// Byte spans for every JSON pointer in the parsed document.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    map: HashMap<String, Spans>,
}

impl SpanIndex {
    /// Records the spans of a pointer.
    pub fn insert(&mut self, pointer: String, spans: Spans) {
        self.map.insert(pointer, spans);
    }

    /// The spans of a pointer, if it exists in the document.
    pub fn get(&self, pointer: &str) -> Option<&Spans> {
        self.map.get(pointer)
    }

    /// The best span to point at for a pointer: the value of the pointer itself, or of its
    /// nearest ancestor that exists in the file. A table made by a dotted key
    /// (`validation.null_ratio.x = 2`) has no text of its own: its key stands for it.
    pub fn value_span(&self, pointer: &str) -> Range<usize> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.map.get(p) {
                if !s.value.is_empty() || p.is_empty() {
                    return s.value.clone();
                }
                if let Some(k) = s.key.as_ref().filter(|k| !k.is_empty()) {
                    return k.clone();
                }
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 0..0,
            }
        }
    }

    /// The span of a pointer's key, falling back to its value.
    pub fn key_span(&self, pointer: &str) -> Range<usize> {
        match self.map.get(pointer) {
            Some(Spans { key: Some(k), .. }) => k.clone(),
            _ => self.value_span(pointer),
        }
    }
}
