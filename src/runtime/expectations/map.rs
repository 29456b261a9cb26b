//! Column map expectations (`docs/data-checks.md`; GE's `ColumnMapExpectation` in
//! `great_expectations/expectations/expectation.py`): a condition per non-null row, `mostly`, and
//! GE's result fields. String columns are evaluated once per distinct value, then counted through
//! the interned codes.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::pyvalue::{as_f64, json_f64, json_type, to_json, to_str};
use super::{ExpectationResult, flag, mostly};
use crate::runtime::data::column::{FxMap, NULL_CODE};
use crate::runtime::data::{Cell, Column, Values};

const PARTIAL: usize = 20;

/// Unexpected rows of a column: their count and the first [`PARTIAL`] values.
struct Unexpected {
    count: u64,
    partial: Vec<Value>,
}

/// Evaluates `ok` on every non-null row; an `Err` is GE's exception.
fn scan(
    col: &Column,
    mut ok: impl FnMut(Cell<'_>) -> Result<bool, String>,
) -> Result<Unexpected, String> {
    let mut u = Unexpected {
        count: 0,
        partial: Vec::new(),
    };
    if let Values::Str(s) = &col.values {
        let verdicts: Vec<bool> = s
            .dict
            .iter()
            .map(|v| ok(Cell::Str(v)))
            .collect::<Result<_, _>>()?;
        for &c in &s.codes {
            if c != NULL_CODE && !verdicts[c as usize] {
                u.count += 1;
                if u.partial.len() < PARTIAL {
                    u.partial.push(Value::String(s.dict[c as usize].clone()));
                }
            }
        }
        return Ok(u);
    }
    for i in 0..col.len() {
        let cell = col.cell(i);
        if cell != Cell::Null && !ok(cell)? {
            u.count += 1;
            if u.partial.len() < PARTIAL {
                u.partial.push(to_json(cell));
            }
        }
    }
    Ok(u)
}

fn pct(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64 * 100.0)
}

/// `ColumnMapExpectation._validate` + `_format_map_output`.
fn finish(
    col: &Column,
    k: &Map<String, Value>,
    r: ExpectationResult,
    u: Result<Unexpected, String>,
) -> ExpectationResult {
    let u = match u {
        Ok(u) => u,
        Err(e) => return r.exception(e),
    };
    let rows = col.len() as u64;
    let nulls = col.null_count as u64;
    let nonnull = rows - nulls;
    let success =
        rows == 0 || nonnull == 0 || (nonnull - u.count) as f64 / nonnull as f64 >= mostly(k);
    let mut r = r.verdict(success);
    r.element_count = Some(rows);
    r.missing_count = Some(nulls);
    r.missing_percent = pct(nulls, rows);
    r.unexpected_count = Some(u.count);
    r.unexpected_percent = pct(u.count, nonnull);
    r.unexpected_percent_nonmissing = r.unexpected_percent;
    r.unexpected_percent_total = pct(u.count, rows);
    r.partial_unexpected_list = Some(u.partial);
    r
}

/// `expect_column_values_to_not_be_null`: no null filtering, percentages over all rows.
pub fn not_null(col: &Column, k: &Map<String, Value>, r: ExpectationResult) -> ExpectationResult {
    let rows = col.len() as u64;
    let nulls = col.null_count as u64;
    let success = rows == 0 || (rows - nulls) as f64 / rows as f64 >= mostly(k);
    let mut r = r.verdict(success);
    r.element_count = Some(rows);
    r.unexpected_count = Some(nulls);
    r.unexpected_percent = pct(nulls, rows);
    r.unexpected_percent_total = r.unexpected_percent;
    r.partial_unexpected_list = Some(vec![Value::Null; nulls.min(PARTIAL as u64) as usize]);
    r
}

/// A bound: absent/null, a number, or a string (compared with strings only).
fn bound(k: &Map<String, Value>, key: &str) -> Option<Value> {
    k.get(key).filter(|v| !v.is_null()).cloned()
}

fn cmp_ok(v: f64, b: f64, strict: bool, lower: bool) -> bool {
    match (lower, strict) {
        (true, true) => v > b,
        (true, false) => v >= b,
        (false, true) => v < b,
        (false, false) => v <= b,
    }
}

fn cmp_str(v: &str, b: &str, strict: bool, lower: bool) -> bool {
    match (lower, strict) {
        (true, true) => v > b,
        (true, false) => v >= b,
        (false, true) => v < b,
        (false, false) => v <= b,
    }
}

/// `expect_column_values_to_be_between`.
#[allow(clippy::many_single_char_names)]
pub fn between(col: &Column, k: &Map<String, Value>, r: ExpectationResult) -> ExpectationResult {
    let (min, max) = (bound(k, "min_value"), bound(k, "max_value"));
    let (smin, smax) = (flag(k, "strict_min"), flag(k, "strict_max"));
    if min.is_none() && max.is_none() {
        return r.exception("min_value and max_value cannot both be None");
    }
    if let (Some(a), Some(b)) = (&min, &max) {
        let greater = match (a, b) {
            (Value::String(a), Value::String(b)) => a > b,
            _ => matches!((json_f64(a), json_f64(b)), (Some(a), Some(b)) if a > b),
        };
        if greater {
            return r.exception("min_value cannot be greater than max_value");
        }
    }
    let numeric_dtype = matches!(col.values, Values::Int(_) | Values::Float(_))
        || (matches!(col.values, Values::Bool(_))
            && col.dtype == crate::runtime::data::Dtype::Bool);
    let check = |cell: Cell<'_>| -> Result<bool, String> {
        let mut ok = true;
        for (b, strict, lower) in [(&min, smin, true), (&max, smax, false)] {
            let Some(b) = b else { continue };
            ok &= match (cell, b) {
                (Cell::Str(s), Value::String(bs)) => cmp_str(s, bs, strict, lower),
                (Cell::Str(_), _) | (_, Value::String(_)) if !numeric_dtype => {
                    return Err("Column values, min_value, and max_value must either be None or of the same type.".into());
                }
                (c, b) => match (as_f64(c), json_f64(b)) {
                    (Some(v), Some(b)) => cmp_ok(v, b, strict, lower),
                    _ => {
                        return Err(format!(
                            "'{}' not supported between instances of '{}' and '{}'",
                            if lower { ">=" } else { "<=" },
                            col.dtype.type_name(),
                            json_type(b)
                        ));
                    }
                },
            };
        }
        Ok(ok)
    };
    finish(col, k, r, scan(col, check))
}

/// `expect_column_values_to_be_in_set` (`negate = false`) and `..._not_be_in_set`, with
/// pandas `isin` equality: `1.0` matches `1`, `"1"` does not.
pub fn in_set(
    col: &Column,
    k: &Map<String, Value>,
    r: ExpectationResult,
    negate: bool,
) -> ExpectationResult {
    let set = match k.get("value_set") {
        None | Some(Value::Null) => {
            // GE treats a missing set as "everything matches".
            return finish(col, k, r, scan(col, |_| Ok(!negate)));
        }
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return r.exception("value_set must be a list"),
    };
    let nums: Vec<f64> = set
        .iter()
        .filter(|v| !v.is_string())
        .filter_map(json_f64)
        .collect();
    let strs: HashSet<&str> = set.iter().filter_map(Value::as_str).collect();
    let check = |cell: Cell<'_>| {
        let hit = match cell {
            Cell::Str(s) => strs.contains(s),
            c => as_f64(c).is_some_and(|v| nums.contains(&v)),
        };
        Ok(hit != negate)
    };
    finish(col, k, r, scan(col, check))
}

/// `expect_column_values_to_be_unique`: every occurrence of a repeated value is unexpected.
pub fn unique(col: &Column, k: &Map<String, Value>, r: ExpectationResult) -> ExpectationResult {
    let u = if let Values::Str(s) = &col.values {
        let mut n = vec![0u32; s.dict.len()];
        for &c in s.codes.iter().filter(|&&c| c != NULL_CODE) {
            n[c as usize] = n[c as usize].saturating_add(1);
        }
        // `scan` visits each dictionary entry once, in order.
        let mut next = 0;
        scan(col, |_| {
            let ok = n.get(next).is_none_or(|&c| c <= 1);
            next += 1;
            Ok(ok)
        })
    } else {
        let key = |cell: Cell<'_>| -> Option<u64> {
            match cell {
                Cell::Int(i) => Some((i as f64).to_bits()),
                Cell::Float(f) => Some(if f == 0.0 {
                    0.0f64.to_bits()
                } else {
                    f.to_bits()
                }),
                Cell::Bool(b) => Some(f64::from(u8::from(b)).to_bits()),
                Cell::Datetime(t) => Some(t as u64),
                _ => None,
            }
        };
        let mut n: FxMap<u64, u32> = FxMap::default();
        for i in 0..col.len() {
            if let Some(x) = key(col.cell(i)) {
                *n.entry(x).or_default() += 1;
            }
        }
        scan(col, |cell| {
            Ok(key(cell).is_none_or(|x| n.get(&x).copied().unwrap_or(0) <= 1))
        })
    };
    finish(col, k, r, u)
}

/// `expect_column_values_to_match_regex`: Python `re.search` (unanchored) on `str(value)`.
pub fn match_regex(
    col: &Column,
    k: &Map<String, Value>,
    r: ExpectationResult,
) -> ExpectationResult {
    let Some(pattern) = k.get("regex").and_then(Value::as_str) else {
        return r.exception("`regex` is required");
    };
    let re = match regex::Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => return r.exception(format!("cannot compile regex {pattern:?}: {e}")),
    };
    finish(
        col,
        k,
        r,
        scan(col, |cell| {
            Ok(match cell {
                Cell::Str(s) => re.is_match(s),
                c => re.is_match(&to_str(c)),
            })
        }),
    )
}

/// `expect_column_values_to_be_of_type` on an `object` column: a map over the values.
pub fn of_type_map(
    col: &Column,
    k: &Map<String, Value>,
    r: ExpectationResult,
    is_type: impl Fn(Cell<'_>) -> bool,
) -> ExpectationResult {
    finish(col, k, r, scan(col, |c| Ok(is_type(c))))
}
