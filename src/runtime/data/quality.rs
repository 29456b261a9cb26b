//! The runtime's own checks on a [`Table`]: the column profile (kind, nulls), required columns and
//! expected kinds, and the null-ratio rule of `docs/data-checks.md` (a column fails when its null
//! ratio is strictly above the threshold; exactly equal passes).

use indexmap::IndexMap;
use serde::Serialize;

use super::Table;
use super::kinds::{infer, name as kind_name};
use crate::config::raw::ColumnKind;

/// The default `max_null_ratio`.
pub const DEFAULT_MAX_NULL_RATIO: f64 = 0.05;

/// `validate.json`'s `columns.<name>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnProfile {
    /// `num`, `cat`, `text`, `datetime` or `unknown` (Evidently's inference).
    pub kind: &'static str,
    /// The pandas dtype (`int64`, `float64`, `bool`, `object`, ...).
    pub dtype: &'static str,
    /// Null values.
    pub null_count: usize,
    /// `null_count / rows` (0 for an empty table).
    pub null_ratio: f64,
    /// The threshold applied to this column.
    pub max_null_ratio: f64,
    /// `passed`, or `failed` when `null_ratio > max_null_ratio`.
    pub null_status: &'static str,
    /// True when the ratio equals the threshold: one more null fails it.
    pub at_threshold: bool,
}

/// `validate.json`'s `schema`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SchemaReport {
    /// Required columns that are absent.
    pub missing_columns: Vec<String>,
    /// Columns neither required nor given a kind (only when `required_columns` is set).
    pub extra_columns: Vec<String>,
    /// `column_kinds` entries the data does not match: `{column, expected, actual}`.
    pub kind_mismatches: Vec<KindMismatch>,
}

/// One expected kind the data does not have.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindMismatch {
    /// The column.
    pub column: String,
    /// The kind in `column_kinds`.
    pub expected: &'static str,
    /// The inferred kind, or `missing`.
    pub actual: &'static str,
}

/// Settings of the schema and null checks.
#[derive(Debug, Clone, Default)]
pub struct QualitySettings {
    /// Columns that must exist.
    pub required_columns: Vec<String>,
    /// Expected kinds.
    pub column_kinds: IndexMap<String, ColumnKind>,
    /// Global null-ratio threshold.
    pub max_null_ratio: f64,
    /// Per-column thresholds.
    pub null_ratio: IndexMap<String, f64>,
}

fn dtype_name(t: super::Dtype) -> &'static str {
    match t {
        super::Dtype::Object => "object",
        super::Dtype::Datetime => "datetime64[ns]",
        super::Dtype::DatetimeCoarse("ms") => "datetime64[ms]",
        super::Dtype::DatetimeCoarse(_) => "datetime64[us]",
        other => other.type_name(),
    }
}

/// Profiles every column and applies the null rule.
pub fn profile(table: &Table, s: &QualitySettings) -> IndexMap<String, ColumnProfile> {
    table
        .columns
        .iter()
        .map(|c| {
            let ratio = if table.rows == 0 {
                0.0
            } else {
                c.null_count as f64 / table.rows as f64
            };
            let max = s
                .null_ratio
                .get(&c.name)
                .copied()
                .unwrap_or(s.max_null_ratio);
            let p = ColumnProfile {
                kind: kind_name(infer(c)),
                dtype: dtype_name(c.dtype),
                null_count: c.null_count,
                null_ratio: ratio,
                max_null_ratio: max,
                null_status: if ratio > max { "failed" } else { "passed" },
                at_threshold: ratio == max,
            };
            (c.name.clone(), p)
        })
        .collect()
}

/// Required columns, expected kinds and extra columns.
pub fn schema(
    table: &Table,
    profiles: &IndexMap<String, ColumnProfile>,
    s: &QualitySettings,
) -> SchemaReport {
    let missing_columns = s
        .required_columns
        .iter()
        .filter(|c| table.column(c).is_none())
        .cloned()
        .collect();
    let extra_columns = if s.required_columns.is_empty() {
        Vec::new()
    } else {
        table
            .columns
            .iter()
            .map(|c| &c.name)
            .filter(|n| !s.required_columns.contains(n) && !s.column_kinds.contains_key(*n))
            .cloned()
            .collect()
    };
    let kind_mismatches = s
        .column_kinds
        .iter()
        .filter_map(|(col, &want)| {
            let actual = profiles.get(col).map_or("missing", |p| p.kind);
            (actual != kind_name(want)).then(|| KindMismatch {
                column: col.clone(),
                expected: kind_name(want),
                actual,
            })
        })
        .collect();
    SchemaReport {
        missing_columns,
        extra_columns,
        kind_mismatches,
    }
}
