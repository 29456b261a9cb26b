//! Two-sample Kolmogorov-Smirnov, as `scipy.stats.ks_2samp(r, k)` with the defaults
//! (`alternative='two-sided'`, `method='auto'`) in scipy 1.17 (`scipy/stats/_stats_py.py`).
//!
//! - D = max |`ECDF_a` − `ECDF_b`| over the pooled values (`searchsorted(side='right')`), with
//!   scipy's float arithmetic: `count_a / n1 − count_b / n2`.
//! - `max(n1, n2) <= 10000`: exact. `h = round(D · lcm(n1, n2))` (half to even); `h == 0` → 1.
//!   Equal sizes: `_compute_prob_outside_square(n, h)`; otherwise the pythran
//!   `_compute_outer_prob_inside_method(n1, n2, g, h)` (Hodges' inside method with
//!   Viehmann's recursion for 1 − p). A result outside [0, 1] falls back to asymptotic.
//! - Otherwise asymptotic: `kstwo.sf(D, round(n1·n2/(n1+n2)))` ([`super::kstwo`]).
//! - p is clipped to [0, 1].

// Names follow scipy's source (m, n, g, h, ...); sizes are far below i64::MAX.
#![allow(clippy::many_single_char_names, clippy::cast_possible_wrap)]

use super::kstwo::kstwo_sf;
use super::numeric::sorted;

/// scipy's `MAX_AUTO_N`: above this size on either side, `auto` is asymptotic.
pub const MAX_EXACT_N: usize = 10_000;

/// The KS p-value of two samples (any order, finite values), as `ks_2samp(a, b).pvalue`.
/// NaN when a side is empty or holds a NaN (scipy raises, or propagates the NaN).
pub fn ks_2samp(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|x| x.is_nan()) {
        return f64::NAN;
    }
    ks_2samp_sorted(&sorted(a), &sorted(b))
}

/// [`ks_2samp`] on samples already sorted ascending.
pub fn ks_2samp_sorted(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    ks_pvalue(a.len(), b.len(), ks_statistic_sorted(a, b))
}

/// The two-sided statistic D of two sorted samples, computed as scipy does.
pub fn ks_statistic_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    let (fn1, fn2) = (n1 as f64, n2 as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut max_diff = f64::NEG_INFINITY;
    let mut min_diff = f64::INFINITY;
    while i < n1 || j < n2 {
        let v = if j == n2 || (i < n1 && a[i] <= b[j]) {
            a[i]
        } else {
            b[j]
        };
        while i < n1 && a[i] <= v {
            i += 1;
        }
        while j < n2 && b[j] <= v {
            j += 1;
        }
        let diff = i as f64 / fn1 - j as f64 / fn2;
        max_diff = max_diff.max(diff);
        min_diff = min_diff.min(diff);
    }
    let min_s = (-min_diff).clamp(0.0, 1.0);
    if min_s > max_diff { min_s } else { max_diff }
}

/// The p-value for statistic `d` with sample sizes `n1`, `n2` (`method='auto'`).
pub fn ks_pvalue(n1: usize, n2: usize, d: f64) -> f64 {
    let mut d = d;
    if n1.max(n2) <= MAX_EXACT_N {
        let g = gcd(n1, n2);
        let lcm = (n1 / g) * n2;
        let h = (d * lcm as f64).round_ties_even() as usize;
        d = h as f64 / lcm as f64;
        if h == 0 {
            return 1.0;
        }
        let prob = if n1 == n2 {
            prob_outside_square(n1, h)
        } else {
            outer_prob_inside(n1, n2, g, h)
        };
        if (0.0..=1.0).contains(&prob) {
            return prob;
        }
        // scipy: "Exact calculation unsuccessful. Switching to method=asymp."
    }
    let (m, n) = if n1 >= n2 {
        (n1 as f64, n2 as f64)
    } else {
        (n2 as f64, n1 as f64)
    };
    let en = m * n / (m + n);
    let prob = kstwo_sf(d, en.round_ties_even());
    if prob.is_nan() {
        prob
    } else {
        prob.clamp(0.0, 1.0)
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy's `_compute_prob_outside_square(n, h)`: Pr(D_{n,n} >= h/n), with the same
/// Horner-like evaluation and the same order of float operations.
pub fn prob_outside_square(n: usize, h: usize) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0;
    let mut k = n / h;
    while k >= 0 {
        let mut p1 = 1.0;
        for j in 0..h {
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// scipy's pythran `_compute_outer_prob_inside_method(m, n, g, h)`: the proportion of lattice
/// paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm(m, n).
pub fn outer_prob_inside(m: usize, n: usize, g: usize, h: usize) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let mg = m / g;
    let ng = n / g;
    // ceil/floor of exact integer quotients (scipy uses float division, which cannot round
    // across an integer at these sizes).
    let ceil_div = |a: i64, b: i64| a.div_euclid(b) + i64::from(a.rem_euclid(b) != 0);
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for v in &mut a[minj as usize..maxj as usize] {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng * i - h).div_euclid(mg) + 1).max(0);
        minj = minj.min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            val = (a[(jj + minj - lastminj) as usize] * fi + val * j as f64) / (i + j) as f64;
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            for v in &mut a[(maxj - minj) as usize..(maxj - minj + (lastlen - curlen)) as usize] {
                *v = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scipy_docstring_examples() {
        // scipy.stats.ks_2samp([1,2,3], [4,5,6]).pvalue == 0.09999999999999999 (exact, equal sizes)
        assert_eq!(
            ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]),
            0.099_999_999_999_999_99
        );
        // ks_2samp([1, 2], [3, 4, 5]).pvalue == 0.2 (exact, unequal sizes)
        assert_eq!(ks_2samp(&[1.0, 2.0], &[3.0, 4.0, 5.0]), 0.2);
        assert_eq!(ks_statistic_sorted(&[1.0, 2.0], &[3.0, 4.0, 5.0]), 1.0);
        assert!(ks_2samp(&[], &[1.0]).is_nan());
    }

    #[test]
    fn ties_and_identical() {
        let a = [1.0, 1.0, 2.0, 2.0, 3.0];
        assert_eq!(ks_2samp(&a, &a), 1.0);
        // The raw float statistic (scipy reports h/lcm = 2/15 after the exact path).
        assert_eq!(ks_statistic_sorted(&a, &[1.0, 2.0, 3.0]), 0.8 - 2.0 / 3.0);
    }

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(
            prop_oneof![(-50i32..50).prop_map(f64::from), -1e3f64..1e3],
            1..120,
        )
    }

    proptest! {
        #[test]
        fn identical_samples_p_is_one(a in sample()) {
            prop_assert_eq!(ks_2samp(&a, &a), 1.0);
        }

        #[test]
        fn symmetric_and_bounded(a in sample(), b in sample()) {
            let p = ks_2samp(&a, &b);
            let q = ks_2samp(&b, &a);
            prop_assert!((0.0..=1.0).contains(&p), "p = {}", p);
            prop_assert!((p - q).abs() <= 1e-12 * p.max(1e-300), "{} vs {}", p, q);
            let (sa, sb) = (sorted(&a), sorted(&b));
            prop_assert_eq!(ks_statistic_sorted(&sa, &sb), ks_statistic_sorted(&sb, &sa));
        }

        #[test]
        fn asymptotic_path_is_bounded(d in 0.0f64..=1.0, n1 in 1usize..2000, n2 in 10_001usize..40_000) {
            let p = ks_pvalue(n1, n2, d);
            prop_assert!((0.0..=1.0).contains(&p), "p = {} for d = {}", p, d);
        }
    }
}
