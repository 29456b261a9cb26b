//! Python's view of a cell: `repr` of floats (what `astype(str)` gives), JSON output of
//! values, and Python equality between cells and suite constants.

use serde_json::Value;

use crate::runtime::data::Cell;

/// Python's `repr(float)`: the shortest round-trip digits, in scientific notation when the
/// decimal exponent is below -4 or at least 16 (`1e-05`, `1e+16`, `5.0`).
#[allow(clippy::many_single_char_names)]
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits: `-1.2345e-5`.
    let e = format!("{x:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
        let body = if exp < 0 {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else if exp + 1 >= n {
            format!("{digits}{}.0", "0".repeat((exp + 1 - n) as usize))
        } else {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (a, b) = digits.split_at(1);
        let frac = if b.is_empty() {
            String::new()
        } else {
            format!(".{b}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{a}{frac}e{esign}{:02}", exp.abs())
    }
}

/// `str(value)` as pandas' `astype(str)` gives it.
pub fn to_str(cell: Cell<'_>) -> String {
    match cell {
        Cell::Null => "nan".into(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => float_repr(f),
        Cell::Bool(b) => if b { "True" } else { "False" }.into(),
        Cell::Str(s) => s.to_owned(),
        Cell::Datetime(ns) => ns.to_string(),
        Cell::Other => String::new(),
    }
}

/// A cell as JSON (for `partial_unexpected_list` and observed values).
pub fn to_json(cell: Cell<'_>) -> Value {
    match cell {
        Cell::Null | Cell::Other => Value::Null,
        Cell::Int(i) => i.into(),
        Cell::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Cell::Bool(b) => b.into(),
        Cell::Str(s) => s.into(),
        Cell::Datetime(ns) => ns.into(),
    }
}

/// A number for JSON.
pub fn num_json(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// The numeric value of a cell, as numpy compares it (`True` is 1).
pub fn as_f64(cell: Cell<'_>) -> Option<f64> {
    match cell {
        Cell::Int(i) => Some(i as f64),
        Cell::Float(f) => Some(f),
        Cell::Bool(b) => Some(f64::from(u8::from(b))),
        _ => None,
    }
}

/// A suite constant's numeric value (`true` is 1, as in Python).
pub fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// Python's type name of a suite constant, for error messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

#[cfg(test)]
mod tests {
    use super::float_repr;

    #[test]
    fn repr_matches_python() {
        for (x, s) in [
            (5.0, "5.0"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (-2.5e-7, "-2.5e-07"),
            (1.234_567_890_123_456_8e17, "1.2345678901234568e+17"),
            (1e15, "1000000000000000.0"),
            (-0.0, "-0.0"),
        ] {
            assert_eq!(float_repr(x), s, "{x}");
        }
    }
}
