//! What one field parses as: pandas' NA tokens, integers, floats, booleans, or text, decided
//! the way pandas' C parser decides them, with a one-scan fast path for the common shapes.

/// `pandas._libs.parsers.STR_NA_VALUES`: exact matches only.
pub fn is_na(s: &str) -> bool {
    matches!(
        s,
        "" | "#N/A"
            | "#N/A N/A"
            | "#NA"
            | "-1.#IND"
            | "-1.#QNAN"
            | "-NaN"
            | "-nan"
            | "1.#IND"
            | "1.#QNAN"
            | "<NA>"
            | "N/A"
            | "NA"
            | "NULL"
            | "NaN"
            | "None"
            | "n/a"
            | "nan"
            | "null"
    )
}

/// What one field parses as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token {
    /// An NA token.
    Na,
    /// An integer.
    Int(i64),
    /// A float (decimal point, exponent, `inf`, or an integer too large for `i64`).
    Float(f64),
    /// `True`/`TRUE`/`true` or the `False` spellings.
    Bool(bool),
    /// Anything else.
    Str,
}

/// Classifies one field the way pandas' C parser would; without `keep`, a plain decimal is
/// `Float(0.0)` (its value is not computed).
#[inline]
pub(super) fn classify_for(s: &str, keep: bool) -> Token {
    number(s, keep).unwrap_or_else(|| classify_general(s))
}

/// The common shapes in one scan (`value = false` skips computing a float's value): `-?[0-9]{1,18}` is an int (it fits an `i64`), and
/// `-?[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)?` with a digit is a float. `None` for anything
/// else, which [`classify_general`] decides; no NA or boolean token has these shapes.
fn number(s: &str, value: bool) -> Option<Token> {
    let bytes = s.as_bytes();
    let (neg, d) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    // One pass: the digits as an integer (wrapping past 19 digits, when it is not used),
    // the count before and after the point, then an optional exponent.
    let mut mantissa: u64 = 0;
    let mut at = 0;
    while at < d.len() && d[at].is_ascii_digit() {
        mantissa = mantissa
            .wrapping_mul(10)
            .wrapping_add(u64::from(d[at] - b'0'));
        at += 1;
    }
    let whole = at;
    if whole == d.len() {
        if whole == 0 || whole > 18 {
            return None;
        }
        let int = i64::try_from(mantissa).ok()?;
        return Some(Token::Int(if neg { -int } else { int }));
    }
    let mut frac = 0;
    if d[at] == b'.' {
        at += 1;
        while at < d.len() && d[at].is_ascii_digit() {
            mantissa = mantissa
                .wrapping_mul(10)
                .wrapping_add(u64::from(d[at] - b'0'));
            at += 1;
        }
        frac = at - whole - 1;
    }
    if whole + frac == 0 {
        return None;
    }
    let mut exp: i64 = 0;
    if at < d.len() && matches!(d[at], b'e' | b'E') {
        at += 1;
        let minus = at < d.len() && d[at] == b'-';
        if at < d.len() && matches!(d[at], b'-' | b'+') {
            at += 1;
        }
        let first = at;
        while at < d.len() && d[at].is_ascii_digit() {
            exp = exp
                .saturating_mul(10)
                .saturating_add(i64::from(d[at] - b'0'));
            at += 1;
        }
        if at == first {
            return None;
        }
        if minus {
            exp = -exp;
        }
    }
    if at != d.len() {
        return None;
    }
    if !value {
        // Every string of this shape parses (overflow gives inf): the type is certain.
        return Some(Token::Float(0.0));
    }
    let x = exact_decimal(mantissa, whole + frac, exp - i64::try_from(frac).ok()?)
        .or_else(|| s.parse::<f64>().ok().map(f64::abs))?;
    Some(Token::Float(if neg { -x } else { x }))
}

/// Clinger's fast path: a decimal whose `digits` form an integer `m <= 2^53` and whose
/// power of ten `|e| <= 22` is `m * 10^e` or `m / 10^-e` rounded once, because both
/// operands are exact doubles and IEEE multiplication and division round correctly. That is
/// the value a correctly rounding parser (Rust's `parse`) returns. `None` outside that range.
fn exact_decimal(m: u64, digits: usize, e: i64) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if digits > 19 || m > 1 << 53 {
        return None;
    }
    let p = usize::try_from(e.unsigned_abs())
        .ok()
        .filter(|&p| p <= 22)?;
    let m = m as f64;
    Some(if e >= 0 { m * POW10[p] } else { m / POW10[p] })
}

/// [`classify_for`] for every shape: NA tokens, booleans, blanks around numbers, `+`, `inf`.
fn classify_general(s: &str) -> Token {
    if is_na(s) {
        return Token::Na;
    }
    match s {
        "True" | "TRUE" | "true" => return Token::Bool(true),
        "False" | "FALSE" | "false" => return Token::Bool(false),
        _ => {}
    }
    // pandas' number parsers skip surrounding blanks.
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    let Some(&first) = t.as_bytes().first() else {
        return Token::Str;
    };
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'I')) {
        return Token::Str;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Token::Int(i);
    }
    // Rust also accepts `nan` and `infinity` spellings; pandas reads `inf`/`Infinity` but
    // no NaN spelling outside the NA list.
    let body = t.trim_start_matches(['-', '+']);
    let alpha = body
        .bytes()
        .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E');
    if alpha && !(body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity")) {
        return Token::Str;
    }
    t.parse::<f64>().map_or(Token::Str, Token::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The exact decimal path gives Rust's correctly rounded value, bit for bit.
        #[test]
        fn exact_decimal_matches_parse(w in 0u64..100_000_000, f in 0u64..10_000_000, fd in 0usize..8, e in -30i32..30, exp: bool, neg: bool) {
            let frac = if fd == 0 { String::new() } else { format!(".{:0fd$}", f % 10u64.pow(fd as u32)) };
            let s = format!("{}{w}{frac}{}", if neg { "-" } else { "" }, if exp { format!("e{e}") } else { String::new() });
            let want: f64 = s.parse().unwrap();
            match number(&s, true) {
                Some(Token::Float(x)) => prop_assert_eq!(x.to_bits(), want.to_bits(), "{}", s),
                Some(Token::Int(i)) => prop_assert_eq!(i as f64, want, "{}", s),
                other => prop_assert!(false, "{} gave {:?}", s, other),
            }
        }

        /// The one-scan number path agrees with the general classifier wherever it answers.
        #[test]
        fn number_fast_path_agrees(s in "[-+]?[0-9]{0,20}(\\.[0-9]{0,4})?([eE][-+]?[0-9]{0,3})?|.{0,6}") {
            if let Some(t) = number(&s, true) {
                prop_assert_eq!(t, classify_general(&s), "{:?}", s);
            }
        }
    }

    #[test]
    fn number_fast_path_shapes() {
        for (s, want) in [
            ("0", Some(Token::Int(0))),
            ("-0", Some(Token::Int(0))),
            ("007", Some(Token::Int(7))),
            (
                "999999999999999999",
                Some(Token::Int(999_999_999_999_999_999)),
            ),
            ("9999999999999999999", None),
            ("1.5", Some(Token::Float(1.5))),
            ("-.5", Some(Token::Float(-0.5))),
            ("1.", Some(Token::Float(1.0))),
            ("1e3", Some(Token::Float(1000.0))),
            ("1E-2", Some(Token::Float(0.01))),
            (".", None),
            ("-", None),
            ("1e", None),
            ("+1", None),
            (" 1", None),
            ("1.#IND", None),
            ("", None),
        ] {
            assert_eq!(number(s, true), want, "{s:?}");
            if let Some(t) = want {
                assert_eq!(classify_general(s), t, "{s:?}");
            }
        }
    }
}
