//! The `mlops.toml` reference as Markdown, generated from the schema (and so from the doc
//! comments of the config types). `docs/configuration.md` embeds it between markers, and a test keeps the
//! two in sync.

use std::fmt::Write as _;

use serde_json::Value;

use super::schema::{resolve, schema_value};

/// Markdown tables: the top-level keys, then one table per nested table type.
pub fn markdown() -> String {
    let root = schema_value();
    let mut out = String::new();
    section(&mut out, &root, &root, "Top level", "");
    let sections = [
        (
            "`[model.<name>]` and `[defaults]`",
            "ModelSettings",
            "model.<name>.",
        ),
        (
            "`[model.<name>.validation]`",
            "Validation",
            "model.<name>.validation.",
        ),
        (
            "`[model.<name>.compare]`",
            "Compare",
            "model.<name>.compare.",
        ),
        (
            "`[model.<name>.promote]`",
            "Promote",
            "model.<name>.promote.",
        ),
        (
            "`[model.<name>.tags]` (per-stage form)",
            "StageTags",
            "model.<name>.tags.",
        ),
        ("`[mlflow]`", "MlflowSettings", "mlflow."),
        ("`[runtime]`", "Runtime", "runtime."),
        ("`[pipeline]`", "PipelineSettings", "pipeline."),
    ];
    for (title, def, prefix) in sections {
        if let Some(node) = root.pointer(&format!("/$defs/{def}")) {
            section(&mut out, &root, node, title, prefix);
        }
    }
    out
}

fn section(out: &mut String, root: &Value, node: &Value, title: &str, prefix: &str) {
    let _ = writeln!(out, "#### {title}\n");
    let _ = writeln!(out, "| key | type | description |\n|---|---|---|");
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (key, prop) in props {
            let resolved = resolve(root, prop).unwrap_or(prop);
            let description = prop
                .get("description")
                .or_else(|| resolved.get("description"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .replace('\n', " ")
                .replace('|', "\\|");
            let req = if required.contains(&key.as_str()) {
                " (required)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| `{prefix}{key}`{req} | {} | {description} |",
                type_of(root, resolved)
            );
        }
    }
    out.push('\n');
}

fn type_of(root: &Value, node: &Value) -> String {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`\"{v}\"`"))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
        return branches
            .iter()
            .filter_map(|b| resolve(root, b))
            .map(|b| type_of(root, b))
            .collect::<Vec<_>>()
            .join(" or ");
    }
    match node.get("type").and_then(Value::as_str) {
        Some("array") => {
            let inner = node
                .get("items")
                .and_then(|i| resolve(root, i))
                .map_or_else(|| "value".to_owned(), |i| type_of(root, i));
            format!("array of {inner}")
        }
        Some("object")
            if node
                .get("additionalProperties")
                .is_some_and(Value::is_object) =>
        {
            let inner = node
                .get("additionalProperties")
                .and_then(|i| resolve(root, i))
                .map_or_else(|| "value".to_owned(), |i| type_of(root, i));
            format!("table of {inner}")
        }
        Some("object") => "table".to_owned(),
        Some(t) => t.to_owned(),
        None => "value".to_owned(),
    }
}
