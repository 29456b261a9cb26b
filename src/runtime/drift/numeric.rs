//! Float plumbing shared by the tests: numpy's pairwise summation (so sums round exactly as
//! `np.sum` does), pandas' two-pass population standard deviation, and the sort of the
//! numerical samples.

#![allow(clippy::many_single_char_names)] // numpy's names

/// `np.sum` of a contiguous float64 array, bit for bit: the identity `0.0` plus numpy's
/// pairwise sum (blocks of 128, eight accumulators, recursive halving at multiples of 8).
pub(crate) fn np_sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a, &|x| x)
}

/// `np.sum(f(a))` without materialising `f(a)`: the same pairwise tree, `f` applied at the
/// leaves.
pub(crate) fn np_sum_map(a: &[f64], f: &impl Fn(f64) -> f64) -> f64 {
    0.0 + pairwise(a, f)
}

fn pairwise(a: &[f64], f: &impl Fn(f64) -> f64) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = -0.0;
        for &x in a {
            res += f(x);
        }
        res
    } else if n <= 128 {
        let mut r = [
            f(a[0]),
            f(a[1]),
            f(a[2]),
            f(a[3]),
            f(a[4]),
            f(a[5]),
            f(a[6]),
            f(a[7]),
        ];
        let mut i = 8;
        let end = n - n % 8;
        while i < end {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += f(a[i + j]);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res += f(x);
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2], f) + pairwise(&a[n2..], f)
    }
}

/// `float(np.std(series))` for a pandas Series (pandas `nanstd`, ddof = 0, no bottleneck):
/// `avg = np.sum(x) / n`, `var = np.sum((avg - x)**2) / n`, `sqrt(var)`. `values` in row order.
pub(crate) fn population_std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let avg = np_sum(values) / n;
    let sq = np_sum_map(values, &|x| {
        let d = avg - x;
        d * d
    });
    (sq / n).sqrt()
}

/// A sorted copy (ascending, `-0.0` before `0.0`; callers pass no NaN). The values are
/// mapped to `u64` keys with the order of `f64::total_cmp` and sorted as integers, which is
/// faster than comparing floats (and, measured on 1M normals, than an LSD radix sort).
pub(crate) fn sorted(values: &[f64]) -> Vec<f64> {
    let mut keys: Vec<u64> = values.iter().map(|&x| key(x)).collect();
    keys.sort_unstable();
    keys.into_iter().map(unkey).collect()
}

/// Both samples sorted; on two threads when both are large.
pub(crate) fn sorted_pair(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    const PARALLEL_MIN: usize = 100_000;
    if a.len().min(b.len()) < PARALLEL_MIN {
        return (sorted(a), sorted(b));
    }
    std::thread::scope(
        |s| match std::thread::Builder::new().spawn_scoped(s, || sorted(b)) {
            Ok(handle) => {
                let sa = sorted(a);
                let sb = handle.join().unwrap_or_else(|_| sorted(b));
                (sa, sb)
            }
            Err(_) => (sorted(a), sorted(b)),
        },
    )
}

/// Maps an `f64` to a `u64` with the same order as `f64::total_cmp`.
fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

fn unkey(k: u64) -> f64 {
    let b = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(b)
}

/// `x * 2^e` without intermediate overflow or underflow for exponents far outside the
/// double range (numpy's `np.ldexp`).
pub(crate) fn ldexp(mut x: f64, mut e: i64) -> f64 {
    let big = f64::from_bits(((1023 + 1000) as u64) << 52); // 2^1000
    let small = f64::from_bits(((1023 - 1000) as u64) << 52); // 2^-1000
    while e > 1000 {
        x *= big;
        e -= 1000;
        if x.is_infinite() || x == 0.0 {
            return x;
        }
    }
    while e < -1000 {
        x *= small;
        e += 1000;
        if x == 0.0 || x.is_infinite() {
            return x;
        }
    }
    // Split so that each factor is a normal power of two.
    let half = e / 2;
    x * pow2(half) * pow2(e - half)
}

fn pow2(e: i64) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((1023 + e) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pairwise_matches_known_numpy_sums() {
        // np.sum(1.0 / np.arange(1, 1001)) == 7.485470860550345; a left-to-right sum gives ...343.
        let v: Vec<f64> = (1..=1000).map(|i| 1.0 / f64::from(i)).collect();
        assert_eq!(np_sum(&v), 7.485_470_860_550_345);
        assert_ne!(v.iter().sum::<f64>(), 7.485_470_860_550_345);
        assert_eq!(np_sum(&[]), 0.0);
        assert_eq!(np_sum(&[-0.0]), 0.0);
    }

    #[test]
    fn std_of_constant_is_zero_and_matches_pandas() {
        assert_eq!(population_std(&[3.0; 2000]), 0.0);
        // pd.Series([1.0, 2.0, 4.0, 8.0]).std(ddof=0) == 2.680951323690902
        assert_eq!(population_std(&[1.0, 2.0, 4.0, 8.0]), 2.680_951_323_690_902);
    }

    #[test]
    fn ldexp_handles_far_exponents() {
        assert_eq!(ldexp(1.5, 3), 12.0);
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert_eq!(ldexp(2f64.powi(600), -1500), 2f64.powi(-900));
        assert_eq!(ldexp(2f64.powi(-600), 1500), 2f64.powi(900));
    }

    proptest! {
        #[test]
        fn key_sort_agrees_with_total_cmp(mut v in proptest::collection::vec(
            prop_oneof![any::<f64>(), Just(0.0), Just(-0.0), Just(1.0), Just(f64::NEG_INFINITY)],
            0..600,
        )) {
            let got = sorted(&v);
            let (pa, pb) = sorted_pair(&v, &v);
            v.sort_unstable_by(f64::total_cmp);
            let bits = |x: &Vec<f64>| x.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got), bits(&v));
            prop_assert_eq!(bits(&pa), bits(&v));
            prop_assert_eq!(bits(&pb), bits(&v));
        }
    }

    #[test]
    fn sorted_pair_on_two_threads() {
        let a: Vec<f64> = (0..150_000)
            .map(|i| f64::from((i * 7919) % 150_001))
            .collect();
        let b: Vec<f64> = a.iter().map(|x| -x).collect();
        let (sa, sb) = sorted_pair(&a, &b);
        assert!(sa.windows(2).all(|w| w[0] <= w[1]) && sb.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!((sa[0], sb[0]), (0.0, -150_000.0));
    }
}
