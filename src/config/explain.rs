//! `config::explain`: one JSON Schema error → the problems a TOML user reads. Each kind of
//! error has its own wording: unknown keys get "did you mean", enum values list the allowed
//! ones, type errors say what was expected and what was found, and every problem points at
//! the key or value it is about.

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::diagnostic::Problem;
use super::load::Document;
use super::pointer::{push_pointer, toml_path};
use super::schema::{known_keys, resolve, subschema_at};
use super::suggest::did_you_mean;

/// Where a schema error is: the document, the pointer, the value found there and the
/// sub-schema that governs it.
struct At<'a> {
    doc: &'a Document,
    schema: &'a Value,
    pointer: &'a str,
    instance: &'a Value,
    node: Option<&'a Value>,
}

impl At<'_> {
    /// `model.wine.min_threshold`, backticked.
    fn path(&self) -> String {
        toml_path(self.pointer)
    }

    /// A problem under the value, labelled "here".
    fn at_value(&self, message: String) -> Problem {
        Problem::new(
            &self.doc.source,
            self.doc.spans.value_span(self.pointer),
            message,
            "here",
        )
    }
}

/// The problems one schema error stands for (several for several unknown keys).
pub fn explain(doc: &Document, schema: &Value, error: &ValidationError<'_>) -> Vec<Problem> {
    let pointer = error.instance_path().as_str();
    let at = At {
        doc,
        schema,
        pointer,
        instance: doc.json.pointer(pointer).unwrap_or(&Value::Null),
        node: subschema_at(schema, pointer),
    };
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unknown_keys(&at, unexpected),
        ValidationErrorKind::Enum { options } => vec![unknown_value(&at, options)],
        ValidationErrorKind::Type { .. } | ValidationErrorKind::AnyOf { .. } => {
            vec![wrong_type(&at)]
        }
        ValidationErrorKind::Required { property } if pointer.is_empty() && property == "model" => {
            vec![no_models(doc, 0..0, "add a model")]
        }
        ValidationErrorKind::Required { property } => {
            vec![missing_key(&at, property.as_str().unwrap_or_default())]
        }
        ValidationErrorKind::MinProperties { .. } if pointer == "/model" || pointer.is_empty() => {
            vec![no_models(doc, doc.spans.key_span(pointer), "empty")]
        }
        ValidationErrorKind::Pattern { pattern } => vec![bad_pattern(&at, pattern)],
        kind => vec![
            at.at_value(
                bound_message(&at, kind)
                    .unwrap_or_else(|| format!("{} is invalid: {}", at.path(), error.masked())),
            ),
        ],
    }
}

fn unknown_keys(at: &At<'_>, unexpected: &[String]) -> Vec<Problem> {
    let known = at.node.map(known_keys).unwrap_or_default();
    unexpected
        .iter()
        .map(|key| {
            let help = match did_you_mean(key, known.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known keys here: {}", backticked(&known)),
            };
            Problem::new(
                &at.doc.source,
                at.doc.spans.key_span(&push_pointer(at.pointer, key)),
                format!("unknown key `{key}` in {}", at.path()),
                "unknown key",
            )
            .with_help(help)
        })
        .collect()
}

fn unknown_value(at: &At<'_>, options: &Value) -> Problem {
    let allowed: Vec<&str> = options
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let found = at.instance.as_str().unwrap_or_default();
    let mut help = format!("expected one of {}", backticked(&allowed));
    if let Some(s) = did_you_mean(found, allowed.iter().copied()) {
        help = format!("did you mean `{s}`? ({help})");
    }
    Problem::new(
        &at.doc.source,
        at.doc.spans.value_span(at.pointer),
        format!("invalid value {} for {}", at.instance, at.path()),
        "not a known value",
    )
    .with_help(help)
}

fn wrong_type(at: &At<'_>) -> Problem {
    let expected = at.node.map_or_else(
        || "another type".to_owned(),
        |n| match n.get("anyOf").and_then(Value::as_array) {
            Some(branches) => branches
                .iter()
                .filter_map(|b| resolve(at.schema, b))
                .map(describe_shape)
                .collect::<Vec<_>>()
                .join(" or "),
            None => describe_shape(n),
        },
    );
    Problem::new(
        &at.doc.source,
        at.doc.spans.value_span(at.pointer),
        format!(
            "{} must be {expected}, found {}",
            at.path(),
            type_name(at.instance)
        ),
        "wrong type",
    )
}

fn no_models(doc: &Document, span: std::ops::Range<usize>, label: &str) -> Problem {
    Problem::new(&doc.source, span, "no models are defined", label)
        .with_help("add a `[model.<name>]` table with a training script, data and a gate")
}

fn missing_key(at: &At<'_>, name: &str) -> Problem {
    let help = if at.pointer.is_empty() && name == "mlops-version" {
        format!("add `mlops-version = \"{}\"` at the top", crate::VERSION)
    } else {
        format!("add `{name} = ...`")
    };
    Problem::new(
        &at.doc.source,
        at.doc.spans.key_span(at.pointer),
        format!("missing key `{name}` in {}", at.path()),
        "missing key",
    )
    .with_help(help)
}

fn bad_pattern(at: &At<'_>, pattern: &str) -> Problem {
    let mut help = format!("it must match `{pattern}`");
    if let Some(what) = at
        .node
        .and_then(|n| n.get("description"))
        .and_then(Value::as_str)
    {
        help = format!("{help}; {}", what.replace('\n', " "));
    }
    at.at_value(format!(
        "{} has an invalid value {}",
        at.path(),
        at.instance
    ))
    .with_help(help)
}

/// The message of a length, size or range bound, or `None` for any other error.
fn bound_message(at: &At<'_>, kind: &ValidationErrorKind) -> Option<String> {
    let (path, found) = (at.path(), at.instance);
    Some(match kind {
        ValidationErrorKind::MinLength { limit: 1 } => format!("{path} must not be empty"),
        ValidationErrorKind::MinLength { limit } => {
            format!("{path} must have at least {limit} characters")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{path} is longer than {limit} characters")
        }
        ValidationErrorKind::MinItems { limit } => format!("{path} needs at least {limit} entries"),
        ValidationErrorKind::MaxItems { limit } => format!("{path} has more than {limit} entries"),
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{path} must be at least {limit}, found {found}")
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{path} must be at most {limit}, found {found}")
        }
        _ => return None,
    })
}

fn backticked<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|k| format!("`{}`", k.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

fn expected_types(node: &Value) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut push_type = |t: &str| {
        let n = match t {
            "string" => "a string",
            "number" => "a number",
            "integer" => "an integer",
            "boolean" => "a boolean",
            "array" => "an array",
            "object" => "a table",
            _ => return,
        };
        if !names.contains(&n) {
            names.push(n);
        }
    };
    match node.get("type") {
        Some(Value::String(t)) => push_type(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).for_each(&mut push_type),
        _ => {}
    }
    match names.len() {
        0 => "another type".to_owned(),
        1 => names[0].to_owned(),
        _ => {
            let (last, rest) = names.split_last().expect("two or more");
            format!("{} or {last}", rest.join(", "))
        }
    }
}

fn describe_shape(node: &Value) -> String {
    if node.get("type").and_then(Value::as_str) == Some("array") {
        if let Some(items) = node.get("items") {
            let inner = expected_types(items);
            let inner = inner
                .strip_prefix("a ")
                .or_else(|| inner.strip_prefix("an "))
                .unwrap_or(&inner);
            return format!("an array of {inner}s");
        }
    }
    expected_types(node)
}
