//! Evidently's verdicts: one column at every boundary, and whole frames.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mlops::runtime::drift::{
    self, ColumnDrift, StatTest, categorical_drift, dataset_drift, numeric_drift,
};
use serde_json::Value;

use super::generator::{Cell, generate};
use super::{REL, Worst, fixture, num};

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

/// The kind rule of `docs/data-checks.md` on the current column: float → num; int → cat if nunique <= 10, else num;
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
