//! `special.json`: scipy's special functions the tests rest on.

use mlops::runtime::drift::{
    chisquare::chdtrc,
    ks::{outer_prob_inside, prob_outside_square},
    kstwo::kstwo_sf,
    z::ndtr,
};

use super::{REL, Worst, fixture, num};

#[test]
fn kstwo_sf_every_branch() {
    let fx = fixture("special.json");
    let mut w = Worst::new("kstwo.sf", REL);
    for row in fx["kstwo_sf"].as_array().unwrap() {
        let (n, d, want) = (row[0].as_f64().unwrap(), num(&row[1]), num(&row[2]));
        // Probabilities below 1e-300 are compared in absolute terms.
        let got = kstwo_sf(d, n);
        if want < 1e-300 {
            assert!(got < 1e-290, "kstwo.sf({d}, {n}) = {got:e}, scipy {want:e}");
            continue;
        }
        w.check(got, want, || format!("n={n} d={d}"));
    }
}

#[test]
fn exact_ks_counters_are_bit_identical() {
    let fx = fixture("special.json");
    let mut w = Worst::new("_compute_prob_outside_square", 0.0);
    for row in fx["prob_outside_square"].as_array().unwrap() {
        let (n, h) = (
            row[0].as_u64().unwrap() as usize,
            row[1].as_u64().unwrap() as usize,
        );
        w.check(prob_outside_square(n, h), num(&row[2]), || {
            format!("n={n} h={h}")
        });
    }
    let mut w = Worst::new("_compute_outer_prob_inside_method", 0.0);
    for row in fx["outer_prob_inside"].as_array().unwrap() {
        let v: Vec<usize> = row.as_array().unwrap()[..4]
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        w.check(
            outer_prob_inside(v[0], v[1], v[2], v[3]),
            num(&row[4]),
            || format!("{v:?}"),
        );
    }
}

#[test]
fn chdtrc_statrs_is_close_enough() {
    let fx = fixture("special.json");
    let mut w = Worst::new("chdtrc (statrs)", 1e-11);
    for row in fx["chdtrc"].as_array().unwrap() {
        let (df, x, want) = (row[0].as_f64().unwrap(), num(&row[1]), num(&row[2]));
        w.check(chdtrc(df, x), want, || format!("df={df} x={x}"));
    }
}

#[test]
fn ndtr_is_bit_identical() {
    let fx = fixture("special.json");
    let mut w = Worst::new("ndtr", 0.0);
    for row in fx["ndtr"].as_array().unwrap() {
        let (x, want) = (num(&row[0]), num(&row[1]));
        w.check(ndtr(x), want, || format!("x={x}"));
    }
}
