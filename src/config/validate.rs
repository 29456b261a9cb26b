//! `config::validate`: the parsed document against the generated JSON Schema, then the
//! rules a schema cannot express. Every problem is collected; none stops the others.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::diagnostic::Problem;
use super::load::Document;
use super::model::Config;
use super::schema::{known_keys, resolve, subschema_at, validation_schema};
use super::suggest::did_you_mean;

/// Checks the document against the schema and deserializes it.
pub fn typed(doc: &Document) -> Result<Config, Vec<Problem>> {
    let schema = validation_schema();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .expect("the generated schema compiles");
    let mut problems = check_model_names(doc);
    for error in validator.iter_errors(&doc.json) {
        let pointer = error.instance_path().as_str().to_owned();
        // Model names are reported by `check_model_names` with their key span.
        if error.schema_path().as_str().contains("/propertyNames") {
            continue;
        }
        problems.extend(describe(doc, schema, &pointer, error.kind(), &error));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    serde_json::from_value::<Config>(doc.json.clone()).map_err(|e| {
        vec![Problem::new(
            &doc.source,
            doc.spans.value_span(""),
            format!("invalid configuration: {e}"),
            "here",
        )]
    })
}

/// Why model names are restricted, shown wherever one is refused.
pub const MODEL_NAME_HELP: &str = "use letters, digits, `-` and `_`, starting with a letter or digit (the name is \
     also the GitLab environment and the report directory); `as` sets a different job prefix";

/// Whether a model name is usable as a GitLab environment, resource group and directory.
pub fn valid_model_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 255
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_model_names(doc: &Document) -> Vec<Problem> {
    let Some(models) = doc.json.get("model").and_then(Value::as_object) else {
        return vec![];
    };
    models
        .keys()
        .filter(|name| !valid_model_name(name))
        .map(|name| {
            let at = super::source::push_pointer("/model", name);
            Problem::new(
                &doc.source,
                doc.spans.key_span(&at),
                format!("invalid model name {name:?}"),
                "model name",
            )
            .with_help(MODEL_NAME_HELP)
        })
        .collect()
}

/// `model.wine.min_threshold`, the way a TOML user names a key.
pub fn toml_path(pointer: &str) -> String {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|raw| {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            if seg.parse::<usize>().is_ok() {
                format!("[{seg}]")
            } else if !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                format!(".{seg}")
            } else {
                format!(".{}", serde_json::to_string(&seg).unwrap_or(seg))
            }
        })
        .collect();
    let joined = parts.concat();
    let trimmed = joined.strip_prefix('.').unwrap_or(&joined);
    if trimmed.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{trimmed}`")
    }
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

fn describe(
    doc: &Document,
    schema: &Value,
    pointer: &str,
    kind: &ValidationErrorKind,
    error: &jsonschema::ValidationError<'_>,
) -> Vec<Problem> {
    let src = &doc.source;
    let instance = doc.json.pointer(pointer).unwrap_or(&Value::Null);
    let node = subschema_at(schema, pointer);
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = node.map(known_keys).unwrap_or_default();
            unexpected
                .iter()
                .map(|key| {
                    let p = super::source::push_pointer(pointer, key);
                    let mut problem = Problem::new(
                        src,
                        doc.spans.key_span(&p),
                        format!("unknown key `{key}` in {}", toml_path(pointer)),
                        "unknown key",
                    );
                    problem.help =
                        Some(match did_you_mean(key, known.iter().map(String::as_str)) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "known keys here: {}",
                                known
                                    .iter()
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        });
                    problem
                })
                .collect()
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<&str> = options
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let found = instance.as_str().unwrap_or_default();
            let mut help = format!(
                "expected one of {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(s) = did_you_mean(found, allowed.iter().copied()) {
                help = format!("did you mean `{s}`? ({help})");
            }
            vec![
                Problem::new(
                    src,
                    doc.spans.value_span(pointer),
                    format!("invalid value {instance} for {}", toml_path(pointer)),
                    "not a known value",
                )
                .with_help(help),
            ]
        }
        ValidationErrorKind::Type { .. } | ValidationErrorKind::AnyOf { .. } => {
            let expected = node.map_or_else(
                || "another type".to_owned(),
                |n| match n.get("anyOf").and_then(Value::as_array) {
                    Some(branches) => {
                        let parts: Vec<String> = branches
                            .iter()
                            .filter_map(|b| resolve(schema, b))
                            .map(describe_shape)
                            .collect();
                        parts.join(" or ")
                    }
                    None => describe_shape(n),
                },
            );
            vec![Problem::new(
                src,
                doc.spans.value_span(pointer),
                format!(
                    "{} must be {expected}, found {}",
                    toml_path(pointer),
                    type_name(instance)
                ),
                "wrong type",
            )]
        }
        ValidationErrorKind::Required { property } if pointer.is_empty() && property == "model" => {
            vec![
                Problem::new(src, 0..0, "no models are defined", "add a model").with_help(
                    "add a `[model.<name>]` table with a training script, data and a gate",
                ),
            ]
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![
                Problem::new(
                    src,
                    doc.spans.key_span(pointer),
                    format!("missing key `{name}` in {}", toml_path(pointer)),
                    "missing key",
                )
                .with_help(if pointer.is_empty() && name == "mlops-version" {
                    format!("add `mlops-version = \"{}\"` at the top", crate::VERSION)
                } else {
                    format!("add `{name} = ...`")
                }),
            ]
        }
        ValidationErrorKind::MinProperties { .. } if pointer == "/model" || pointer.is_empty() => {
            vec![
                Problem::new(
                    src,
                    doc.spans.key_span(pointer),
                    "no models are defined",
                    "empty",
                )
                .with_help("add a `[model.<name>]` table with a training script, data and a gate"),
            ]
        }
        ValidationErrorKind::MinLength { limit } => vec![at_value(
            doc,
            pointer,
            if *limit == 1 {
                format!("{} must not be empty", toml_path(pointer))
            } else {
                format!(
                    "{} must have at least {limit} characters",
                    toml_path(pointer)
                )
            },
        )],
        ValidationErrorKind::MaxLength { limit } => vec![at_value(
            doc,
            pointer,
            format!("{} is longer than {limit} characters", toml_path(pointer)),
        )],
        ValidationErrorKind::MinItems { limit } => vec![at_value(
            doc,
            pointer,
            format!("{} needs at least {limit} entries", toml_path(pointer)),
        )],
        ValidationErrorKind::MaxItems { limit } => vec![at_value(
            doc,
            pointer,
            format!("{} has more than {limit} entries", toml_path(pointer)),
        )],
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            vec![at_value(
                doc,
                pointer,
                format!(
                    "{} must be at least {limit}, found {instance}",
                    toml_path(pointer)
                ),
            )]
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            vec![at_value(
                doc,
                pointer,
                format!(
                    "{} must be at most {limit}, found {instance}",
                    toml_path(pointer)
                ),
            )]
        }
        ValidationErrorKind::Pattern { pattern } => {
            let what = node
                .and_then(|n| n.get("description"))
                .and_then(Value::as_str)
                .map(|d| d.replace('\n', " "));
            let mut p = at_value(
                doc,
                pointer,
                format!("{} has an invalid value {instance}", toml_path(pointer)),
            )
            .with_help(format!("it must match `{pattern}`"));
            if let Some(w) = what {
                p.help = Some(format!("{}; {w}", p.help.unwrap_or_default()));
            }
            vec![p]
        }
        _ => vec![at_value(
            doc,
            pointer,
            format!("{} is invalid: {}", toml_path(pointer), error.masked()),
        )],
    }
}

fn at_value(doc: &Document, pointer: &str, message: String) -> Problem {
    Problem::new(&doc.source, doc.spans.value_span(pointer), message, "here")
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
