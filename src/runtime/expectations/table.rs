//! Table-level expectations: `expect_column_to_exist`, `expect_table_row_count_to_be_between`
//! and `expect_table_columns_to_match_set`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::ExpectationResult;
use super::aggregate::metric_between;
use crate::runtime::data::Table;

/// `expect_column_to_exist`; `column_index = 0` is ignored, as GE tests it for truthiness.
pub fn column_to_exist(
    t: &Table,
    k: &Map<String, Value>,
    r: ExpectationResult,
) -> ExpectationResult {
    let name = k.get("column").and_then(Value::as_str).unwrap_or_default();
    let index = k
        .get("column_index")
        .and_then(Value::as_u64)
        .filter(|&i| i != 0);
    let ok = match index {
        Some(i) => usize::try_from(i)
            .ok()
            .and_then(|i| t.columns.get(i))
            .is_some_and(|c| c.name == name),
        None => t.column(name).is_some(),
    };
    r.verdict(ok)
}

/// `expect_table_row_count_to_be_between`.
pub fn row_count(t: &Table, k: &Map<String, Value>, r: ExpectationResult) -> ExpectationResult {
    metric_between(Some(t.rows as f64), json!(t.rows), k, r)
}

/// `expect_table_columns_to_match_set` (`exact_match` defaults to true); the observed value
/// is the sorted column list.
pub fn columns_match_set(
    t: &Table,
    k: &Map<String, Value>,
    r: ExpectationResult,
) -> ExpectationResult {
    let actual: BTreeSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let expected: BTreeSet<&str> = k
        .get("column_set")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let exact = k
        .get("exact_match")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let unexpected: Vec<&str> = actual.difference(&expected).copied().collect();
    let missing: Vec<&str> = expected.difference(&actual).copied().collect();
    let success = if exact {
        unexpected.is_empty() && missing.is_empty()
    } else {
        missing.is_empty()
    };
    let mut r = r.verdict(success);
    r.observed_value = Some(json!(actual));
    if !(unexpected.is_empty() && missing.is_empty()) {
        let mut m = Map::new();
        if !unexpected.is_empty() {
            m.insert("unexpected".into(), json!(unexpected));
        }
        if !missing.is_empty() {
            m.insert("missing".into(), json!(missing));
        }
        r.details = Some(json!({ "mismatched": m }));
    }
    r
}
