//! The JSON Schema of `mlops.toml`, generated from the config types, and the walk from an
//! instance location to the sub-schema that governs it (for "did you mean").

use serde_json::Value;

use super::raw::Config;

/// The committed schema. A test keeps it equal to [`schema_value`], so validation can use it
/// without generating the schema on every run.
pub const COMMITTED: &str = include_str!("../../schema/mlops.schema.json");

/// The schema used to validate configs: the committed file, parsed once per process.
pub fn validation_schema() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(COMMITTED).unwrap_or_else(|_| schema_value()))
}

/// The schema as pretty JSON with a trailing newline: the bytes of `schema/mlops.schema.json`.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema_value()).expect("a schema serializes");
    text.push('\n');
    text
}

/// The schema as a JSON value.
pub fn schema_value() -> Value {
    let schema = schemars::schema_for!(Config);
    let mut value = serde_json::to_value(schema).expect("a schema serializes");
    strip_null(&mut value);
    // `$schema` and `$id` first, as editors and readers expect.
    let mut out = serde_json::Map::new();
    if let Value::Object(map) = value {
        if let Some(s) = map.get("$schema") {
            out.insert("$schema".to_owned(), s.clone());
        }
        out.insert(
            "$id".to_owned(),
            Value::String(crate::SCHEMA_URL.to_owned()),
        );
        for (k, v) in map {
            if k != "$schema" {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

/// TOML has no null: `Option<T>` fields mean "may be absent", which `required` already says.
/// Dropping schemars' `null` alternatives keeps editor hints and error messages about `T`.
fn strip_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types[0].clone();
                    map.insert("type".to_owned(), only);
                }
            }
            let single = match map.get("anyOf") {
                Some(Value::Array(branches)) if branches.len() == 2 => {
                    let non_null: Vec<&Value> = branches
                        .iter()
                        .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                        .collect();
                    (non_null.len() == 1).then(|| non_null[0].clone())
                }
                _ => None,
            };
            if let Some(Value::Object(inner)) = single {
                map.remove("anyOf");
                for (k, val) in inner {
                    map.entry(k).or_insert(val);
                }
            }
            for val in map.values_mut() {
                strip_null(val);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// The sub-schema that applies at an instance JSON pointer, following `properties`,
/// `additionalProperties`, `items`, `$ref` and the first object branch of `anyOf`/`oneOf`.
pub fn subschema_at<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = resolve(root, root)?;
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        node = step(root, node, &seg)?;
    }
    Some(node)
}

fn step<'a>(root: &'a Value, node: &'a Value, seg: &str) -> Option<&'a Value> {
    let node = resolve(root, node)?;
    if let Some(p) = node.get("properties").and_then(|p| p.get(seg)) {
        return resolve(root, p);
    }
    if let Some(ap) = node.get("additionalProperties").filter(|v| v.is_object()) {
        return resolve(root, ap);
    }
    if let Some(items) = node.get("items").filter(|v| v.is_object()) {
        if seg.parse::<usize>().is_ok() {
            return resolve(root, items);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = node.get(key).and_then(Value::as_array) {
            for b in branches {
                if let Some(found) = step(root, b, seg) {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// Follows `$ref`s (local `#/$defs/...` only) and a lone `anyOf: [X, null]` for options.
pub fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let path = r.strip_prefix('#')?;
            node = root.pointer(path)?;
            continue;
        }
        if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            let non_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if non_null.len() == 1 && branches.len() == 2 {
                node = non_null[0];
                continue;
            }
        }
        return Some(node);
    }
    None
}

/// The property names a sub-schema allows, in schema order.
pub fn known_keys(node: &Value) -> Vec<String> {
    node.get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
