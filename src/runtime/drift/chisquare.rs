//! Evidently's chi-square test (`chisquare_stattest.py`) on aligned value counts:
//! `f_exp = ref_count · (n_cur / n_ref)`, `f_obs = cur_count`, then
//! `scipy.stats.chisquare(f_obs, f_exp)`: stat = Σ (o − e)² / e (numpy's pairwise sum),
//! p = `chdtrc(K − 1, stat)`. A key with a current count but no reference count has e = 0,
//! so stat = ∞ and p = 0 (drift).
//!
//! `chdtrc` is statrs' regularized upper incomplete gamma, Q(df/2, x/2); against scipy's
//! cephes `igamc` it agrees to ~1e-12 relative for df up to 5000 and p down to 1e-300
//! (`tests/fixtures/drift/special.json`), so statrs is used as is, with scipy's edge values
//! for x = 0, x = ∞ and df = 0.

use statrs::function::gamma::gamma_ur;

use super::numeric::np_sum;

/// The chi-square p-value of current counts against reference counts (same key order).
/// NaN when the lengths differ, when there are no keys, or when a key has count 0 on both
/// sides (0/0, as scipy).
pub fn chisquare_p(ref_counts: &[f64], cur_counts: &[f64]) -> f64 {
    if ref_counts.len() != cur_counts.len() || ref_counts.is_empty() {
        return f64::NAN;
    }
    let n_ref: f64 = ref_counts.iter().sum();
    let n_cur: f64 = cur_counts.iter().sum();
    let k_norm = n_cur / n_ref;
    let terms: Vec<f64> = ref_counts
        .iter()
        .zip(cur_counts)
        .map(|(&r, &o)| {
            let e = r * k_norm;
            let d = o - e;
            d * d / e
        })
        .collect();
    let stat = np_sum(&terms);
    chdtrc((ref_counts.len() - 1) as f64, stat)
}

/// `scipy.special.chdtrc(df, x)`: the chi-square survival function.
pub fn chdtrc(df: f64, x: f64) -> f64 {
    if df.is_nan() || x.is_nan() || x < 0.0 || df < 0.0 {
        return f64::NAN;
    }
    if df == 0.0 {
        return if x > 0.0 { 0.0 } else { f64::NAN };
    }
    if x == 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unseen_key_gives_zero() {
        assert_eq!(chisquare_p(&[10.0, 20.0, 0.0], &[10.0, 19.0, 1.0]), 0.0);
    }

    #[test]
    fn proportional_counts_give_one() {
        assert_eq!(
            chisquare_p(&[100.0, 200.0, 300.0], &[50.0, 100.0, 150.0]),
            1.0
        );
    }

    proptest! {
        #[test]
        fn bounded(pairs in proptest::collection::vec((1u32..500, 0u32..500), 2..12)) {
            let r: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
            let c: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
            prop_assume!(c.iter().sum::<f64>() > 0.0);
            let p = chisquare_p(&r, &c);
            prop_assert!((0.0..=1.0).contains(&p), "p = {}", p);
        }

        #[test]
        fn identical_counts_no_drift(counts in proptest::collection::vec(1u32..10_000, 3..20)) {
            let r: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
            prop_assert_eq!(chisquare_p(&r, &r), 1.0);
        }
    }
}
