//! Plain-scalar resolution as Ruby's Psych does it (`Psych::ScalarScanner#tokenize`), which is
//! what GitLab runs (`YAML.safe_load`). Psych implements YAML 1.1 with its own choices:
//!
//! - Booleans are `yes|true|on` and `no|false|off` in **any** case (`TRUE`, `oN`); `y`, `Y`,
//!   `n` and `N` stay strings (the YAML 1.1 type repository lists them, Psych does not).
//! - `~`, `null` (any case) and the empty scalar are null.
//! - Integers: decimal, `0b` binary, leading-zero octal (`0755` is 493), `0x` hex, with `_`
//!   and `,` separators removed first. `0o755` is a string, as is `08`.
//! - Sexagesimal `1:20:30` is an integer with Psych's arithmetic (`Σ nᵢ·60^|i−2|`, so the
//!   two-part `1:20` is 4800, not 80); `1:20.5` is a float.
//! - Floats need a dot: `3.10` is 3.1, `1.5e+3` is 1500; `1e3` and `1.5e3` (no exponent sign)
//!   stay strings. `.inf`, `-.inf`, `.nan` (any case) are the special floats.
//! - Timestamps, dates and `:symbols` stay strings here; GitLab's `safe_load` refuses them.
//!
//! Only plain (unquoted, untagged) scalars are resolved; quoted and block scalars are strings.

use super::Value;

/// Resolves a plain scalar to its Psych value.
pub fn resolve_plain(s: &str) -> Value {
    if s.is_empty() {
        return Value::Null;
    }
    if looks_like_word(s) || s.contains('\n') {
        return resolve_word(s);
    }
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        ".inf" => return Value::Float(f64::INFINITY),
        "-.inf" => return Value::Float(f64::NEG_INFINITY),
        ".nan" => return Value::Float(f64::NAN),
        _ => {}
    }
    if s.starts_with(':') && s.chars().count() > 1 {
        return Value::Str(s.to_owned());
    }
    if let Some(v) = sexagesimal(s) {
        return v;
    }
    if is_float(s) {
        if matches!(s, "." | "+." | "-.") {
            return Value::Str(s.to_owned());
        }
        let mut cleaned: String = s.chars().filter(|c| *c != ',' && *c != '_').collect();
        if cleaned.ends_with('.') {
            cleaned.pop();
        }
        return match cleaned.strip_prefix('+').unwrap_or(&cleaned) {
            "+.inf" | ".inf" | ".Inf" | ".INF" => Value::Float(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
            other => other
                .parse::<f64>()
                .map_or_else(|_| Value::Str(s.to_owned()), Value::Float),
        };
    }
    let cleaned: String = s.chars().filter(|c| *c != ',' && *c != '_').collect();
    parse_int(&cleaned).unwrap_or_else(|| Value::Str(s.to_owned()))
}

/// Psych's first test: `/^[^\d\.:-]?[A-Za-z_\s!@#\$%\^&\*\(\)\{\}\<\>\|\/\\~;=]+/`, a prefix
/// match that sends word-like scalars to the boolean/null/string branch.
fn looks_like_word(s: &str) -> bool {
    fn word_char(c: char) -> bool {
        c.is_ascii_alphabetic()
            || c == '_'
            || c.is_whitespace()
            || "!@#$%^&*(){}<>|/\\~;=".contains(c)
    }
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if word_char(first) {
        return true;
    }
    let optional_ok = !(first.is_ascii_digit() || matches!(first, '.' | ':' | '-'));
    optional_ok && chars.next().is_some_and(word_char)
}

fn resolve_word(s: &str) -> Value {
    if s.chars().count() > 5 {
        return Value::Str(s.to_owned());
    }
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "~" | "null" => Value::Null,
        "yes" | "true" | "on" => Value::Bool(true),
        "no" | "false" | "off" => Value::Bool(false),
        _ => Value::Str(s.to_owned()),
    }
}

/// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+$` → integer, or with a `.[0-9_]*` tail → float.
fn sexagesimal(s: &str) -> Option<Value> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let negative = s.starts_with('-');
    let (head, frac) = match body.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (body, None),
    };
    let mut parts = head.split(':');
    let first = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty()
        || !first.starts_with(|c: char| c.is_ascii_digit())
        || !first.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let base60 = |p: &&str| match p.as_bytes() {
        [d] => d.is_ascii_digit(),
        [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
        _ => false,
    };
    if !rest.iter().all(base60) {
        return None;
    }
    if let Some(f) = frac {
        if !f.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
    }
    // Psych: `i += n.to_i * 60 ** (e - 2).abs` over the parts, sign kept on the first part.
    let numbers: Vec<f64> = std::iter::once(first)
        .chain(rest.iter().copied())
        .enumerate()
        .map(|(e, n)| {
            let mut text: String = n.chars().filter(|c| *c != '_').collect();
            if e == rest.len() {
                if let Some(f) = frac {
                    text = format!("{text}.{}", f.replace('_', ""));
                }
            }
            let v: f64 = text.trim_end_matches('.').parse().unwrap_or(0.0);
            let signed = if e == 0 && negative { -v } else { v };
            signed * 60f64.powi(i32::try_from(e.abs_diff(2)).unwrap_or(i32::MAX))
        })
        .collect();
    let total: f64 = numbers.iter().sum();
    Some(if frac.is_some() {
        Value::Float(total)
    } else if total.abs() < 9.0e15 {
        Value::Int(total as i64)
    } else {
        Value::Float(total)
    })
}

/// Psych's `FLOAT` base-10 branch: `^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`, and the
/// `[-+]?\.(inf|Inf|INF)` / `\.(nan|NaN|NAN)` spellings.
fn is_float(s: &str) -> bool {
    if matches!(
        s,
        "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".inf" | ".Inf" | ".INF"
    ) {
        return true;
    }
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let mut i = 0;
    if i < b.len() && b[i].is_ascii_digit() {
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_' || b[i] == b',') {
            i += 1;
        }
    }
    if i >= b.len() || b[i] != b'.' {
        return false;
    }
    i += 1;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == b.len() {
        return true;
    }
    if !matches!(b[i], b'e' | b'E') {
        return false;
    }
    i += 1;
    if i >= b.len() || !matches!(b[i], b'-' | b'+') {
        return false;
    }
    i += 1;
    let digits = &b[i..];
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Psych's `INTEGER` (after `,` and `_` are removed), then Ruby's `Integer()`.
fn parse_int(s: &str) -> Option<Value> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (digits, radix) = if let Some(bin) = body.strip_prefix("0b") {
        (bin, 2)
    } else if let Some(hex) = body.strip_prefix("0x") {
        (hex, 16)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else if body == "0" || body.starts_with(|c: char| ('1'..='9').contains(&c)) {
        (body, 10)
    } else {
        return None;
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    match i128::from_str_radix(digits, radix) {
        Ok(v) => {
            let v = if negative { -v } else { v };
            Some(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
        }
        // Ruby has bignums; beyond i128 the closest JSON-able value is a float.
        Err(_) => digits
            .parse::<f64>()
            .ok()
            .filter(|_| radix == 10)
            .map(|v| Value::Float(if negative { -v } else { v })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Value {
        resolve_plain(s)
    }

    #[test]
    fn booleans_follow_psych() {
        for t in [
            "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "oN",
        ] {
            assert_eq!(r(t), Value::Bool(true), "{t}");
        }
        for f in ["no", "No", "NO", "false", "False", "off", "Off", "OFF"] {
            assert_eq!(r(f), Value::Bool(false), "{f}");
        }
        for s in ["y", "Y", "n", "N", "yess", "onward", "trueish", "nope"] {
            assert_eq!(r(s), Value::Str(s.to_owned()), "{s}");
        }
    }

    #[test]
    fn nulls() {
        for n in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(r(n), Value::Null, "{n:?}");
        }
        assert_eq!(r("nil"), Value::Str("nil".into()));
    }

    #[test]
    fn integers() {
        assert_eq!(r("42"), Value::Int(42));
        assert_eq!(r("-7"), Value::Int(-7));
        assert_eq!(r("+7"), Value::Int(7));
        assert_eq!(r("0755"), Value::Int(0o755));
        assert_eq!(r("0x1F"), Value::Int(31));
        assert_eq!(r("0b101"), Value::Int(5));
        assert_eq!(r("1_000"), Value::Int(1000));
        assert_eq!(r("1,000"), Value::Int(1000));
        assert_eq!(r("0"), Value::Int(0));
        assert_eq!(r("1:20"), Value::Int(4800));
        assert_eq!(r("1:20:30"), Value::Int(4830));
        for s in ["0o755", "08", "0x", "12abc", "1e3", "-", "+"] {
            assert_eq!(r(s), Value::Str(s.to_owned()), "{s}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(r("3.10"), Value::Float(3.1));
        assert_eq!(r("1.5e+3"), Value::Float(1500.0));
        assert_eq!(r(".5"), Value::Float(0.5));
        assert_eq!(r("1."), Value::Float(1.0));
        assert_eq!(r(".inf"), Value::Float(f64::INFINITY));
        assert_eq!(r("-.Inf"), Value::Float(f64::NEG_INFINITY));
        assert!(matches!(r(".NaN"), Value::Float(f) if f.is_nan()));
        for s in ["1.5e3", ".", "1.2.3", "v3.10", "3.10-slim"] {
            assert_eq!(r(s), Value::Str(s.to_owned()), "{s}");
        }
    }

    #[test]
    fn strings() {
        for s in [
            "hello",
            "python:3.10",
            "$CI_COMMIT_SHA",
            "2024-01-01",
            ":sym",
            "a b",
        ] {
            assert_eq!(r(s), Value::Str(s.to_owned()), "{s}");
        }
    }
}
