//! `validate.json` and what is rendered from it: the `JUnit` cases and the log tables.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::artifacts::junit::{Case, Outcome};
use crate::runtime::data::drift_columns::DriftReport;
use crate::runtime::data::quality::{ColumnProfile, SchemaReport};
use crate::runtime::expectations::ExpectationResult;
use crate::runtime::log;

/// One entry of `checks[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckEntry {
    /// What was checked (a column, a script, `dataset`).
    pub name: String,
    /// `schema`, `nulls`, `drift`, `expectations` or `script`.
    pub kind: &'static str,
    /// `passed`, `failed` or `error`.
    pub status: &'static str,
    /// One line for people.
    pub message: String,
    /// A script's JSON output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl CheckEntry {
    pub(super) fn new(
        name: impl Into<String>,
        kind: &'static str,
        ok: bool,
        message: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            kind,
            status: if ok { "passed" } else { "failed" },
            message: message.into(),
            details: None,
        }
    }
}

/// `validate.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    /// `passed` or `failed`.
    pub status: &'static str,
    /// The data file.
    pub data: String,
    /// The reference file, when drift ran.
    pub reference: Option<String>,
    /// Data rows.
    pub rows: usize,
    /// Per column.
    pub columns: IndexMap<String, ColumnProfile>,
    /// Required columns and kinds.
    pub schema: SchemaReport,
    /// Drift, when a reference was given.
    pub drift: Option<DriftReport>,
    /// Suite results, in suite order.
    pub expectations: Vec<ExpectationResult>,
    /// Every verdict, flat.
    pub checks: Vec<CheckEntry>,
}

/// `validate.plots.json`: `{"columns": {<name>: plot}}` for every drift-tested column, in
/// column order.
pub(super) fn plots(r: &ValidateReport) -> Value {
    let columns: serde_json::Map<String, Value> = r
        .drift
        .iter()
        .flat_map(|d| d.columns.iter())
        .filter_map(|(name, c)| {
            let p = serde_json::to_value(c.plot.as_ref()?).ok()?;
            Some((name.clone(), p))
        })
        .collect();
    serde_json::json!({ "columns": columns })
}

fn f(x: Option<f64>) -> String {
    x.map_or_else(
        || "-".into(),
        |v| {
            format!("{v:.6}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned()
        },
    )
}

/// The `JUnit` cases: one per check (drift as one per tested column plus the dataset
/// verdict), one per expectation.
pub(super) fn junit_cases(r: &ValidateReport) -> Vec<Case> {
    let mut cases = Vec::new();
    for c in r.checks.iter().filter(|c| c.kind != "expectations") {
        let outcome = match c.status {
            "passed" => Outcome::Pass,
            "error" => Outcome::Error(c.message.clone()),
            _ => Outcome::Failure(c.message.clone()),
        };
        cases.push(Case::new(
            format!("validate.{}", c.kind),
            c.name.clone(),
            outcome,
        ));
    }
    if let Some(d) = &r.drift {
        for (name, c) in &d.columns {
            let outcome = match (c.status, c.drift_detected) {
                ("tested", Some(true)) => Outcome::Failure(format!(
                    "drift detected: {} = {} (threshold {})",
                    c.stattest.unwrap_or_default(),
                    f(c.score),
                    f(c.threshold)
                )),
                ("tested", _) => Outcome::Pass,
                ("error", _) => Outcome::Error(c.reason.clone().unwrap_or_default()),
                _ => Outcome::Skipped(c.reason.clone().unwrap_or_default()),
            };
            cases.push(Case::new("validate.drift.columns", name.clone(), outcome));
        }
    }
    for (i, e) in r.expectations.iter().enumerate() {
        let col = e
            .kwargs
            .get("column")
            .and_then(Value::as_str)
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let name = format!("#{} {}{col}", i + 1, e.kind);
        let outcome = match (e.status, &e.exception_message) {
            ("passed", _) => Outcome::Pass,
            ("skipped", m) => Outcome::Skipped(m.clone().unwrap_or_default()),
            (_, Some(m)) => Outcome::Error(m.clone()),
            _ => Outcome::Failure(format!(
                "unexpected {} ({}%), observed {}",
                e.unexpected_count.map_or("-".into(), |n| n.to_string()),
                f(e.unexpected_percent),
                e.observed_value
                    .as_ref()
                    .map_or("-".into(), Value::to_string)
            )),
        };
        cases.push(Case::new("validate.expectations", name, outcome));
    }
    cases
}

pub(super) fn log_tables(r: &ValidateReport) {
    let mut rows = vec![vec![
        "column".into(),
        "kind".into(),
        "nulls".into(),
        "ratio".into(),
        "max".into(),
        "result".into(),
    ]];
    for (n, p) in &r.columns {
        let res = if p.null_status == "failed" {
            "FAIL"
        } else if p.at_threshold {
            "ok (at threshold)"
        } else {
            "ok"
        };
        rows.push(vec![
            n.clone(),
            p.kind.into(),
            p.null_count.to_string(),
            f(Some(p.null_ratio)),
            f(Some(p.max_null_ratio)),
            res.into(),
        ]);
    }
    log::info(&log::table(&rows));
    if let Some(d) = &r.drift {
        let mut rows = vec![vec![
            "column".into(),
            "kind".into(),
            "test".into(),
            "score".into(),
            "threshold".into(),
            "drift".into(),
        ]];
        for (n, c) in &d.columns {
            let verdict = match (c.status, c.drift_detected) {
                ("tested", Some(true)) => "DRIFT".to_owned(),
                ("tested", _) => "no".to_owned(),
                (s, _) => format!("{s}: {}", c.reason.clone().unwrap_or_default()),
            };
            rows.push(vec![
                n.clone(),
                c.kind.into(),
                c.stattest.unwrap_or("-").into(),
                f(c.score),
                f(c.threshold),
                verdict,
            ]);
        }
        log::info(&log::table(&rows));
        log::info(&format!(
            "dataset drift: {} ({} of {} columns, share {})",
            d.dataset_drift,
            d.number_of_drifted_columns,
            d.number_of_columns,
            f(Some(d.share_of_drifted_columns))
        ));
    }
    if !r.expectations.is_empty() {
        let mut rows = vec![vec![
            "#".into(),
            "expectation".into(),
            "column".into(),
            "result".into(),
            "unexpected".into(),
            "observed".into(),
        ]];
        for (i, e) in r.expectations.iter().enumerate() {
            rows.push(vec![
                (i + 1).to_string(),
                e.kind.clone(),
                e.kwargs
                    .get("column")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .into(),
                e.status.to_uppercase(),
                e.unexpected_count.map_or("-".into(), |n| n.to_string()),
                e.observed_value.as_ref().map_or_else(
                    || e.exception_message.clone().unwrap_or("-".into()),
                    Value::to_string,
                ),
            ]);
        }
        log::info(&log::table(&rows));
    }
    let mut rows = vec![vec![
        "check".into(),
        "kind".into(),
        "result".into(),
        "message".into(),
    ]];
    for c in r
        .checks
        .iter()
        .filter(|c| c.status != "passed" || c.kind != "nulls")
    {
        rows.push(vec![
            c.name.clone(),
            c.kind.into(),
            c.status.to_uppercase(),
            c.message.clone(),
        ]);
    }
    log::info(&log::table(&rows));
}
