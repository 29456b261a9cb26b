//! Evidently's default test selection (`_get_default_stattest` in
//! `evidently/legacy/calculations/stattests/registry.py`; `docs/data-checks.md`), the default
//! thresholds, and the direction of each comparison.

use serde::{Serialize, Serializer};

/// One of the five default drift tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatTest {
    /// Two-sample Kolmogorov-Smirnov p-value (`ks`).
    Ks,
    /// Pearson chi-square p-value on value counts (`chisquare`).
    ChiSquare,
    /// Two-proportion Z-test p-value (`z`).
    Z,
    /// Wasserstein distance normed by the reference std (`wasserstein`).
    Wasserstein,
    /// Jensen-Shannon distance on value frequencies (`jensenshannon`).
    JensenShannon,
}

impl StatTest {
    /// Evidently's test name.
    pub fn name(self) -> &'static str {
        match self {
            StatTest::Ks => "ks",
            StatTest::ChiSquare => "chisquare",
            StatTest::Z => "z",
            StatTest::Wasserstein => "wasserstein",
            StatTest::JensenShannon => "jensenshannon",
        }
    }

    /// The default threshold: 0.05 for the p-values, 0.1 for the distances.
    pub fn threshold(self) -> f64 {
        match self {
            StatTest::Ks | StatTest::ChiSquare | StatTest::Z => 0.05,
            StatTest::Wasserstein | StatTest::JensenShannon => 0.1,
        }
    }

    /// Whether `score` means drift at the default threshold: KS `p <= 0.05`, chi-square and
    /// Z `p < 0.05` (strict), the distances `d >= 0.1`. A NaN score never detects drift.
    pub fn detects(self, score: f64) -> bool {
        self.detects_at(score, self.threshold())
    }

    /// [`StatTest::detects`] against another threshold, with the same direction.
    pub fn detects_at(self, score: f64, threshold: f64) -> bool {
        match self {
            StatTest::Ks => score <= threshold,
            StatTest::ChiSquare | StatTest::Z => score < threshold,
            StatTest::Wasserstein | StatTest::JensenShannon => score >= threshold,
        }
    }

    /// Whether the score is a p-value (small means drift) rather than a distance.
    pub fn is_p_value(self) -> bool {
        matches!(self, StatTest::Ks | StatTest::ChiSquare | StatTest::Z)
    }
}

impl std::fmt::Display for StatTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for StatTest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The type a column is tested as (Evidently's `ColumnType`; `docs/data-checks.md`). Text
/// columns are out of scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriftKind {
    /// Numerical.
    Num,
    /// Categorical.
    Cat,
}

/// Largest cleaned reference size that still gets the small-data tests (inclusive).
pub const SMALL_REFERENCE_MAX: usize = 1000;

/// The test Evidently picks. `n_ref` counts the cleaned (non-null, finite) reference values;
/// `n_values` the distinct non-null values over both sides.
///
/// ```text
/// n_ref <= 1000:  num: n_values <= 5 ? (n_values > 2 ? chisquare : z) : ks
///                 cat: n_values > 2 ? chisquare : z
/// n_ref >  1000:  num: n_values <= 5 ? jensenshannon : wasserstein
///                 cat: jensenshannon
/// ```
pub fn select(kind: DriftKind, n_ref: usize, n_values: usize) -> StatTest {
    let small_or_z = if n_values > 2 {
        StatTest::ChiSquare
    } else {
        StatTest::Z
    };
    match (kind, n_ref <= SMALL_REFERENCE_MAX) {
        (DriftKind::Num, true) if n_values <= 5 => small_or_z,
        (DriftKind::Num, true) => StatTest::Ks,
        (DriftKind::Cat, true) => small_or_z,
        (DriftKind::Num, false) if n_values <= 5 => StatTest::JensenShannon,
        (DriftKind::Num, false) => StatTest::Wasserstein,
        (DriftKind::Cat, false) => StatTest::JensenShannon,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_boundary() {
        use DriftKind::{Cat, Num};
        use StatTest::*;
        let cases = [
            (Num, 1000, 6, Ks),
            (Num, 1001, 6, Wasserstein),
            (Num, 1000, 5, ChiSquare),
            (Num, 1001, 5, JensenShannon),
            (Num, 1000, 3, ChiSquare),
            (Num, 1000, 2, Z),
            (Num, 1000, 1, Z),
            (Num, 1001, 2, JensenShannon),
            (Num, 1001, 1, JensenShannon),
            (Cat, 1000, 3, ChiSquare),
            (Cat, 1000, 2, Z),
            (Cat, 1000, 1, Z),
            (Cat, 1000, 50, ChiSquare),
            (Cat, 1001, 1, JensenShannon),
            (Cat, 1001, 2, JensenShannon),
            (Num, 1, 7, Ks),
        ];
        for (kind, n_ref, n_values, want) in cases {
            assert_eq!(
                select(kind, n_ref, n_values),
                want,
                "{kind:?} n_ref={n_ref} n_values={n_values}"
            );
        }
    }

    #[test]
    fn thresholds_and_asymmetry() {
        assert_eq!(StatTest::Ks.threshold(), 0.05);
        assert_eq!(StatTest::JensenShannon.threshold(), 0.1);
        // KS is inclusive, chi-square and Z are strict, distances inclusive.
        assert!(StatTest::Ks.detects(0.05));
        assert!(!StatTest::ChiSquare.detects(0.05));
        assert!(!StatTest::Z.detects(0.05));
        assert!(StatTest::Z.detects(0.049_999_999));
        assert!(StatTest::Wasserstein.detects(0.1));
        assert!(StatTest::JensenShannon.detects(0.1));
        assert!(!StatTest::Wasserstein.detects(0.099_999_999));
        for t in [
            StatTest::Ks,
            StatTest::ChiSquare,
            StatTest::Z,
            StatTest::Wasserstein,
            StatTest::JensenShannon,
        ] {
            assert!(!t.detects(f64::NAN), "{t}");
        }
    }

    #[test]
    fn serializes_as_name() {
        assert_eq!(
            serde_json::to_string(&StatTest::ChiSquare).unwrap(),
            "\"chisquare\""
        );
        assert_eq!(StatTest::JensenShannon.to_string(), "jensenshannon");
    }
}
