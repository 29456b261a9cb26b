//! Great Expectations 1.x suites, executed natively with the pandas engine's semantics
//! (`docs/data-checks.md`; Great Expectations' `great_expectations/expectations/expectation.py`):
//! null filtering, `mostly`, strict bounds, result fields, and exceptions for missing columns.
//!
//! Contract: [`evaluate`] returns one [`ExpectationResult`] per suite entry, in suite order. An
//! unreadable suite or an unknown expectation type (unless allowed) is a [`SuiteError`]
//! (exit 2); everything a metric raises in GE is a failed result with `exception_message`.

pub mod aggregate;
pub mod map;
pub mod pyvalue;
pub mod table;

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::runtime::data::{Column, Table};

/// The expectation types executed natively.
pub const KNOWN: &[&str] = &[
    "expect_column_to_exist",
    "expect_table_row_count_to_be_between",
    "expect_table_columns_to_match_set",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_of_type",
    "expect_column_mean_to_be_between",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
];

/// One suite entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// `type` (GE 1.x) or `expectation_type` (GE 0.x).
    pub kind: String,
    /// The arguments.
    pub kwargs: Map<String, Value>,
}

/// A suite file.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// `name` or `expectation_suite_name`.
    pub name: String,
    /// The entries, in file order.
    pub expectations: Vec<Expectation>,
}

/// A suite that cannot be run (exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SuiteError {
    /// What is wrong, naming the file and entry.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// The outcome of one expectation, with GE's result fields (percentages on a 0–100 scale).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpectationResult {
    /// The expectation type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The arguments, as written in the suite.
    pub kwargs: Value,
    /// The verdict; `null` when skipped.
    pub success: Option<bool>,
    /// `passed`, `failed` or `skipped`.
    pub status: &'static str,
    /// Non-null rows failing the condition (map expectations).
    pub unexpected_count: Option<u64>,
    /// `unexpected_count` / non-null rows × 100.
    pub unexpected_percent: Option<f64>,
    /// The measured value (aggregate expectations).
    pub observed_value: Option<Value>,
    /// All rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_count: Option<u64>,
    /// Null rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_count: Option<u64>,
    /// Null rows / rows × 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_percent: Option<f64>,
    /// `unexpected_count` / rows × 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_percent_total: Option<f64>,
    /// Same as `unexpected_percent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexpected_percent_nonmissing: Option<f64>,
    /// The first 20 unexpected values, in row order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_unexpected_list: Option<Vec<Value>>,
    /// Extra detail (`expect_table_columns_to_match_set` mismatches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// The exception GE would report (the expectation then fails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception_message: Option<String>,
}

impl ExpectationResult {
    fn new(e: &Expectation) -> Self {
        Self {
            kind: e.kind.clone(),
            kwargs: Value::Object(e.kwargs.clone()),
            status: "failed",
            success: Some(false),
            ..Self::default()
        }
    }

    /// Sets the verdict.
    #[must_use]
    pub fn verdict(mut self, success: bool) -> Self {
        self.success = Some(success);
        self.status = if success { "passed" } else { "failed" };
        self
    }

    /// A failure by exception.
    #[must_use]
    pub fn exception(mut self, message: impl Into<String>) -> Self {
        self.exception_message = Some(message.into());
        self.verdict(false)
    }
}

fn suite_err(path: &Path, what: impl std::fmt::Display) -> SuiteError {
    SuiteError {
        message: format!("`{}`: {what}", path.display()),
        hint: "write a Great Expectations 1.x suite: {\"name\": ..., \"expectations\": [{\"type\": ..., \"kwargs\": {...}}]}".into(),
    }
}

/// Reads a suite file (GE 1.x keys, or GE 0.x `expectation_type`/`expectation_suite_name`).
pub fn load(path: &Path) -> Result<Suite, SuiteError> {
    let text = std::fs::read_to_string(path).map_err(|e| SuiteError {
        message: format!("`{}`: cannot read the suite: {e}", path.display()),
        hint: "check `validation.expectations` in mlops.toml or the `--expectations` flag".into(),
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        suite_err(
            path,
            format!(
                "line {}, column {}: invalid JSON: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let name = v
        .get("name")
        .or_else(|| v.get("expectation_suite_name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(list) = v.get("expectations").and_then(Value::as_array) else {
        return Err(suite_err(path, "no `expectations` array"));
    };
    let mut expectations = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let kind = e
            .get("type")
            .or_else(|| e.get("expectation_type"))
            .and_then(Value::as_str)
            .ok_or_else(|| suite_err(path, format!("expectation #{}: no `type`", i + 1)))?;
        let kwargs = match e.get("kwargs") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(suite_err(
                    path,
                    format!(
                        "expectation #{} (`{kind}`): `kwargs` is not an object",
                        i + 1
                    ),
                ));
            }
        };
        if let Some(m) = kwargs.get("mostly") {
            if !m.as_f64().is_some_and(|m| (0.0..=1.0).contains(&m)) {
                return Err(suite_err(
                    path,
                    format!(
                        "expectation #{} (`{kind}`): `mostly` must be a number in [0, 1], got {m}",
                        i + 1
                    ),
                ));
            }
        }
        expectations.push(Expectation {
            kind: kind.to_owned(),
            kwargs,
        });
    }
    Ok(Suite { name, expectations })
}

/// Runs every expectation against `table`, in suite order.
pub fn evaluate(
    table: &Table,
    suite: &Suite,
    path: &Path,
    allow_unknown: bool,
) -> Result<Vec<ExpectationResult>, SuiteError> {
    if !allow_unknown {
        if let Some((i, e)) = suite
            .expectations
            .iter()
            .enumerate()
            .find(|(_, e)| !KNOWN.contains(&e.kind.as_str()))
        {
            return Err(SuiteError {
                message: format!(
                    "`{}`: expectation #{}: unknown expectation type `{}`",
                    path.display(),
                    i + 1,
                    e.kind
                ),
                hint: format!(
                    "supported: {}; pass `--allow-unknown` (or `allow_unknown_expectations = true`) to report it as skipped",
                    KNOWN.join(", ")
                ),
            });
        }
    }
    Ok(suite
        .expectations
        .iter()
        .map(|e| evaluate_one(table, e))
        .collect())
}

/// Runs one expectation.
pub fn evaluate_one(table: &Table, e: &Expectation) -> ExpectationResult {
    let r = ExpectationResult::new(e);
    let k = &e.kwargs;
    match e.kind.as_str() {
        "expect_column_to_exist" => table::column_to_exist(table, k, r),
        "expect_table_row_count_to_be_between" => table::row_count(table, k, r),
        "expect_table_columns_to_match_set" => table::columns_match_set(table, k, r),
        "expect_column_values_to_be_of_type" => {
            with_column(table, k, r, "list index out of range", aggregate::of_type)
        }
        "expect_column_mean_to_be_between" => with_column_def(table, k, r, aggregate::mean),
        "expect_column_min_to_be_between" => {
            with_column_def(table, k, r, |c, k, r| aggregate::extreme(c, k, r, false))
        }
        "expect_column_max_to_be_between" => {
            with_column_def(table, k, r, |c, k, r| aggregate::extreme(c, k, r, true))
        }
        "expect_column_values_to_not_be_null" => with_column_def(table, k, r, map::not_null),
        "expect_column_values_to_be_between" => with_column_def(table, k, r, map::between),
        "expect_column_values_to_be_in_set" => {
            with_column_def(table, k, r, |c, k, r| map::in_set(c, k, r, false))
        }
        "expect_column_values_to_not_be_in_set" => {
            with_column_def(table, k, r, |c, k, r| map::in_set(c, k, r, true))
        }
        "expect_column_values_to_be_unique" => with_column_def(table, k, r, map::unique),
        "expect_column_values_to_match_regex" => with_column_def(table, k, r, map::match_regex),
        _ => {
            let mut r = r;
            r.success = None;
            r.status = "skipped";
            r.exception_message = Some(format!("`{}` is not supported by mlops; skipped", e.kind));
            r
        }
    }
}

fn with_column_def(
    table: &Table,
    k: &Map<String, Value>,
    r: ExpectationResult,
    f: impl Fn(&Column, &Map<String, Value>, ExpectationResult) -> ExpectationResult,
) -> ExpectationResult {
    let name = k.get("column").and_then(Value::as_str).unwrap_or_default();
    let missing = format!("Error: The column \"{name}\" in BatchData does not exist.");
    with_column(table, k, r, &missing, f)
}

fn with_column(
    table: &Table,
    k: &Map<String, Value>,
    r: ExpectationResult,
    missing: &str,
    f: impl Fn(&Column, &Map<String, Value>, ExpectationResult) -> ExpectationResult,
) -> ExpectationResult {
    let Some(name) = k.get("column").and_then(Value::as_str) else {
        return r.exception("`column` is required");
    };
    match table.column(name) {
        Some(c) => f(c, k, r),
        None => r.exception(missing),
    }
}

/// `mostly`, default 1.
pub fn mostly(k: &Map<String, Value>) -> f64 {
    k.get("mostly").and_then(Value::as_f64).unwrap_or(1.0)
}

/// A boolean kwarg, default false.
pub fn flag(k: &Map<String, Value>, key: &str) -> bool {
    k.get(key).and_then(Value::as_bool).unwrap_or(false)
}
