//! `scipy.stats.kstwo.sf(d, n)`: the survival function of the two-sided one-sample KS
//! statistic `D_n`, which `ks_2samp` uses on its asymptotic path (one side > 10,000 values).
//!
//! Faithful port of `scipy/stats/_ksstats.py` (scipy v1.17.1, the version the fixtures in
//! `tests/fixtures/drift/special.json` come from), kept whole on purpose: it reads side by
//! side with the upstream file. `_kolmogn(n, x, cdf=False)` is Simard & L'Ecuyer's selection
//! among Ruben-Gambino, Durbin/Marsaglia-Tsang-Wang (`_kolmogn_DMTW`), Pomeranz
//! (`_kolmogn_Pomeranz`), Pelz-Good (`_kolmogn_PelzGood`) and 2·smirnov, with the same branch
//! thresholds and the same order of float operations. The one-sided `scipy.special.smirnov`
//! it calls is not a port: see [`smirnov_sf`].

// Names follow scipy's source; constants keep scipy's digits; sizes are far below i64::MAX.
#![allow(
    clippy::many_single_char_names,
    clippy::excessive_precision,
    clippy::cast_possible_wrap
)]

mod smirnov;

use std::f64::consts::PI;

use super::numeric::{ldexp, np_sum};

pub use smirnov::smirnov_sf;

const E128: i64 = 128;

fn ep128() -> f64 {
    ldexp(1.0, E128)
}

fn em128() -> f64 {
    ldexp(1.0, -E128)
}

fn clip(p: f64) -> f64 {
    if p.is_nan() { p } else { p.clamp(0.0, 1.0) }
}

/// `scipy.stats.kstwo.sf(d, n)` for an integral `n >= 1`: `rv_continuous.sf` maps
/// `d <= 0.5/n` to 1 and `d >= 1` to 0, then `kolmogn(n, d, cdf=False)`.
pub fn kstwo_sf(d: f64, n: f64) -> f64 {
    if d.is_nan() || n.is_nan() || n < 1.0 || n.fract() != 0.0 {
        return f64::NAN;
    }
    if d <= 0.5 / n {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    kolmogn_sf(n as i64, d)
}

/// `_kolmogn(n, x, cdf=False)`.
fn kolmogn_sf(n: i64, x: f64) -> f64 {
    let nf = n as f64;
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let t = nf * x;
    if t <= 1.0 {
        // Ruben-Gambino: 1/2n <= x <= 1/n
        if t <= 0.5 {
            return 1.0;
        }
        let prob = if n <= 140 {
            let mut p = 1.0;
            for i in 1..=n {
                p *= i as f64 * (1.0 / nf) * (2.0 * t - 1.0);
            }
            p
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return clip(1.0 - prob);
    }
    if t >= nf - 1.0 {
        // Ruben-Gambino
        return clip(2.0 * (1.0 - x).powf(nf));
    }
    if x >= 0.5 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754_693 {
            return clip(1.0 - dmtw_cdf(n, x));
        }
        if nxsquared <= 4.0 {
            return clip(1.0 - pomeranz_cdf(n, x));
        }
        return clip(2.0 * smirnov_sf(n, x));
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        return clip(2.0 * smirnov_sf(n, x));
    }
    let cdf = if nxsquared >= 18.0 {
        1.0
    } else if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        dmtw_cdf(n, x)
    } else {
        pelz_good_cdf(n, x)
    };
    clip(1.0 - cdf)
}

const STIRLING_COEFFS: [f64; 8] = [
    -2.955_065_359_477_124_183e-2,
    6.410_256_410_256_410_256_4e-3,
    -1.917_526_917_526_917_526_9e-3,
    8.417_508_417_508_417_508_4e-4,
    -5.952_380_952_380_952_381e-4,
    7.936_507_936_507_936_507_9e-4,
    -2.777_777_777_777_777_777_8e-3,
    8.333_333_333_333_333_333_3e-2,
];

/// log(n! / n^n) by Stirling, with n·log(n) removed up front.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    let rn = 1.0 / n;
    let x = rn / n;
    let mut poly = 0.0;
    for c in STIRLING_COEFFS {
        poly = poly * x + c;
    }
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + rn * poly
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                c[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    c
}

/// `_kolmogn_DMTW(n, d, cdf=True)`: Durbin's matrix algorithm as Marsaglia, Tsang and Wang
/// evaluate it, with the same power-of-two rescaling.
fn dmtw_cdf(n: i64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nd = n as f64 * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powf(j as f64)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powf(m as f64) - 2.0 * h.powf(m as f64);
    v[m - 1] = (1.0 + tt) * fac;

    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }

    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let (ep, em) = (ep128(), em128());
    let mut nn = n;
    let mut expnt: i64 = 0;
    let mut hexpnt: i64 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            hpwr = matmul(&hpwr, &hm, m);
            expnt += hexpnt;
        }
        hm = matmul(&hm, &hm, m);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > ep {
            for x in &mut hm {
                *x /= ep;
            }
            hexpnt += E128;
        }
        nn /= 2;
    }
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    let nf = n as f64;
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < em {
            p *= ep;
            expnt -= E128;
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    clip(p)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (ip1div2, ip1mod2) = ((i + 1) / 2, (i + 1) % 2);
        if ip1mod2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `np.convolve(a, v)` (mode 'full').
fn convolve(a: &[f64], v: &[f64]) -> Vec<f64> {
    if a.is_empty() || v.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0.0; a.len() + v.len() - 1];
    for (k, o) in out.iter_mut().enumerate() {
        let lo = k.saturating_sub(v.len() - 1);
        let hi = k.min(a.len() - 1);
        let mut s = 0.0;
        for i in lo..=hi {
            s += a[i] * v[k - i];
        }
        *o = s;
    }
    out
}

/// Python slice `xs[start:stop]` with non-negative bounds clamped to the length.
fn py_slice(xs: &[f64], start: i64, stop: i64) -> &[f64] {
    let len = xs.len() as i64;
    let s = start.clamp(0, len) as usize;
    let e = stop.clamp(0, len) as usize;
    if s >= e { &[] } else { &xs[s..e] }
}

/// `_kolmogn_Pomeranz(n, x, cdf=True)`: Pomeranz's recursion.
fn pomeranz_cdf(n: i64, x: f64) -> f64 {
    let nf = n as f64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = (2 * (ll + 1)) as usize;
    let mut gpower = vec![0.0; npwrs];
    let mut twogpower = vec![0.0; npwrs];
    let mut onem2gpower = vec![0.0; npwrs];
    gpower[0] = 1.0;
    twogpower[0] = 1.0;
    onem2gpower[0] = 1.0;
    let (g_over_n, two_g_over_n, one_minus_two_g_over_n) =
        (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        let mf = m as f64;
        gpower[m] = gpower[m - 1] * g_over_n / mf;
        twogpower[m] = twogpower[m - 1] * two_g_over_n / mf;
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / mf;
    }
    let (ep, em) = (ep128(), em128());
    let mut expnt: i64 = 0;
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut j1 = pomeranz_j1j2(0, n, ll, ceilf, roundf).0;
    for i in 1..(2 * n + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.fill(0.0);
        let j2;
        (j1, j2) = pomeranz_j1j2(i, n, ll, ceilf, roundf);
        let pwrs = if i == 1 || i == 2 * n + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let conv = convolve(
                py_slice(&v0, k1 - v0s, k1 - v0s + ln2),
                py_slice(pwrs, 0, ln2),
            );
            let conv_start = j1 - k1;
            let conv_len = j2 - j1 + 1;
            let src = py_slice(&conv, conv_start, conv_start + conv_len);
            v1[..src.len()].copy_from_slice(src);
            let mx = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if 0.0 < mx && mx < em {
                for x in &mut v1 {
                    *x *= ep;
                }
                expnt -= E128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1[(n - v1s) as usize];
    for m in 1..=n {
        if ans.abs() > ep {
            ans *= em;
            expnt += E128;
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    clip(ans)
}

/// `_kolmogn_PelzGood(n, x, cdf=True)`: the Pelz-Good approximation.
fn pelz_good_cdf(n: i64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let pi_squared = PI.powf(2.0);
    let pi_four = PI.powf(4.0);
    let pi_six = PI.powf(6.0);
    let sqrt2pi = (2.0 * PI).sqrt();
    let sqrt3 = 3f64.sqrt();

    let z = nf.sqrt() * x;
    let (zsquared, zthree, zfour, zsix) = (z.powf(2.0), z.powf(3.0), z.powf(4.0), z.powf(6.0));
    let qlog = -pi_squared / 8.0 / zsquared;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();

    let k1a = -zsquared;
    let k1b = pi_squared / 4.0;
    let k2a = 6.0 * zsix + 2.0 * zfour;
    let k2b = (2.0 * zfour - 5.0 * zsquared) * pi_squared / 4.0;
    let k2c = pi_four * (1.0 - 2.0 * zsquared) / 16.0;
    let k3d = pi_six * (5.0 - 30.0 * zsquared) / 64.0;
    let k3c = pi_four * (-60.0 * zsquared + 212.0 * zfour) / 16.0;
    let k3b = pi_squared * (135.0 * zfour - 96.0 * zsix) / 4.0;
    let k3a = -30.0 * zsix - 90.0 * z.powf(8.0);

    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (msquared, mfour, msix) = (m.powf(2.0), m.powf(4.0), m.powf(6.0));
        let qpower = q.powf((8 * k) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * msquared,
            k2a + k2b * msquared + k2c * mfour,
            k3a + k3b * msquared + k3c * mfour + k3d * msix,
        ];
        for (acc, c) in kk.iter_mut().zip(coeffs) {
            *acc *= qpower;
            *acc += c;
        }
    }
    let div = [z, 6.0 * zfour, 72.0 * z.powf(7.0), 6480.0 * z.powf(10.0)];
    for (acc, dv) in kk.iter_mut().zip(div) {
        *acc *= q;
        *acc *= sqrt2pi;
        *acc /= dv;
    }

    let q = (-pi_squared / 2.0 / zsquared).exp();
    let ks: Vec<f64> = (1..=maxk).rev().map(|k| k as f64).collect();
    let ksquared: Vec<f64> = ks.iter().map(|k| k * k).collect();
    let sqrt3z = sqrt3 * z;
    let qpwers: Vec<f64> = ksquared.iter().map(|&k2| q.powf(k2)).collect();
    let t2: Vec<f64> = ksquared.iter().zip(&qpwers).map(|(a, b)| a * b).collect();
    let mut k2extra = np_sum(&t2);
    k2extra *= pi_squared * sqrt2pi / (-36.0 * zthree);
    kk[2] += k2extra;
    let t3: Vec<f64> = ks
        .iter()
        .zip(&ksquared)
        .zip(&qpwers)
        .map(|((k, k2), qp)| {
            let kspi = PI * k;
            (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp
        })
        .collect();
    let mut k3extra = np_sum(&t3);
    k3extra *= pi_squared * sqrt2pi / (216.0 * zsix);
    kk[3] += k3extra;
    for (i, acc) in kk.iter_mut().enumerate() {
        *acc /= nf.powf(i as f64 / 2.0);
    }
    0.0 + kk[0] + kk[1] + kk[2] + kk[3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_edges() {
        assert_eq!(kstwo_sf(0.5 / 100.0, 100.0), 1.0);
        assert_eq!(kstwo_sf(1.0, 100.0), 0.0);
        assert!(kstwo_sf(0.5, 0.0).is_nan());
        // scipy.stats.kstwo.sf(0.5, 1) == 1.0 (x <= 0.5/n); kstwo.sf(0.75, 1) == 0.5
        assert_eq!(kstwo_sf(0.5, 1.0), 1.0);
        assert_eq!(kstwo_sf(0.75, 1.0), 0.5);
    }
}
