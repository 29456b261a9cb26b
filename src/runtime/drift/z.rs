//! Evidently's two-proportion Z-test (`z_stattest.py`) on aligned counts.
//!
//! - Both sides a single, identical value: p = 1.
//! - Otherwise `key0` is the first key (the caller sorts keys as Python's `sorted` would);
//!   values map to 0 for key0 and 1 otherwise; p1, p2 are the means of those 0/1 values,
//!   `P = (p1·n1 + p2·n2)/(n1 + n2)`, `z = (p1 − p2)/sqrt(P(1 − P)(1/n1 + 1/n2))`,
//!   `p = 2·(1 − ndtr(|z|))`.
//!
//! `ndtr` is ported from cephes (`xsf/cephes/ndtr.h`) rather than taken from statrs:
//! `2·(1 − ndtr(|z|))` cancels, so a one-ulp difference in `ndtr` near 1 is a large relative
//! difference in a small p-value; with the same polynomial and the same operations, the
//! p-values are bit-identical to scipy's.

// cephes' constants keep their published digits; names follow cephes.
#![allow(clippy::excessive_precision, clippy::many_single_char_names)]

/// The Z-test p-value of aligned `(reference, current)` counts; index 0 is key0. Keys with
/// count 0 on both sides are ignored. NaN when a side has no values.
pub fn z_test_p(counts: &[(u64, u64)]) -> f64 {
    let kept: Vec<(u64, u64)> = counts.iter().copied().filter(|&(r, c)| r + c > 0).collect();
    let n1: u64 = kept.iter().map(|c| c.0).sum();
    let n2: u64 = kept.iter().map(|c| c.1).sum();
    if n1 == 0 || n2 == 0 {
        return f64::NAN;
    }
    let ref_single = kept.iter().filter(|c| c.0 > 0).count() == 1;
    let cur_single = kept.iter().filter(|c| c.1 > 0).count() == 1;
    if ref_single && cur_single && kept.iter().any(|&(r, c)| r > 0 && c > 0) {
        return 1.0;
    }
    let (r0, c0) = kept[0];
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let p1 = (n1 - r0) as f64 / n1f;
    let p2 = (n2 - c0) as f64 / n2f;
    let pp = (p1 * n1f + p2 * n2f) / (n1 + n2) as f64;
    let z = (p1 - p2) / (pp * (1.0 - pp) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    2.0 * (1.0 - ndtr(z.abs()))
}

const NDTR_P: [f64; 9] = [
    2.461_969_814_735_305_125_24E-10,
    5.641_895_648_310_688_219_77E-1,
    7.463_210_564_422_699_126_87E0,
    4.863_719_709_856_813_666_14E1,
    1.965_208_329_560_770_982_42E2,
    5.264_451_949_954_773_586_31E2,
    9.345_285_271_719_576_075_40E2,
    1.027_551_886_895_157_102_72E3,
    5.575_353_353_693_993_275_26E2,
];
const NDTR_Q: [f64; 8] = [
    1.322_819_511_547_449_925_08E1,
    8.670_721_408_859_897_423_29E1,
    3.549_377_788_878_198_910_62E2,
    9.757_085_017_432_054_897_53E2,
    1.823_909_166_879_097_362_89E3,
    2.246_337_608_187_109_817_92E3,
    1.656_663_091_941_613_501_82E3,
    5.575_353_408_177_276_755_46E2,
];
const NDTR_R: [f64; 6] = [
    5.641_895_835_477_550_739_84E-1,
    1.275_366_707_599_781_044_16E0,
    5.019_050_422_511_804_774_14E0,
    6.160_210_979_930_535_851_95E0,
    7.409_742_699_504_489_391_60E0,
    2.978_866_653_721_002_406_70E0,
];
const NDTR_S: [f64; 6] = [
    2.260_528_632_201_172_765_90E0,
    9.396_035_249_380_014_346_73E0,
    1.204_895_398_080_966_566_05E1,
    1.708_144_507_475_658_972_22E1,
    9.608_968_090_632_858_781_98E0,
    3.369_076_451_000_815_160_50E0,
];
const NDTR_T: [f64; 5] = [
    9.604_973_739_870_516_387_49E0,
    9.002_601_972_038_426_892_17E1,
    2.232_005_345_946_843_192_26E3,
    7.003_325_141_128_050_754_73E3,
    5.559_230_130_103_949_627_68E4,
];
const NDTR_U: [f64; 5] = [
    3.356_171_416_475_030_996_47E1,
    5.213_579_497_801_526_797_95E2,
    4.594_323_829_709_801_279_87E3,
    2.262_900_006_138_909_342_46E4,
    4.926_739_426_086_359_210_86E4,
];
/// cephes `MAXLOG`.
const MAXLOG: f64 = 7.097_827_128_933_839_967_32E2;

fn polevl(x: f64, coef: &[f64]) -> f64 {
    let mut ans = coef[0];
    for &c in &coef[1..] {
        ans = ans * x + c;
    }
    ans
}

/// Like `polevl` with an implicit leading coefficient 1.
fn p1evl(x: f64, coef: &[f64]) -> f64 {
    let mut ans = x + coef[0];
    for &c in &coef[1..] {
        ans = ans * x + c;
    }
    ans
}

/// cephes `erfc`.
fn erfc(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a.abs();
    if x < 1.0 {
        return 1.0 - erf(a);
    }
    let z = -a * a;
    if z < -MAXLOG {
        return if a < 0.0 { 2.0 } else { 0.0 };
    }
    let z = z.exp();
    let (p, q) = if x < 8.0 {
        (polevl(x, &NDTR_P), p1evl(x, &NDTR_Q))
    } else {
        (polevl(x, &NDTR_R), p1evl(x, &NDTR_S))
    };
    let mut y = (z * p) / q;
    if a < 0.0 {
        y = 2.0 - y;
    }
    if y != 0.0 {
        return y;
    }
    if a < 0.0 { 2.0 } else { 0.0 }
}

/// cephes `erf`.
fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return -erf(-x);
    }
    if x.abs() > 1.0 {
        return 1.0 - erfc(x);
    }
    let z = x * x;
    x * polevl(z, &NDTR_T) / p1evl(z, &NDTR_U)
}

/// `scipy.special.ndtr(a)`: the standard normal CDF (cephes).
pub fn ndtr(a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    let x = a * std::f64::consts::FRAC_1_SQRT_2;
    let z = x.abs();
    if z < 1.0 {
        0.5 + 0.5 * erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 { 1.0 - y } else { y }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_identical_value_is_one() {
        assert_eq!(z_test_p(&[(100, 80)]), 1.0);
        assert_eq!(z_test_p(&[(0, 0), (100, 80)]), 1.0);
    }

    #[test]
    fn known_values() {
        // scipy: 2*(1 - norm.cdf(0)) == 1.0 for equal proportions
        assert_eq!(z_test_p(&[(50, 25), (50, 25)]), 1.0);
        assert_eq!(ndtr(0.0), 0.5);
        assert!(z_test_p(&[(1, 0)]).is_nan());
    }

    proptest! {
        #[test]
        fn symmetric_in_key0_and_sides(a in 0u64..2000, b in 0u64..2000, c in 0u64..2000, d in 0u64..2000) {
            prop_assume!(a + b > 0 && c + d > 0);
            let p = z_test_p(&[(a, c), (b, d)]);
            prop_assert!((0.0..=1.0).contains(&p), "p = {}", p);
            let swapped_keys = z_test_p(&[(b, d), (a, c)]);
            let swapped_sides = z_test_p(&[(c, a), (d, b)]);
            prop_assert!((p - swapped_keys).abs() <= 1e-12, "{} vs {}", p, swapped_keys);
            prop_assert!((p - swapped_sides).abs() <= 1e-12, "{} vs {}", p, swapped_sides);
        }

        #[test]
        fn identical_counts_no_drift(a in 1u64..5000, b in 1u64..5000) {
            prop_assert_eq!(z_test_p(&[(a, a), (b, b)]), 1.0);
        }
    }
}
