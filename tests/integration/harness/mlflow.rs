//! Reading MLflow's REST answers, from the suite's server or the GitLab replica.

use serde_json::Value;

/// `key → value` of an MLflow `[{key, value}]` list (tags, params, metrics).
pub fn kv(list: &Value, key: &str) -> Option<Value> {
    list.as_array()?
        .iter()
        .find(|e| e["key"] == key)
        .map(|e| e["value"].clone())
}

/// [`kv`] for a string value.
pub fn kv_str(list: &Value, key: &str) -> Option<String> {
    kv(list, key).and_then(|v| v.as_str().map(str::to_owned))
}
