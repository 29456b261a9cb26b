//! `mlops::runtime::drift` against scipy 1.17 / Evidently 0.7.23 reference values committed in
//! `tests/fixtures/drift/` by `scripts/reference/drift_reference.py` (see its docstring to
//! regenerate). No Python runs here.
//!
//! Scores must agree to a relative 1e-9 (most agree to the last bit), verdicts exactly.
//! Random inputs are regenerated from their spec with the twin of the script's generator.
//!
//! The shared comparison helpers are here; the generator twin, each fixture file and the
//! Evidently verdicts have their own file.

use std::path::PathBuf;

use serde_json::Value;

mod evidently;
mod generator;
mod special;
mod stats;

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
