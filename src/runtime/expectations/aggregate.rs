//! Aggregate column expectations: `be_of_type` (aggregate on typed columns, a map on
//! `object` columns), `mean`/`min`/`max` between, and GE's `_validate_metric_value_between`.

use serde_json::{Map, Value};

use super::pyvalue::{json_f64, num_json, to_json};
use super::{ExpectationResult, flag};
use crate::runtime::data::{Cell, Column, Dtype, Values};

/// `_validate_metric_value_between`: `None`/NaN fails with no observed value; a `None`
/// bound is open; strictness per side.
pub fn metric_between(
    v: Option<f64>,
    observed: Value,
    k: &Map<String, Value>,
    r: ExpectationResult,
) -> ExpectationResult {
    let Some(v) = v.filter(|v| !v.is_nan()) else {
        let mut r = r.verdict(false);
        r.observed_value = None;
        return r;
    };
    let min = k.get("min_value").and_then(json_f64);
    let max = k.get("max_value").and_then(json_f64);
    let above = min.is_none_or(|m| if flag(k, "strict_min") { v > m } else { v >= m });
    let below = max.is_none_or(|m| if flag(k, "strict_max") { v < m } else { v <= m });
    let mut r = r.verdict(above && below);
    r.observed_value = Some(observed);
    r
}

/// numpy's pairwise summation (`pairwise_sum` in `loops_utils.h`), so a float mean has the
/// same last bits as pandas'.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `col.mean()` (skipna), or the exception pandas raises.
pub fn column_mean(col: &Column) -> Result<Option<f64>, String> {
    let count = col.count();
    let sum = match &col.values {
        // pandas fills nulls with 0 and sums the whole array.
        Values::Float(v) => {
            let filled: Vec<f64> = v
                .iter()
                .map(|&x| if x.is_nan() { 0.0 } else { x })
                .collect();
            pairwise_sum(&filled)
        }
        // Exact for every sum numpy's float64 accumulation keeps exact (|sum| < 2^53).
        Values::Int(v) => v.iter().map(|&x| i128::from(x)).sum::<i128>() as f64,
        Values::Bool(v) => v.iter().map(|&b| usize::from(b == 1)).sum::<usize>() as f64,
        // pandas sums the strings, then adds the integer start value: Python's TypeError.
        Values::Str(_) => return Err("can only concatenate str (not \"int\") to str".into()),
        Values::Datetime(_) | Values::Other(_) | Values::Dropped(_) => {
            return Err(format!(
                "cannot compute the mean of a column of dtype {}",
                col.dtype.type_name()
            ));
        }
    };
    Ok((count > 0).then(|| sum / count as f64))
}

/// `expect_column_mean_to_be_between`.
pub fn mean(col: &Column, k: &Map<String, Value>, r: ExpectationResult) -> ExpectationResult {
    match column_mean(col) {
        Ok(m) => metric_between(m, m.map_or(Value::Null, num_json), k, r),
        Err(e) => r.exception(e),
    }
}

/// `expect_column_min_to_be_between` / `..._max_...`.
pub fn extreme(
    col: &Column,
    k: &Map<String, Value>,
    r: ExpectationResult,
    max: bool,
) -> ExpectationResult {
    let mut best: Option<(f64, Cell<'_>)> = None;
    for i in 0..col.len() {
        let c = col.cell(i);
        let v = match c {
            Cell::Int(x) => x as f64,
            Cell::Float(x) => x,
            Cell::Bool(b) => f64::from(u8::from(b)),
            Cell::Null => continue,
            _ => {
                return r.exception(format!(
                    "cannot compute the {} of a column of dtype {}",
                    if max { "max" } else { "min" },
                    col.dtype.type_name()
                ));
            }
        };
        if best.is_none_or(|(b, _)| if max { v > b } else { v < b }) {
            best = Some((v, c));
        }
    }
    match best {
        Some((v, c)) => metric_between(Some(v), to_json(c), k, r),
        None => metric_between(None, Value::Null, k, r),
    }
}

/// `np.dtype(type_).type.__name__` for the dtype names numpy accepts.
fn numpy_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "int" | "int64" | "i8" | "long" | "int_" | "intp" | "longlong" | "<i8" => "int64",
        "int32" | "i4" | "intc" | "<i4" => "int32",
        "int16" | "i2" | "short" => "int16",
        "int8" | "i1" | "byte" => "int8",
        "uint64" | "u8" | "uint" | "ulong" | "uintp" => "uint64",
        "uint32" | "u4" => "uint32",
        "uint16" | "u2" => "uint16",
        "uint8" | "u1" | "ubyte" => "uint8",
        "float" | "float64" | "f8" | "double" | "d" | "<f8" => "float64",
        "float32" | "f4" | "single" | "f" => "float32",
        "float16" | "f2" | "half" | "e" => "float16",
        "bool" | "?" | "b1" | "bool_" => "bool",
        "str" | "U" | "str_" | "unicode" => "str_",
        "bytes" | "S" | "bytes_" => "bytes_",
        "object" | "O" | "object_" => "object_",
        "datetime64" | "M8" | "datetime64[ns]" | "M8[ns]" | "<M8[ns]" => "datetime64",
        "complex" | "complex128" | "c16" | "D" => "complex128",
        _ => return None,
    })
}

/// GE's `native_type_type_map`.
fn native_type(t: &str) -> Option<&'static str> {
    Some(match t.to_ascii_lowercase().as_str() {
        "none" => "NoneType",
        "bool" => "bool",
        "int" | "long" => "int",
        "float" => "float",
        "bytes" => "bytes",
        "complex" => "complex",
        "str" | "string_types" => "str",
        "list" => "list",
        "dict" => "dict",
        _ => return None,
    })
}

/// `expect_column_values_to_be_of_type`.
pub fn of_type(col: &Column, k: &Map<String, Value>, r: ExpectationResult) -> ExpectationResult {
    let Some(t) = k.get("type_").and_then(Value::as_str) else {
        // `type_=None` passes in GE.
        let mut r = r.verdict(true);
        r.observed_value = Some(col.dtype.type_name().into());
        return r;
    };
    let comp: Vec<&str> = [numpy_type(t), native_type(t)]
        .into_iter()
        .flatten()
        .collect();
    if col.dtype == Dtype::Object && !matches!(t, "object" | "object_" | "O") {
        if comp.is_empty() {
            return r.exception(format!("Unrecognized numpy/python type: {t}"));
        }
        // `isinstance(v, comp_types)`: CSV object columns hold `str`, or `bool` (an `int`).
        return super::map::of_type_map(col, k, r, |c| match c {
            Cell::Str(_) => comp.iter().any(|x| matches!(*x, "str" | "str_")),
            Cell::Bool(_) => comp.iter().any(|x| matches!(*x, "bool" | "int")),
            _ => false,
        });
    }
    let name = col.dtype.type_name();
    let mut r = r.verdict(comp.contains(&name));
    r.observed_value = Some(name.into());
    r
}
