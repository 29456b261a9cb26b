//! The validate side of drift (`docs/data-checks.md`): which columns are tested and as what kind
//! (kinds of the *current* frame), cleaning (drop nulls and ±inf), aligned category counts, then
//! the tests of [`crate::runtime::drift`].
//!
//! Deviations from Evidently, all reported per column instead of failing the whole report:
//! a column only in the current data, an empty column, or a numeric column that is not
//! numeric in the reference gets `status: "error"`; text columns are `skipped`, because
//! Evidently's text drift is a scikit-learn domain classifier that cannot be reproduced bit
//! for bit.

use indexmap::IndexMap;
use serde::Serialize;

use super::column::{Dtype, Values};
use super::kinds::{infer, name as kind_name};
use super::plot::{self, Plot};
use super::sort_key::{aligned, counts};
use super::{Column, Table};
use crate::config::raw::ColumnKind;
use crate::runtime::drift::{self, ColumnDrift};

/// Evidently's `DriftedColumnsCount(drift_share=0.5)`.
pub const DRIFT_SHARE: f64 = 0.5;

/// The drift result of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftColumn {
    /// The kind the current data gives the column.
    pub kind: &'static str,
    /// `tested`, `skipped` or `error`.
    pub status: &'static str,
    /// The test (`ks`, `chisquare`, `z`, `wasserstein`, `jensenshannon`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stattest: Option<&'static str>,
    /// A p-value or a distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The test's threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_detected: Option<bool>,
    /// Why the column was skipped or could not be tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The plot data of a tested column, when asked for (`validate.plots.json`, not
    /// `validate.json`).
    #[serde(skip)]
    pub plot: Option<Plot>,
}

impl DriftColumn {
    fn not_tested(kind: ColumnKind, status: &'static str, reason: impl Into<String>) -> Self {
        Self {
            kind: kind_name(kind),
            status,
            stattest: None,
            score: None,
            threshold: None,
            drift_detected: None,
            reason: Some(reason.into()),
            plot: None,
        }
    }

    fn tested(kind: ColumnKind, d: &ColumnDrift, plot: Option<Plot>) -> Self {
        Self {
            kind: kind_name(kind),
            status: "tested",
            stattest: Some(d.stattest.name()),
            score: Some(d.score),
            threshold: Some(d.threshold),
            drift_detected: Some(d.drift_detected),
            reason: None,
            plot,
        }
    }
}

/// `validate.json`'s `drift` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// `share_of_drifted_columns >= drift_share`.
    pub dataset_drift: bool,
    /// Drifted / tested columns.
    pub share_of_drifted_columns: f64,
    /// Columns tested.
    pub number_of_columns: usize,
    /// Columns with drift.
    pub number_of_drifted_columns: usize,
    /// The dataset threshold (0.5).
    pub drift_share: f64,
    /// Every column of either side, current columns first.
    pub columns: IndexMap<String, DriftColumn>,
}

/// Non-null, finite values as floats; `None` when the column is not numeric.
fn numeric(col: &Column) -> Option<Vec<f64>> {
    match &col.values {
        Values::Int(v) => Some(v.iter().map(|&x| x as f64).collect()),
        Values::Float(v) => Some(v.iter().copied().filter(|x| x.is_finite()).collect()),
        Values::Bool(v) => Some(
            v.iter()
                .filter(|&&b| b < 2)
                .map(|&b| f64::from(b))
                .collect(),
        ),
        Values::Str(_) | Values::Datetime(_) | Values::Other(_) | Values::Dropped(_) => None,
    }
}

/// One column's test (with its plot data when `plots`), or why it could not run.
fn test_column(
    kind: ColumnKind,
    reference: &Column,
    current: &Column,
    plots: bool,
) -> Result<(ColumnDrift, Option<Plot>), String> {
    let name = &current.name;
    let empty = |side: &str| {
        Err(format!(
            "column `{name}` has no non-null, finite values in the {side} data"
        ))
    };
    let result = if kind == ColumnKind::Num {
        let Some(r) = numeric(reference) else {
            return Err(format!(
                "column `{name}` is numeric in the current data but not in the reference"
            ));
        };
        let Some(c) = numeric(current) else {
            return Err(format!(
                "column `{name}` is not numeric in the current data"
            ));
        };
        if r.is_empty() {
            return empty("reference");
        }
        if c.is_empty() {
            return empty("current");
        }
        drift::numeric_drift_binned(&r, &c, plots.then_some(drift::BINS))
            .map(|(d, b)| (d, b.map(plot::from_binned)))
    } else {
        let (Some(r), Some(c)) = (counts(reference), counts(current)) else {
            return Err(format!(
                "column `{name}` holds values that cannot be compared as categories"
            ));
        };
        if r.is_empty() {
            return empty("reference");
        }
        if c.is_empty() {
            return empty("current");
        }
        let booleans = current.dtype == Dtype::Bool;
        drift::categorical_drift(&aligned(&r, &c))
            .map(|d| (d, plots.then(|| plot::categories(&r, &c, booleans))))
    };
    result.map_err(|e| format!("column `{name}`: {e}"))
}

/// One current column's result, and the test outcome when it was tested.
fn column_result(
    reference: &Table,
    cur: &Column,
    plots: bool,
) -> (DriftColumn, Option<ColumnDrift>) {
    let kind = infer(cur);
    match kind {
        ColumnKind::Datetime | ColumnKind::Unknown => (
            DriftColumn::not_tested(
                kind,
                "skipped",
                format!("Evidently does not drift-test {} columns", kind_name(kind)),
            ),
            None,
        ),
        ColumnKind::Text => (
            DriftColumn::not_tested(
                kind,
                "skipped",
                "text drift in Evidently is a scikit-learn domain classifier that cannot be reproduced exactly; not tested",
            ),
            None,
        ),
        ColumnKind::Num | ColumnKind::Cat => match reference.column(&cur.name) {
            None => (
                DriftColumn::not_tested(
                    kind,
                    "error",
                    format!(
                        "column `{}` is only in the current data (Evidently would fail the whole report)",
                        cur.name
                    ),
                ),
                None,
            ),
            Some(r) => match test_column(kind, r, cur, plots) {
                Ok((d, p)) => (DriftColumn::tested(kind, &d, p), Some(d)),
                Err(e) => (DriftColumn::not_tested(kind, "error", e), None),
            },
        },
    }
}

/// Runs the default `DataDriftPreset` column tests of `current` against `reference`, with
/// each tested column's plot data when `plots`. Columns are independent, so they are spread
/// over the available cores; results keep the current data's column order.
pub fn compare(reference: &Table, current: &Table, plots: bool) -> DriftReport {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, (DriftColumn, Option<ColumnDrift>))> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                sc.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(cur) = current.columns.get(i) else {
                            break;
                        };
                        out.push((i, column_result(reference, cur, plots)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    let mut columns = IndexMap::new();
    let mut tested: Vec<ColumnDrift> = Vec::new();
    for (i, (result, d)) in results {
        tested.extend(d);
        columns.insert(current.columns[i].name.clone(), result);
    }
    for r in &reference.columns {
        if current.column(&r.name).is_none() {
            columns.insert(
                r.name.clone(),
                DriftColumn::not_tested(
                    infer(r),
                    "skipped",
                    "only in the reference data (Evidently ignores it)",
                ),
            );
        }
    }
    let ds = drift::dataset_drift(&tested, DRIFT_SHARE);
    DriftReport {
        dataset_drift: ds.dataset_drift,
        share_of_drifted_columns: ds.share_of_drifted_columns,
        number_of_columns: ds.number_of_columns,
        number_of_drifted_columns: ds.number_of_drifted_columns,
        drift_share: DRIFT_SHARE,
        columns,
    }
}
