//! `mlops::runtime::drift` against scipy 1.17 / Evidently 0.7.23 reference values committed in
//! `tests/fixtures/drift/` by `scripts/reference/drift_reference.py` (see its docstring to
//! regenerate). No Python runs here.
//!
//! Scores must agree to a relative 1e-9 (most agree to the last bit), verdicts exactly.
//! Random inputs are regenerated from their spec with the twin of the script's generator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mlops::runtime::drift::{
    self, ColumnDrift, StatTest, categorical_drift,
    chisquare::chdtrc,
    dataset_drift, jensenshannon,
    ks::{ks_2samp, ks_statistic_sorted, outer_prob_inside, prob_outside_square},
    kstwo::kstwo_sf,
    numeric_drift,
    wasserstein::wasserstein_distance,
    wasserstein_normed,
    z::ndtr,
    z_test_p,
};
use serde_json::Value;

const REL: f64 = 1e-9;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/drift")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A float the script wrote as `repr(float)`: parsed exactly.
fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not a float: {s}")),
        Value::Number(n) => n.as_f64().unwrap(),
        other => panic!("not a float: {other}"),
    }
}

fn rel_err(got: f64, want: f64) -> f64 {
    if got == want || (got.is_nan() && want.is_nan()) {
        0.0
    } else if want == 0.0 || want.is_infinite() || got.is_nan() || want.is_nan() {
        f64::INFINITY
    } else {
        ((got - want) / want).abs()
    }
}

/// Tracks the worst relative error of a family of checks and fails above `tol`; on drop,
/// prints how many checks were bit-identical and which were not (`--nocapture`).
struct Worst {
    what: &'static str,
    tol: f64,
    max_err: f64,
    at: String,
    count: usize,
    exact: usize,
    inexact: Vec<String>,
}

impl Worst {
    fn new(what: &'static str, tol: f64) -> Self {
        Self {
            what,
            tol,
            max_err: 0.0,
            at: String::new(),
            count: 0,
            exact: 0,
            inexact: Vec::new(),
        }
    }

    fn check(&mut self, got: f64, want: f64, at: impl Fn() -> String) {
        let e = rel_err(got, want);
        self.count += 1;
        if got.to_bits() == want.to_bits() {
            self.exact += 1;
        } else {
            self.inexact.push(at());
        }
        if e > self.max_err {
            self.max_err = e;
            self.at = format!("{} (got {got:e}, want {want:e})", at());
        }
        assert!(
            e <= self.tol,
            "{}: {} got {got:e}, scipy {want:e}, rel err {e:e}",
            self.what,
            self.at
        );
    }
}

impl Drop for Worst {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let mut inexact = self
                .inexact
                .iter()
                .take(12)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if self.inexact.len() > 12 {
                inexact.push_str(", ...");
            }
            eprintln!(
                "{}: {} checks, {} bit-identical, worst rel err {:e} {}; not bit-identical: [{inexact}]",
                self.what, self.count, self.exact, self.max_err, self.at
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The twin of the script's generator

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * 2f64.powi(-53)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Num(f64),
    Str(String),
}

fn cell(v: &Value) -> Cell {
    match v {
        Value::String(s) => Cell::Str(s.clone()),
        other => Cell::Num(num(other)),
    }
}

fn generate(spec: &Value) -> Vec<Cell> {
    let n = spec.get("n").and_then(Value::as_u64).unwrap_or(0) as usize;
    let seed = spec.get("seed").and_then(Value::as_u64).unwrap_or(0);
    let mut rng = SplitMix64(seed);
    match spec["gen"].as_str().unwrap() {
        "normal" => (0..n)
            .map(|_| {
                let mut s = 0.0;
                for _ in 0..12 {
                    s += rng.uniform();
                }
                let mut v = num(&spec["loc"]) + num(&spec["scale"]) * (s - 6.0);
                if let Some(g) = spec.get("grid") {
                    let g = num(g);
                    v = (v * g).floor() / g;
                }
                Cell::Num(v)
            })
            .collect(),
        "int" => {
            let (low, high) = (
                spec["low"].as_i64().unwrap(),
                spec["high"].as_i64().unwrap(),
            );
            let width = (high - low + 1) as f64;
            (0..n)
                .map(|_| Cell::Num((low + (rng.uniform() * width).floor() as i64) as f64))
                .collect()
        }
        "choice" => {
            let values: Vec<Cell> = spec["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(cell)
                .collect();
            let weights: Vec<u64> = spec.get("weights").map_or_else(
                || vec![1; values.len()],
                |w| {
                    w.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_u64().unwrap())
                        .collect()
                },
            );
            let total: u64 = weights.iter().sum();
            let cum: Vec<u64> = weights
                .iter()
                .scan(0, |s, w| {
                    *s += w;
                    Some(*s)
                })
                .collect();
            (0..n)
                .map(|_| {
                    let r = (rng.uniform() * total as f64).floor() as u64;
                    values[cum.iter().position(|&c| r < c).unwrap()].clone()
                })
                .collect()
        }
        "const" => vec![cell(&spec["value"]); n],
        "concat" => spec["parts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(generate)
            .collect(),
        kind @ ("nan_every" | "inf_every") => {
            let k = spec["every"].as_u64().unwrap() as usize;
            generate(&spec["base"])
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    if i % k != k - 1 {
                        c
                    } else if kind == "nan_every" {
                        Cell::Num(f64::NAN)
                    } else if (i / k) % 2 == 0 {
                        Cell::Num(f64::INFINITY)
                    } else {
                        Cell::Num(f64::NEG_INFINITY)
                    }
                })
                .collect()
        }
        other => panic!("unknown generator {other}"),
    }
}

fn gen_f64(spec: &Value) -> Vec<f64> {
    generate(spec)
        .into_iter()
        .map(|c| match c {
            Cell::Num(x) => x,
            Cell::Str(s) => panic!("string {s} in a numeric sample"),
        })
        .collect()
}

#[test]
fn generator_twin_is_splitmix64() {
    // splitmix64 with seed 0: first output 0xE220A8397B1DCDAF (the reference sequence).
    assert_eq!(SplitMix64(0).next(), 0xE220_A839_7B1D_CDAF);
}

// ---------------------------------------------------------------------------------------------
// special.json

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

// ---------------------------------------------------------------------------------------------
// stats.json

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

// ---------------------------------------------------------------------------------------------
// Evidently verdicts

/// A cleaned categorical key: a number (int columns) or a string, sorted as Python sorts them.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Str(String),
}

/// Aligned counts per distinct key, keys sorted.
fn cat_counts(reference: &[Cell], current: &[Cell]) -> Vec<(u64, u64)> {
    let mut keys: Vec<(Key, u64, u64)> = Vec::new();
    for (side, cells) in [(0, reference), (1, current)] {
        for c in cells {
            let key = match c {
                Cell::Num(x) if !x.is_finite() => continue,
                Cell::Num(x) => Key::Num(*x),
                Cell::Str(s) => Key::Str(s.clone()),
            };
            let i = keys.iter().position(|k| k.0 == key).unwrap_or_else(|| {
                keys.push((key, 0, 0));
                keys.len() - 1
            });
            if side == 0 {
                keys[i].1 += 1;
            } else {
                keys[i].2 += 1;
            }
        }
    }
    keys.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    keys.into_iter().map(|k| (k.1, k.2)).collect()
}

fn cleaned(cells: &[Cell]) -> Vec<f64> {
    cells
        .iter()
        .filter_map(|c| match c {
            Cell::Num(x) if x.is_finite() => Some(*x),
            Cell::Num(_) => None,
            Cell::Str(s) => panic!("string {s} in a numerical column"),
        })
        .collect()
}

fn stattest(name: &str) -> StatTest {
    match name {
        "ks" => StatTest::Ks,
        "chisquare" => StatTest::ChiSquare,
        "z" => StatTest::Z,
        "wasserstein" => StatTest::Wasserstein,
        "jensenshannon" => StatTest::JensenShannon,
        other => panic!("unexpected test {other}"),
    }
}

fn check_column(w: &mut Worst, at: &str, got: &ColumnDrift, want: &Value) {
    assert_eq!(
        got.stattest,
        stattest(want["stattest"].as_str().unwrap()),
        "{at}: test"
    );
    assert_eq!(
        got.threshold,
        want["threshold"].as_f64().unwrap(),
        "{at}: threshold"
    );
    w.check(got.score, num(&want["score"]), || at.to_string());
    assert_eq!(
        got.drift_detected,
        want["drift_detected"].as_bool().unwrap(),
        "{at}: verdict (score {})",
        got.score
    );
}

#[test]
fn one_column_reports_at_every_boundary() {
    let fx = fixture("columns.json");
    let mut w = Worst::new("Evidently one-column scores", REL);
    let mut seen = BTreeMap::new();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (r, c) = (generate(&case["ref"]), generate(&case["cur"]));
        let got = match case["kind"].as_str().unwrap() {
            "num" => numeric_drift(&cleaned(&r), &cleaned(&c)).unwrap(),
            "cat" => categorical_drift(&cat_counts(&r, &c)).unwrap(),
            other => panic!("{other}"),
        };
        check_column(&mut w, name, &got, case);
        *seen.entry(got.stattest.name()).or_insert(0) += 1;
    }
    // every test is exercised
    assert_eq!(seen.len(), 5, "{seen:?}");
}

/// A CSV column as `pd.read_csv` types it: int64 (all cells integers, none empty), float64
/// (numbers, `inf` and empty cells), or object (strings, empty cells are NaN).
#[derive(Debug)]
struct Column {
    dtype: &'static str,
    cells: Vec<Cell>,
}

fn read_csv(name: &str) -> Vec<(String, Column)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/drift/frames")
        .join(name);
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let mut raw: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for (i, v) in rec.iter().enumerate() {
            raw[i].push(v.to_string());
        }
    }
    headers
        .into_iter()
        .zip(raw)
        .map(|(h, cells)| {
            let non_empty: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
            let col = if non_empty.len() == cells.len()
                && cells.iter().all(|c| c.parse::<i64>().is_ok())
            {
                Column {
                    dtype: "int64",
                    cells: cells
                        .iter()
                        .map(|c| Cell::Num(c.parse::<i64>().unwrap() as f64))
                        .collect(),
                }
            } else if non_empty.iter().all(|c| c.parse::<f64>().is_ok()) {
                Column {
                    dtype: "float64",
                    cells: cells
                        .iter()
                        .map(|c| {
                            Cell::Num(if c.is_empty() {
                                f64::NAN
                            } else {
                                c.parse().unwrap()
                            })
                        })
                        .collect(),
                }
            } else {
                Column {
                    dtype: "object",
                    cells: cells
                        .iter()
                        .map(|c| {
                            if c.is_empty() {
                                Cell::Num(f64::NAN)
                            } else {
                                Cell::Str(c.clone())
                            }
                        })
                        .collect(),
                }
            };
            (h, col)
        })
        .collect()
}

/// Spec A2 on the current column: float → num; int → cat if nunique <= 10, else num;
/// strings → text if nunique > 0.5·count, else cat.
fn kind(col: &Column) -> &'static str {
    let mut distinct: Vec<&Cell> = Vec::new();
    let mut count = 0;
    for c in &col.cells {
        if matches!(c, Cell::Num(x) if x.is_nan()) {
            continue;
        }
        count += 1;
        if !distinct.contains(&c) {
            distinct.push(c);
        }
    }
    match col.dtype {
        "int64" if distinct.len() <= 10 => "cat",
        "float64" | "int64" => "num",
        _ if distinct.len() as f64 > 0.5 * f64::from(count) => "text",
        _ => "cat",
    }
}

#[test]
fn whole_frames_match_evidently() {
    let fx = fixture("frames.json");
    let mut w = Worst::new("Evidently frame scores", REL);
    for frame in fx["frames"].as_array().unwrap() {
        let name = frame["name"].as_str().unwrap();
        let reference = read_csv(frame["reference"].as_str().unwrap());
        let current = read_csv(frame["current"].as_str().unwrap());
        let mut results = Vec::new();
        for (col_name, cur) in &current {
            let at = format!("{name}.{col_name}");
            assert_eq!(
                cur.dtype,
                frame["current_dtypes"][col_name].as_str().unwrap(),
                "{at}: dtype"
            );
            let (_, refc) = reference
                .iter()
                .find(|(n, _)| n == col_name)
                .expect("column in the reference");
            let got = match kind(cur) {
                "num" => numeric_drift(&cleaned(&refc.cells), &cleaned(&cur.cells)).unwrap(),
                "cat" => categorical_drift(&cat_counts(&refc.cells, &cur.cells)).unwrap(),
                other => panic!("{at}: kind {other} is not in the fixtures"),
            };
            check_column(&mut w, &at, &got, &frame["columns"][col_name]);
            results.push(got);
        }
        let want = &frame["dataset"];
        assert_eq!(
            results.len(),
            want["number_of_columns"].as_u64().unwrap() as usize,
            "{name}: columns"
        );
        let got = dataset_drift(&results, drift::DEFAULT_DRIFT_SHARE);
        assert_eq!(
            got.number_of_drifted_columns,
            want["number_of_drifted_columns"].as_u64().unwrap() as usize,
            "{name}"
        );
        assert_eq!(
            got.share_of_drifted_columns,
            num(&want["share_of_drifted_columns"]),
            "{name}"
        );
        assert_eq!(
            got.dataset_drift,
            want["dataset_drift"].as_bool().unwrap(),
            "{name}"
        );
    }
}
