//! `config::load`: TOML text → a JSON document plus the span of every value, with every
//! syntax error reported at once.

use serde_json::{Map, Number, Value};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::Problem;
use super::pointer::push_pointer;
use super::source::{Source, SpanIndex, Spans};

/// A parsed config file: the JSON view the schema checks, and where each value came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file.
    pub source: Source,
    /// The TOML as JSON.
    pub json: Value,
    /// Spans per JSON pointer.
    pub spans: SpanIndex,
}

/// Parses TOML, collecting every syntax error and every value JSON cannot hold.
pub fn parse(source: &Source) -> Result<Document, Vec<Problem>> {
    let (table, errors) = DeTable::parse_recoverable(&source.text);
    let mut problems: Vec<Problem> = errors
        .iter()
        .map(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim();
            if message == "duplicate key" {
                let key = source.text.get(span.clone()).unwrap_or_default().trim();
                Problem::new(
                    source,
                    span,
                    format!("duplicate key `{key}`"),
                    "defined again here",
                )
                .with_help("a key or table may appear only once; model names must be unique")
            } else {
                Problem::new(source, span, message.to_owned(), "here")
                    .with_help("see https://toml.io for the syntax")
            }
        })
        .collect();
    let mut spans = SpanIndex::default();
    let root_span = table.span();
    spans.insert(
        String::new(),
        Spans {
            key: None,
            value: root_span,
        },
    );
    let json = table_to_json(table.get_ref(), "", source, &mut spans, &mut problems);
    if problems.is_empty() {
        Ok(Document {
            source: source.clone(),
            json,
            spans,
        })
    } else {
        Err(problems)
    }
}

fn table_to_json(
    table: &DeTable<'_>,
    pointer: &str,
    source: &Source,
    spans: &mut SpanIndex,
    problems: &mut Vec<Problem>,
) -> Value {
    let mut map = Map::new();
    for (key, value) in table {
        let p = push_pointer(pointer, key.get_ref());
        spans.insert(
            p.clone(),
            Spans {
                key: Some(key.span()),
                value: value.span(),
            },
        );
        let v = value_to_json(value, &p, source, spans, problems);
        map.insert(key.get_ref().to_string(), v);
    }
    Value::Object(map)
}

fn value_to_json(
    value: &Spanned<DeValue<'_>>,
    pointer: &str,
    source: &Source,
    spans: &mut SpanIndex,
    problems: &mut Vec<Problem>,
) -> Value {
    match value.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            if let Ok(n) = i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                Value::Number(n.into())
            } else {
                problems.push(Problem::new(
                    source,
                    value.span(),
                    "integer out of range",
                    "does not fit in 64 bits",
                ));
                Value::Null
            }
        }
        DeValue::Float(f) => {
            let text = f.as_str().replace('_', "");
            let parsed = match text.as_str() {
                "inf" | "+inf" | "-inf" | "nan" | "+nan" | "-nan" => None,
                t => t.parse::<f64>().ok().and_then(Number::from_f64),
            };
            if let Some(n) = parsed {
                Value::Number(n)
            } else {
                problems.push(
                    Problem::new(
                        source,
                        value.span(),
                        format!("`{text}` is not a finite number"),
                        "not allowed here",
                    )
                    .with_help("write a number such as `0.85`"),
                );
                Value::Null
            }
        }
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let p = format!("{pointer}/{i}");
                    spans.insert(
                        p.clone(),
                        Spans {
                            key: None,
                            value: item.span(),
                        },
                    );
                    value_to_json(item, &p, source, spans, problems)
                })
                .collect(),
        ),
        DeValue::Table(t) => table_to_json(t, pointer, source, spans, problems),
    }
}
