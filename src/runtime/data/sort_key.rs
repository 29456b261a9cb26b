//! Category keys for the chi-square, Z and Jensen–Shannon tests: value counts of both sides,
//! aligned on the union of keys and sorted as Python's `sorted()` sorts them (numbers
//! numerically, strings by code point, `False < True` as 0 < 1).
//!
//! Keys follow Python equality, because Evidently builds them with a Python `set`: `1`,
//! `1.0` and `True` are one key. A mix of numbers and strings cannot be sorted in Python;
//! here numbers come first.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::column::{Column, FxMap, NULL_CODE, Values};

/// One category.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    /// A number or a boolean (as 0/1).
    Num(f64),
    /// A string.
    Str(String),
}

impl Eq for Key {}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.total_cmp(b),
            (Key::Num(_), Key::Str(_)) => Ordering::Less,
            (Key::Str(_), Key::Num(_)) => Ordering::Greater,
            // UTF-8 byte order is code point order.
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Counts of the non-null, finite values of a column. `None` for a column with values this
/// tool cannot key (timestamps, uninterpreted Parquet types).
pub fn counts(col: &Column) -> Option<BTreeMap<Key, u64>> {
    let mut out = BTreeMap::new();
    match &col.values {
        Values::Int(v) => {
            let mut m: FxMap<i64, u64> = FxMap::default();
            for &x in v {
                *m.entry(x).or_default() += 1;
            }
            for (x, n) in m {
                *out.entry(Key::Num(x as f64)).or_default() += n;
            }
        }
        Values::Float(v) => {
            let mut m: FxMap<u64, u64> = FxMap::default();
            for &x in v.iter().filter(|x| x.is_finite()) {
                // -0.0 == 0.0 in Python.
                let x = if x == 0.0 { 0.0f64 } else { x };
                *m.entry(x.to_bits()).or_default() += 1;
            }
            for (b, n) in m {
                *out.entry(Key::Num(f64::from_bits(b))).or_default() += n;
            }
        }
        Values::Bool(v) => {
            let mut c = [0u64; 2];
            for &b in v.iter().filter(|&&b| b < 2) {
                c[b as usize] += 1;
            }
            for (k, n) in c.iter().enumerate().filter(|(_, n)| **n > 0) {
                out.insert(Key::Num(k as f64), *n);
            }
        }
        Values::Str(s) => {
            let mut c = vec![0u64; s.dict.len()];
            for &code in s.codes.iter().filter(|&&c| c != NULL_CODE) {
                c[code as usize] += 1;
            }
            for (v, n) in s.dict.iter().zip(c) {
                out.insert(Key::Str(v.clone()), n);
            }
        }
        Values::Datetime(_) | Values::Other(_) | Values::Dropped(_) => return None,
    }
    Some(out)
}

/// `(reference_count, current_count)` per key of the union, in sorted key order.
pub fn aligned(reference: &BTreeMap<Key, u64>, current: &BTreeMap<Key, u64>) -> Vec<(u64, u64)> {
    let mut all: BTreeMap<&Key, (u64, u64)> = BTreeMap::new();
    for (k, &n) in reference {
        all.entry(k).or_default().0 += n;
    }
    for (k, &n) in current {
        all.entry(k).or_default().1 += n;
    }
    all.into_values().collect()
}
