//! Column kinds as Evidently 0.7 infers them from a pandas frame (`infer_column_type`;
//! `docs/data-checks.md`): what decides whether a column is drift-tested, and with which
//! test family.

use crate::config::raw::ColumnKind;

use super::column::{Column, Dtype, Values};

/// Evidently's `INTEGER_CARDINALITY_LIMIT`: an int column with at most this many distinct
/// values is categorical.
pub const INTEGER_CARDINALITY_LIMIT: usize = 10;

/// The kind of one column.
pub fn infer(col: &Column) -> ColumnKind {
    match &col.values {
        Values::Float(_) | Values::Dropped(_) => ColumnKind::Num,
        Values::Int(v) => {
            if distinct_at_most(v, INTEGER_CARDINALITY_LIMIT) {
                ColumnKind::Cat
            } else {
                ColumnKind::Num
            }
        }
        // `bool` is categorical; `object` holding bools (a bool column with a null) has a
        // non-`str` first value, which Evidently cannot type.
        Values::Bool(_) if col.dtype == Dtype::Bool => ColumnKind::Cat,
        Values::Datetime(_) if col.dtype == Dtype::Datetime => ColumnKind::Datetime,
        Values::Bool(_) | Values::Other(_) | Values::Datetime(_) => ColumnKind::Unknown,
        Values::Str(s) => {
            let count = col.count();
            if count == 0 {
                ColumnKind::Unknown
            } else if s.dict.len() as f64 > 0.5 * count as f64 {
                ColumnKind::Text
            } else {
                ColumnKind::Cat
            }
        }
    }
}

/// Whether `v` holds at most `limit` distinct values (stops early).
fn distinct_at_most(v: &[i64], limit: usize) -> bool {
    let mut seen: Vec<i64> = Vec::with_capacity(limit + 1);
    for &x in v {
        if !seen.contains(&x) {
            seen.push(x);
            if seen.len() > limit {
                return false;
            }
        }
    }
    true
}

/// The name used in reports.
pub fn name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Num => "num",
        ColumnKind::Cat => "cat",
        ColumnKind::Text => "text",
        ColumnKind::Datetime => "datetime",
        ColumnKind::Unknown => "unknown",
    }
}
