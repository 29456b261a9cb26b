//! Evidently's Jensen-Shannon test (`jensenshannon.py`). In the default preset it always
//! compares value frequencies (`get_binned_data` bins only numerical columns with more than
//! 20 distinct reference values, which the default selection never sends here):
//! `p[key] = ref_count/n_ref`, `q[key] = cur_count/n_cur`, then
//! `scipy.spatial.distance.jensenshannon(p, q)`: both renormalised to sum 1,
//! `m = (p + q)/2`, `js = Σ rel_entr(p, m) + Σ rel_entr(q, m)`, result `sqrt(js/2)`
//! (natural log; at most sqrt(ln 2) ≈ 0.8326).

use super::numeric::np_sum;

/// `sqrt(ln 2)`, the largest Jensen-Shannon distance (disjoint supports).
pub const JS_MAX: f64 = 0.832_554_611_157_697_7;

/// `scipy.special.rel_entr(x, y)` as scipy 1.17 computes it (xsf `convex_analysis.h`):
/// `x·log1p((x − y)/y)` when `x/y` is in (0.5, 2), else `x·ln(x/y)` (or `x·(ln x − ln y)`
/// when the ratio is subnormal or infinite).
fn rel_entr(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 || y <= 0.0 {
        return if x == 0.0 && y >= 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let ratio = x / y;
    if 0.5 < ratio && ratio < 2.0 {
        x * ((x - y) / y).ln_1p()
    } else if f64::MIN_POSITIVE < ratio && ratio < f64::INFINITY {
        x * ratio.ln()
    } else {
        x * (x.ln() - y.ln())
    }
}

/// `scipy.spatial.distance.jensenshannon(p, q)` (base e). `p` and `q` need not sum to 1.
/// NaN for mismatched lengths or empty input.
pub fn jensenshannon(p: &[f64], q: &[f64]) -> f64 {
    if p.len() != q.len() || p.is_empty() {
        return f64::NAN;
    }
    let sp = np_sum(p);
    let sq = np_sum(q);
    let p: Vec<f64> = p.iter().map(|x| x / sp).collect();
    let q: Vec<f64> = q.iter().map(|x| x / sq).collect();
    let m: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a + b) / 2.0).collect();
    let left: Vec<f64> = p.iter().zip(&m).map(|(&a, &b)| rel_entr(a, b)).collect();
    let right: Vec<f64> = q.iter().zip(&m).map(|(&a, &b)| rel_entr(a, b)).collect();
    let js = np_sum(&left) + np_sum(&right);
    (js / 2.0).sqrt()
}

/// Evidently's Jensen-Shannon distance on aligned `(reference, current)` value counts.
pub fn jensenshannon_counts(counts: &[(u64, u64)]) -> f64 {
    let n_ref: u64 = counts.iter().map(|c| c.0).sum();
    let n_cur: u64 = counts.iter().map(|c| c.1).sum();
    let p: Vec<f64> = counts.iter().map(|c| c.0 as f64 / n_ref as f64).collect();
    let q: Vec<f64> = counts.iter().map(|c| c.1 as f64 / n_cur as f64).collect();
    jensenshannon(&p, &q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scipy_docstring_examples() {
        // distance.jensenshannon([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 2.0) == 1.0 (base 2), so
        // base e gives sqrt(ln 2)
        assert_eq!(jensenshannon(&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]), JS_MAX);
        // scipy 1.17.1: distance.jensenshannon([1.0, 0.0], [0.5, 0.5]) == 0.464501404022459 (its
        // docstring's ...45893 predates the log1p form of rel_entr)
        assert_eq!(
            jensenshannon(&[1.0, 0.0], &[0.5, 0.5]),
            0.464_501_404_022_459
        );
        assert_eq!(jensenshannon(&[1.0, 0.0, 0.0], &[1.0, 0.0, 0.0]), 0.0);
        assert_eq!(JS_MAX, std::f64::consts::LN_2.sqrt());
    }

    fn counts() -> impl Strategy<Value = Vec<(u64, u64)>> {
        proptest::collection::vec((0u64..400, 0u64..400), 1..15)
            .prop_filter("both sides non-empty", |c| {
                c.iter().any(|x| x.0 > 0) && c.iter().any(|x| x.1 > 0)
            })
    }

    proptest! {
        #[test]
        fn bounded_and_symmetric(c in counts()) {
            let d = jensenshannon_counts(&c);
            prop_assert!((0.0..=JS_MAX * (1.0 + 1e-15)).contains(&d), "d = {}", d);
            let swapped: Vec<(u64, u64)> = c.iter().map(|&(a, b)| (b, a)).collect();
            let e = jensenshannon_counts(&swapped);
            prop_assert!((d - e).abs() <= 1e-15, "{} vs {}", d, e);
        }

        #[test]
        fn identical_is_zero(v in proptest::collection::vec(0u64..1000, 1..15)) {
            prop_assume!(v.iter().any(|&x| x > 0));
            let c: Vec<(u64, u64)> = v.iter().map(|&x| (x, x)).collect();
            prop_assert_eq!(jensenshannon_counts(&c), 0.0);
        }
    }
}
