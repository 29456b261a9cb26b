//! Evidently's normed Wasserstein distance (`wasserstein_distance_norm.py`):
//! `scipy.stats.wasserstein_distance(r, k) / max(np.std(r), 0.001)`.
//!
//! - The norm is the population std (ddof = 0) of the reference, computed as pandas does it
//!   (two-pass, numpy pairwise sums, in row order), floored at 0.001.
//! - The distance is ∫|`F_r` − `F_k`| dx between the empirical CDFs: over the pooled sorted values,
//!   Σ |i/n1 − j/n2| · (`x_{t+1}` − `x_t`). scipy takes that dot product with BLAS; here it is a
//!   Kahan sum of the same terms, so the two agree to ~1e-15 relative, not always bit for bit.

#![allow(clippy::many_single_char_names)] // a, b, i, j, x, y, v as in scipy

use super::numeric::{np_sum, population_std, sorted, sorted_pair};

/// Floor of the reference std in the norm.
pub const STD_FLOOR: f64 = 0.001;

/// The normed distance of reference `r` and current `k` (finite values, any order; the
/// reference's order only matters for the last bits of its std). NaN when a side is empty.
pub fn wasserstein_normed(r: &[f64], k: &[f64]) -> f64 {
    if r.is_empty() || k.is_empty() {
        return f64::NAN;
    }
    let norm = population_std(r).max(STD_FLOOR);
    let (sr, sk) = sorted_pair(r, k);
    wasserstein_distance_sorted(&sr, &sk) / norm
}

/// `scipy.stats.wasserstein_distance(a, b)` of two samples sorted ascending.
///
/// Walks the merged order one element at a time (branch-free): after each element the
/// term is `|i/n1 − j/n2| · (next − this)`. Inside a run of ties the gap is 0, so only the
/// counts after a whole run matter, exactly as with scipy's `searchsorted(side='right')`.
/// The terms are those of scipy bit for bit; they are summed pairwise (numpy's tree) in
/// chunks of 1024, and the chunk sums with Kahan compensation.
pub fn wasserstein_distance_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return f64::NAN;
    }
    let (fn1, fn2) = (n1 as f64, n2 as f64);
    let mut acc = ChunkSum::default();
    // the first element of the merged order
    let (mut i, mut j) = if a[0] <= b[0] {
        (1usize, 0usize)
    } else {
        (0, 1)
    };
    let mut prev = if i == 1 { a[0] } else { b[0] };
    let mut diff = (i as f64 / fn1 - j as f64 / fn2).abs();
    while i < n1 && j < n2 {
        let (x, y) = (a[i], b[j]);
        let take_a = x <= y;
        let v = if take_a { x } else { y };
        i += usize::from(take_a);
        j += usize::from(!take_a);
        acc.add(diff * (v - prev));
        prev = v;
        diff = (i as f64 / fn1 - j as f64 / fn2).abs();
    }
    for &v in &a[i..] {
        i += 1;
        acc.add(diff * (v - prev));
        prev = v;
        diff = (i as f64 / fn1 - j as f64 / fn2).abs();
    }
    for &v in &b[j..] {
        j += 1;
        acc.add(diff * (v - prev));
        prev = v;
        diff = (i as f64 / fn1 - j as f64 / fn2).abs();
    }
    acc.total()
}

const CHUNK: usize = 1024;

/// Terms buffered in chunks, each summed pairwise, the chunk sums Kahan-compensated.
struct ChunkSum {
    buf: [f64; CHUNK],
    len: usize,
    sum: f64,
    c: f64,
}

impl Default for ChunkSum {
    fn default() -> Self {
        Self {
            buf: [0.0; CHUNK],
            len: 0,
            sum: 0.0,
            c: 0.0,
        }
    }
}

impl ChunkSum {
    #[inline]
    fn add(&mut self, x: f64) {
        self.buf[self.len] = x;
        self.len += 1;
        if self.len == CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let x = np_sum(&self.buf[..self.len]);
        self.len = 0;
        let y = x - self.c;
        let t = self.sum + y;
        self.c = (t - self.sum) - y;
        self.sum = t;
    }

    fn total(mut self) -> f64 {
        self.flush();
        self.sum
    }
}

/// `scipy.stats.wasserstein_distance` of two unsorted samples.
pub fn wasserstein_distance(a: &[f64], b: &[f64]) -> f64 {
    wasserstein_distance_sorted(&sorted(a), &sorted(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scipy_docstring_examples() {
        // scipy: wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert_eq!(
            wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]),
            5.0
        );
        // wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4]) == 2.7 (to the last bits)
        assert!((wasserstein_distance(&[3.4, 3.9, 7.5, 7.8], &[4.5, 1.4]) - 2.7).abs() < 1e-15);
    }

    #[test]
    fn floor_applies_to_a_constant_reference() {
        // std 0 -> norm 0.001: distance 0.5 becomes 500
        let d = wasserstein_normed(&[1.0; 10], &[1.5; 10]);
        assert!((d - 500.0).abs() < 1e-9, "{d}");
    }

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(
            prop_oneof![(-20i32..20).prop_map(f64::from), -1e3f64..1e3],
            1..200,
        )
    }

    proptest! {
        #[test]
        fn identical_is_zero(a in sample()) {
            prop_assert_eq!(wasserstein_normed(&a, &a), 0.0);
        }

        #[test]
        fn nonnegative_and_raw_distance_symmetric(a in sample(), b in sample()) {
            let d = wasserstein_normed(&a, &b);
            prop_assert!(d >= 0.0, "d = {}", d);
            let (x, y) = (wasserstein_distance(&a, &b), wasserstein_distance(&b, &a));
            prop_assert!((x - y).abs() <= 1e-12 * x.max(1e-300), "{} vs {}", x, y);
        }

        #[test]
        fn shift_moves_by_the_shift(a in sample(), s in 0.5f64..50.0) {
            let b: Vec<f64> = a.iter().map(|x| x + s).collect();
            let d = wasserstein_distance(&a, &b);
            prop_assert!((d - s).abs() <= 1e-9 * s.max(1.0) * 1e3, "{} vs {}", d, s);
        }
    }
}
