//! `stats.json`: the statistics and p-values of each test against scipy.

use mlops::runtime::drift::{
    self, jensenshannon,
    ks::{ks_2samp, ks_statistic_sorted},
    wasserstein::wasserstein_distance,
    wasserstein_normed, z_test_p,
};
use serde_json::Value;

use super::generator::gen_f64;
use super::{REL, Worst, fixture, num};

#[test]
fn ks_2samp_exact_and_asymptotic() {
    let fx = fixture("stats.json");
    let mut wp = Worst::new("ks_2samp p", REL);
    let mut wd = Worst::new("ks_2samp D", 1e-15);
    for case in fx["ks"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (gen_f64(&case["a"]), gen_f64(&case["b"]));
        wp.check(ks_2samp(&a, &b), num(&case["p"]), || name.to_string());
        // scipy reports h/lcm on the exact path and the raw float D on the asymptotic one.
        let mut sa = a.clone();
        let mut sb = b.clone();
        sa.sort_by(f64::total_cmp);
        sb.sort_by(f64::total_cmp);
        let d = ks_statistic_sorted(&sa, &sb);
        let (n1, n2) = (a.len(), b.len());
        let d = if n1.max(n2) <= 10_000 {
            let g = gcd(n1, n2);
            let lcm = (n1 / g * n2) as f64;
            (d * lcm).round_ties_even() / lcm
        } else {
            d
        };
        wd.check(d, num(&case["d"]), || name.to_string());
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[test]
fn chisquare_z_wasserstein_jensenshannon() {
    let fx = fixture("stats.json");
    let floats = |v: &Value| -> Vec<f64> { v.as_array().unwrap().iter().map(num).collect() };
    let mut w = Worst::new("chisquare p", REL);
    for case in fx["chisquare"].as_array().unwrap() {
        let p = drift::chisquare_p(&floats(&case["ref"]), &floats(&case["cur"]));
        w.check(p, num(&case["p"]), || {
            case["name"].as_str().unwrap().to_string()
        });
    }
    drop(w);
    let mut w = Worst::new("z p", REL);
    for case in fx["z"].as_array().unwrap() {
        let counts: Vec<(u64, u64)> = case["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_u64().unwrap(), c[1].as_u64().unwrap()))
            .collect();
        w.check(z_test_p(&counts), num(&case["p"]), || {
            case["name"].as_str().unwrap().to_string()
        });
    }
    drop(w);
    let mut raw = Worst::new("wasserstein_distance", 1e-12);
    let mut normed = Worst::new("wasserstein normed", 1e-12);
    for case in fx["wasserstein"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (gen_f64(&case["a"]), gen_f64(&case["b"]));
        raw.check(wasserstein_distance(&a, &b), num(&case["raw"]), || {
            name.to_string()
        });
        normed.check(wasserstein_normed(&a, &b), num(&case["d"]), || {
            name.to_string()
        });
    }
    drop((raw, normed));
    let mut w = Worst::new("jensenshannon", REL);
    for case in fx["jensenshannon"].as_array().unwrap() {
        let d = jensenshannon(&floats(&case["p"]), &floats(&case["q"]));
        w.check(d, num(&case["d"]), || {
            case["name"].as_str().unwrap().to_string()
        });
    }
}
