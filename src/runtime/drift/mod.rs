//! Drift statistics: pure functions that give the verdicts of Evidently 0.7.23's default
//! `Report([DataDriftPreset()]).run(current, reference)` (`docs/data-checks.md`), with
//! scipy 1.17's numerics.
//!
//! # Contract
//!
//! - Input is already cleaned, as Evidently's `get_one_column_drift`
//!   (`evidently/legacy/calculations/data_drift.py`) cleans it: no NaN, no ±inf, at least
//!   one value per side.
//!   [`numeric_drift`] checks this and returns [`DriftError`] otherwise. Which columns are
//!   tested and as what kind (kinds come from the *current* frame) is the caller's job.
//! - Test selection ([`select()`]) uses `n_ref` = the cleaned reference count and
//!   `n_values` = distinct values over both sides:
//!   `n_ref <= 1000`: num → `n_values <= 5` ? (`> 2` ? chisquare : z) : ks; cat → `> 2` ?
//!   chisquare : z. `n_ref > 1000`: num → `n_values <= 5` ? jensenshannon : wasserstein;
//!   cat → jensenshannon.
//! - Verdicts ([`StatTest::detects`]): ks `p <= 0.05`; chisquare and z `p < 0.05`;
//!   wasserstein and jensenshannon `d >= 0.1`.
//! - Scores match scipy to ~1e-12 relative or better: the exact KS path, Z and
//!   Jensen-Shannon are bit-identical on the reference fixtures; the asymptotic KS path
//!   (~1e-13), Wasserstein (BLAS summation order, ~1e-16) and chi-square (statrs' `chdtrc`,
//!   ~1e-13) differ in the last bits. Category order in chi-square and Jensen-Shannon follows
//!   the caller, not Python's `set` order, which moves only the last ulp.
//! - Dataset rule ([`dataset_drift`]): drift iff `drifted / tested >= 0.5`.
//!
//! Cost: a numerical column is sorted once (as order-preserving `u64` keys, the two sides on
//! two threads when both are large) and merged once, O(n log n); a column with at most five
//! distinct values is counted in one pass without sorting, O(n).
//!
//! One file per test: [`ks`] (+ [`kstwo`] for its asymptotic path), [`chisquare`], [`z`],
//! [`wasserstein`], [`mod@jensenshannon`]; [`mod@select`] for selection, thresholds and verdicts;
//! [`dataset`] for the share rule.

pub mod chisquare;
pub mod dataset;
pub mod histogram;
pub mod jensenshannon;
pub mod ks;
pub mod kstwo;
mod numeric;
pub mod select;
pub mod wasserstein;
pub mod z;

use serde::Serialize;

pub use chisquare::chisquare_p;
pub use dataset::{DEFAULT_DRIFT_SHARE, DatasetDrift, dataset_drift};
pub use histogram::{BINS, Binned};
pub use jensenshannon::{jensenshannon, jensenshannon_counts};
pub use ks::{ks_2samp, ks_2samp_sorted};
pub use select::{DriftKind, SMALL_REFERENCE_MAX, StatTest, select};
pub use wasserstein::{wasserstein_distance, wasserstein_normed};
pub use z::z_test_p;

/// Which side of the comparison an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The reference data.
    Reference,
    /// The current data.
    Current,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Reference => "reference",
            Side::Current => "current",
        })
    }
}

/// Why a column could not be tested.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriftError {
    /// No value left after cleaning (Evidently: "An empty column ... was provided").
    #[error("an empty column was provided for drift calculation in the {0} data")]
    Empty(Side),
    /// A NaN or ±inf reached the tests; the caller must drop them first.
    #[error(
        "the {side} data holds a non-finite value ({value}) at index {index}; drop nulls and ±inf first"
    )]
    NonFinite {
        /// The side holding it.
        side: Side,
        /// Its position in the slice.
        index: usize,
        /// The value.
        value: f64,
    },
}

/// The drift verdict of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDrift {
    /// The test Evidently selects (serializes as its name, e.g. `"ks"`).
    pub stattest: StatTest,
    /// A p-value (ks, chisquare, z) or a distance (wasserstein, jensenshannon).
    pub score: f64,
    /// The test's default threshold.
    pub threshold: f64,
    /// The verdict, with the test's comparison direction.
    pub drift_detected: bool,
}

impl ColumnDrift {
    fn new(stattest: StatTest, score: f64) -> Self {
        Self {
            stattest,
            score,
            threshold: stattest.threshold(),
            drift_detected: stattest.detects(score),
        }
    }
}

fn check(values: &[f64], side: Side) -> Result<(), DriftError> {
    if values.is_empty() {
        return Err(DriftError::Empty(side));
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(DriftError::NonFinite { side, index, value });
    }
    Ok(())
}

/// Most distinct values a numerical column can have and still be tested on value counts.
const FEW_VALUES: usize = 5;

/// Distinct values and their counts on both sides, ascending, if there are at most
/// [`FEW_VALUES`] of them; `None` as soon as one more shows up. One pass, no sorting, and
/// branch-free matching against the keys seen so far (unused slots hold NaN, which equals
/// nothing).
fn few_values(reference: &[f64], current: &[f64]) -> Option<Vec<(f64, (u64, u64))>> {
    let mut keys = [f64::NAN; FEW_VALUES];
    let mut len = 0usize;
    let mut counts = [[0u64; FEW_VALUES]; 2];
    for (side, values) in [reference, current].into_iter().enumerate() {
        for &v in values {
            let mut mask = 0u32;
            for (t, &k) in keys.iter().enumerate() {
                mask |= u32::from(k == v) << t;
            }
            if mask == 0 {
                if len == FEW_VALUES {
                    return None;
                }
                keys[len] = v;
                counts[side][len] += 1;
                len += 1;
            } else {
                counts[side][mask.trailing_zeros() as usize] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&x, &y| keys[x].total_cmp(&keys[y]));
    Some(
        order
            .into_iter()
            .map(|t| (keys[t], (counts[0][t], counts[1][t])))
            .collect(),
    )
}

/// The drift verdict of a numerical column. Both slices must be cleaned (finite values, in
/// row order; the reference order only affects the last bits of its std). Columns with at
/// most 5 distinct values (over both sides) are tested on value counts: chi-square or Z when
/// `n_ref <= 1000`, Jensen-Shannon otherwise; the others with KS (`n_ref <= 1000`) or the
/// normed Wasserstein distance.
pub fn numeric_drift(reference: &[f64], current: &[f64]) -> Result<ColumnDrift, DriftError> {
    numeric_drift_binned(reference, current, None).map(|(d, _)| d)
}

/// [`numeric_drift`], and with `bins` the plot data of both sides from the same pass: the
/// value counts of a column with few values, or a histogram of the samples the test sorted.
pub fn numeric_drift_binned(
    reference: &[f64],
    current: &[f64],
    bins: Option<usize>,
) -> Result<(ColumnDrift, Option<Binned>), DriftError> {
    check(reference, Side::Reference)?;
    check(current, Side::Current)?;
    let n_ref = reference.len();
    if let Some(keyed) = few_values(reference, current) {
        let counts: Vec<(u64, u64)> = keyed.iter().map(|k| k.1).collect();
        let plot = bins.map(|_| Binned::Values {
            values: keyed.iter().map(|k| k.0).collect(),
            reference: counts.iter().map(|c| c.0).collect(),
            current: counts.iter().map(|c| c.1).collect(),
        });
        return Ok((
            counts_drift(select(DriftKind::Num, n_ref, counts.len()), &counts),
            plot,
        ));
    }
    // six or more distinct values
    let test = select(DriftKind::Num, n_ref, 6);
    // Wasserstein's norm is the reference std in row order, taken before sorting.
    let norm = (test == StatTest::Wasserstein)
        .then(|| numeric::population_std(reference).max(wasserstein::STD_FLOOR));
    let (r, c) = numeric::sorted_pair(reference, current);
    let score = match (test, norm) {
        (StatTest::Ks, _) => ks::ks_2samp_sorted(&r, &c),
        (StatTest::Wasserstein, Some(norm)) => {
            wasserstein::wasserstein_distance_sorted(&r, &c) / norm
        }
        _ => unreachable!("select gives ks or wasserstein for more than 5 values"),
    };
    let plot = bins.map(|b| histogram::histogram(&r, &c, b));
    Ok((ColumnDrift::new(test, score), plot))
}

/// The drift verdict of a categorical column from aligned `(reference, current)` counts per
/// distinct non-null key, keys in the caller's sort order (Z's key0 is index 0, Python's
/// `sorted(keys)[0]`). Keys with count 0 on both sides are ignored. `n_ref` is the sum of
/// the reference counts.
pub fn categorical_drift(counts: &[(u64, u64)]) -> Result<ColumnDrift, DriftError> {
    let kept: Vec<(u64, u64)> = counts.iter().copied().filter(|&(r, c)| r + c > 0).collect();
    let n_ref: u64 = kept.iter().map(|c| c.0).sum();
    let n_cur: u64 = kept.iter().map(|c| c.1).sum();
    if n_ref == 0 {
        return Err(DriftError::Empty(Side::Reference));
    }
    if n_cur == 0 {
        return Err(DriftError::Empty(Side::Current));
    }
    let n_ref = usize::try_from(n_ref).unwrap_or(usize::MAX);
    Ok(counts_drift(
        select(DriftKind::Cat, n_ref, kept.len()),
        &kept,
    ))
}

/// Runs a value-count test (no key with 0 on both sides).
fn counts_drift(test: StatTest, counts: &[(u64, u64)]) -> ColumnDrift {
    let score = match test {
        StatTest::Z => z_test_p(counts),
        StatTest::ChiSquare => {
            let r: Vec<f64> = counts.iter().map(|c| c.0 as f64).collect();
            let k: Vec<f64> = counts.iter().map(|c| c.1 as f64).collect();
            chisquare_p(&r, &k)
        }
        StatTest::JensenShannon => jensenshannon_counts(counts),
        StatTest::Ks | StatTest::Wasserstein => unreachable!("count tests only"),
    };
    ColumnDrift::new(test, score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors() {
        assert_eq!(
            numeric_drift(&[], &[1.0]),
            Err(DriftError::Empty(Side::Reference))
        );
        assert_eq!(
            numeric_drift(&[1.0], &[]),
            Err(DriftError::Empty(Side::Current))
        );
        assert!(matches!(
            numeric_drift(&[1.0, f64::NAN], &[1.0]),
            Err(DriftError::NonFinite {
                side: Side::Reference,
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            numeric_drift(&[1.0], &[f64::NEG_INFINITY]),
            Err(DriftError::NonFinite {
                side: Side::Current,
                index: 0,
                ..
            })
        ));
        assert_eq!(
            categorical_drift(&[(0, 3), (0, 0)]),
            Err(DriftError::Empty(Side::Reference))
        );
        assert_eq!(
            categorical_drift(&[(3, 0)]),
            Err(DriftError::Empty(Side::Current))
        );
        assert_eq!(
            categorical_drift(&[]),
            Err(DriftError::Empty(Side::Reference))
        );
        assert_eq!(
            DriftError::Empty(Side::Current).to_string(),
            "an empty column was provided for drift calculation in the current data"
        );
    }

    #[test]
    fn selection_through_the_entry_points() {
        let five: Vec<f64> = (0..1000).map(|i| f64::from(i % 5)).collect();
        let six: Vec<f64> = (0..1000).map(|i| f64::from(i % 6)).collect();
        assert_eq!(
            numeric_drift(&five, &five).unwrap().stattest,
            StatTest::ChiSquare
        );
        assert_eq!(numeric_drift(&six, &six).unwrap().stattest, StatTest::Ks);
        let mut five_1001 = five.clone();
        five_1001.push(0.0);
        let mut six_1001 = six.clone();
        six_1001.push(0.0);
        assert_eq!(
            numeric_drift(&five_1001, &five).unwrap().stattest,
            StatTest::JensenShannon
        );
        assert_eq!(
            numeric_drift(&six_1001, &six).unwrap().stattest,
            StatTest::Wasserstein
        );
        let two: Vec<f64> = (0..10).map(|i| f64::from(i % 2)).collect();
        assert_eq!(numeric_drift(&two, &two).unwrap().stattest, StatTest::Z);
        // a value only in the current side counts towards n_values
        assert_eq!(
            numeric_drift(&two, &[2.0]).unwrap().stattest,
            StatTest::ChiSquare
        );
        assert_eq!(
            categorical_drift(&[(500, 400), (501, 400)])
                .unwrap()
                .stattest,
            StatTest::JensenShannon
        );
        assert_eq!(
            categorical_drift(&[(500, 400), (500, 400)])
                .unwrap()
                .stattest,
            StatTest::Z
        );
        assert_eq!(
            categorical_drift(&[(1, 1), (1, 1), (1, 1)])
                .unwrap()
                .stattest,
            StatTest::ChiSquare
        );
    }

    #[test]
    fn unseen_category_and_single_value() {
        let c = categorical_drift(&[(10, 10), (20, 19), (0, 1)]).unwrap();
        assert_eq!(
            (c.stattest, c.score, c.drift_detected),
            (StatTest::ChiSquare, 0.0, true)
        );
        let c = categorical_drift(&[(0, 0), (7, 3)]).unwrap();
        assert_eq!(
            (c.stattest, c.score, c.drift_detected),
            (StatTest::Z, 1.0, false)
        );
        let c = numeric_drift(&[2.5; 300], &[2.5; 200]).unwrap();
        assert_eq!(
            (c.stattest, c.score, c.drift_detected),
            (StatTest::Z, 1.0, false)
        );
    }

    #[test]
    fn serializes_stattest_as_name() {
        let c = ColumnDrift::new(StatTest::Wasserstein, 0.25);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"stattest":"wasserstein","score":0.25,"threshold":0.1,"drift_detected":true}"#
        );
    }

    fn column() -> impl Strategy<Value = Vec<f64>> {
        prop_oneof![
            proptest::collection::vec((0i32..4).prop_map(f64::from), 1..1500),
            proptest::collection::vec((-100i32..100).prop_map(|x| f64::from(x) / 4.0), 1..1500),
            proptest::collection::vec(-1e6f64..1e6, 1..1500),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn identical_columns_never_drift(a in column()) {
            let c = numeric_drift(&a, &a).unwrap();
            prop_assert!(!c.drift_detected, "{:?}", c);
            if c.stattest.is_p_value() {
                prop_assert_eq!(c.score, 1.0);
            } else {
                prop_assert_eq!(c.score, 0.0);
            }
        }

        #[test]
        fn scores_are_bounded(a in column(), b in column()) {
            let c = numeric_drift(&a, &b).unwrap();
            match c.stattest {
                StatTest::Ks | StatTest::ChiSquare | StatTest::Z => prop_assert!((0.0..=1.0).contains(&c.score), "{:?}", c),
                StatTest::JensenShannon => prop_assert!((0.0..=jensenshannon::JS_MAX).contains(&c.score), "{:?}", c),
                StatTest::Wasserstein => prop_assert!(c.score >= 0.0, "{:?}", c),
            }
            prop_assert_eq!(c.drift_detected, c.stattest.detects(c.score));
        }

        #[test]
        fn categorical_identical_never_drifts(v in proptest::collection::vec(1u64..3000, 1..12)) {
            let counts: Vec<(u64, u64)> = v.iter().map(|&x| (x, x)).collect();
            let c = categorical_drift(&counts).unwrap();
            prop_assert!(!c.drift_detected, "{:?}", c);
        }
    }
}
