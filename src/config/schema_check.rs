//! `config::schema_check`: the parsed document against the JSON Schema generated from the
//! raw config types, then deserialized into them. Every schema error becomes a [`Problem`]
//! that speaks TOML ([`super::explain`]); none stops the others.

use serde_json::Value;

use super::diagnostic::Problem;
use super::explain::explain;
use super::load::Document;
use super::pointer::push_pointer;
use super::raw::Config;
use super::schema::validation_schema;

/// Checks the document against the schema and deserializes it into the raw config.
pub fn raw_config(doc: &Document) -> Result<Config, Vec<Problem>> {
    let schema = validation_schema();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .expect("the generated schema compiles");
    let mut problems = check_model_names(doc);
    for error in validator.iter_errors(&doc.json) {
        // Model names are reported by `check_model_names` with their key span.
        if error.schema_path().as_str().contains("/propertyNames") {
            continue;
        }
        problems.extend(explain(doc, schema, &error));
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
const MODEL_NAME_HELP: &str = "use letters, digits, `-` and `_`, starting with a letter or digit (the name is \
     also the GitLab environment and the report directory); `as` sets a different job prefix";

/// Whether a model name is usable as a GitLab environment, resource group and directory.
fn valid_model_name(name: &str) -> bool {
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
            let at = push_pointer("/model", name);
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
