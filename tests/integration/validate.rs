//! `mlops run validate` against committed fixtures whose expected statistics and verdicts
//! were computed once with pandas, Evidently and Great Expectations
//! (`scripts/reference/validate_reference.py`). No Python is imported for the numbers.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{mlops, root};

fn fx(name: &str) -> PathBuf {
    root().join("tests/fixtures/validate").join(name)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read json")).expect("parse json")
}

/// Runs `mlops run validate ARGS --report-dir TMP`; returns (exit code, stderr, report).
fn validate(args: &[&str]) -> (i32, String, Option<Value>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mlops()
        .args(["run", "validate"])
        .args(args)
        .arg("--report-dir")
        .arg(dir.path())
        .current_dir(root().join("tests/fixtures/validate"))
        .output()
        .expect("mlops runs");
    let report = dir.path().join("validate.json");
    let report = report.is_file().then(|| json(&report));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
        dir,
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

fn assert_profile(data: &str, expected: &str) {
    let (_, err, report, _d) = validate(&["--data", data]);
    let r = report.unwrap_or_else(|| panic!("no report: {err}"));
    let e = json(&fx(expected));
    assert_eq!(r["rows"], e["rows"]);
    let cols = e["columns"].as_object().expect("columns");
    assert_eq!(r["columns"].as_object().expect("columns").len(), cols.len());
    for (name, want) in cols {
        let got = &r["columns"][name];
        assert_eq!(got["kind"], want["kind"], "kind of {name}");
        assert_eq!(got["dtype"], want["dtype"], "dtype of {name}");
        assert_eq!(got["null_count"], want["null_count"], "nulls of {name}");
        assert_eq!(
            got["null_ratio"], want["null_ratio"],
            "null ratio of {name}"
        );
    }
}

#[test]
fn csv_kinds_match_pandas_and_evidently() {
    // NA tokens, int with nulls → float64, bool, bool with nulls → object/unknown, mixed,
    // mostly unique strings → text, an all-empty column → float64/num, ` NA` is a string.
    assert_profile("kinds.csv", "kinds.expected.json");
}

#[test]
fn parquet_types_match_pyarrow_pandas() {
    assert_profile("typed.parquet", "typed.expected.json");
}

#[test]
fn nulls_exactly_at_the_threshold_pass() {
    let (code, _, report, _d) = validate(&["--data", "nulls_200.csv"]);
    let r = report.expect("report");
    let e = json(&fx("nulls_200.expected.json"));
    assert_eq!(r["columns"]["a"]["null_count"], 10);
    assert_eq!(r["columns"]["a"]["null_status"], "passed");
    assert_eq!(r["columns"]["a"]["at_threshold"], true);
    assert_eq!(e["columns"]["a"]["null_check_passed"], true);
    assert_eq!(r["columns"]["b"]["null_count"], 12);
    assert_eq!(r["columns"]["b"]["null_status"], "failed");
    assert_eq!(e["columns"]["b"]["null_check_passed"], false);
    assert_eq!(code, 1);
    assert_eq!(r["status"], "failed");
    // A per-run threshold raises the bar for every column.
    let (code, _, _, _d) = validate(&["--data", "nulls_200.csv", "--max-null-ratio", "0.06"]);
    assert_eq!(code, 0);
}

#[test]
fn every_expectation_matches_great_expectations() {
    let (code, err, report, _d) =
        validate(&["--data", "expect.csv", "--expectations", "suite.json"]);
    assert_eq!(code, 1, "{err}");
    let r = report.expect("report");
    let got = r["expectations"].as_array().expect("expectations");
    let want = json(&fx("suite.expected.json"));
    let want = want["results"].as_array().expect("results");
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g["type"], w["type"], "#{i}");
        assert_eq!(g["success"], w["success"], "#{i} {}", w["type"]);
        for (k, v) in w["result"].as_object().expect("result") {
            let gv = &g[k];
            match (gv.as_f64(), v.as_f64()) {
                (Some(a), Some(b)) if !(v.is_u64() && gv.is_u64()) => {
                    assert!(close(a, b), "#{i} {k}: {a} vs {b}");
                }
                _ => assert_eq!(gv, v, "#{i} {} {k}", w["type"]),
            }
        }
        assert_eq!(
            g["exception_message"].as_str(),
            w["exception_message"].as_str(),
            "#{i} {}",
            w["type"]
        );
    }
}

#[test]
fn ge_0x_key_names_are_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite = json(&fx("suite.json"));
    let v0: Vec<Value> = suite["expectations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| serde_json::json!({"expectation_type": e["type"], "kwargs": e["kwargs"]}))
        .collect();
    let p = dir.path().join("v0.json");
    std::fs::write(
        &p,
        serde_json::json!({"expectation_suite_name": "old", "expectations": v0}).to_string(),
    )
    .expect("write");
    let (_, _, a, _d1) = validate(&["--data", "expect.csv", "--expectations", "suite.json"]);
    let (_, _, b, _d2) = validate(&[
        "--data",
        "expect.csv",
        "--expectations",
        p.to_str().expect("utf8"),
    ]);
    assert_eq!(a.expect("a")["expectations"], b.expect("b")["expectations"]);
}

#[test]
fn unknown_expectation_is_exit_2_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("s.json");
    std::fs::write(&p, r#"{"name":"s","expectations":[{"type":"expect_column_values_to_be_dateutil_parseable","kwargs":{"column":"id"}}]}"#).expect("write");
    let path = p.to_str().expect("utf8");
    let (code, err, _, _d) = validate(&["--data", "expect.csv", "--expectations", path]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown expectation type `expect_column_values_to_be_dateutil_parseable`"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    let (code, _, r, _d) = validate(&[
        "--data",
        "expect.csv",
        "--expectations",
        path,
        "--allow-unknown",
        "--max-null-ratio",
        "0.5",
    ]);
    assert_eq!(code, 0);
    assert_eq!(r.expect("report")["expectations"][0]["status"], "skipped");
}

#[allow(clippy::many_single_char_names)]
fn assert_drift(label: &str) {
    let cur = format!("drift_{label}_cur.csv");
    let refp = format!("drift_{label}_ref.csv");
    let (code, err, report, _d) = validate(&[
        "--data",
        &cur,
        "--reference",
        &refp,
        "--max-null-ratio",
        "1",
    ]);
    let r = report.unwrap_or_else(|| panic!("no report: {err}"));
    let e = json(&fx(&format!("drift_{label}.expected.json")));
    let d = &r["drift"];
    for (name, kind) in e["kinds"].as_object().expect("kinds") {
        assert_eq!(&r["columns"][name]["kind"], kind, "kind of {name}");
    }
    for (name, want) in e["columns"].as_object().expect("columns") {
        let got = &d["columns"][name];
        if want["threshold"] == 0.95 || got["kind"] == "text" {
            assert_eq!(got["status"], "skipped", "{name}");
            assert!(
                got["reason"].as_str().is_some_and(|s| s.contains("text")),
                "{name}"
            );
            continue;
        }
        assert_eq!(got["stattest"], want["stattest"], "{name}");
        assert_eq!(got["threshold"], want["threshold"], "{name}");
        assert_eq!(got["drift_detected"], want["drift_detected"], "{name}");
        let (a, b) = (
            got["score"].as_f64().expect("score"),
            want["score"].as_f64().expect("score"),
        );
        assert!(close(a, b) || (a - b).abs() < 1e-15, "{name}: {a} vs {b}");
    }
    assert_eq!(d["columns"]["cur_only"]["status"], "error");
    assert!(
        d["columns"]["cur_only"]["reason"]
            .as_str()
            .expect("reason")
            .contains("only in the current data")
    );
    assert_eq!(d["columns"]["ref_only"]["status"], "skipped");
    // Text columns are skipped (not reproducible), so the share is over the other columns:
    // Evidently's per-column verdicts of those columns give the expected dataset verdict.
    let tested: Vec<&Value> = e["columns"]
        .as_object()
        .expect("columns")
        .values()
        .filter(|c| {
            ["ks", "chisquare", "z", "wasserstein", "jensenshannon"]
                .iter()
                .any(|t| c["stattest"] == *t)
        })
        .collect();
    let drifted = tested
        .iter()
        .filter(|c| c["drift_detected"] == true)
        .count();
    assert_eq!(d["number_of_columns"], tested.len());
    assert_eq!(d["number_of_drifted_columns"], drifted);
    assert_eq!(
        d["dataset_drift"],
        drifted as f64 / tested.len() as f64 >= 0.5
    );
    assert_eq!(code, 1);
}

#[test]
fn drift_matches_evidently_small_reference() {
    assert_drift("small");
}

#[test]
fn drift_matches_evidently_large_reference() {
    assert_drift("large");
}

#[test]
fn bad_inputs_exit_2_naming_file_and_row() {
    for (file, needle) in [
        (
            "ragged.csv",
            "ragged.csv`: line 3 (data row 2) has 2 fields, the header has 3",
        ),
        (
            "non_utf8.csv",
            "non_utf8.csv`: line 2 (data row 1), column 2: not valid UTF-8",
        ),
        ("empty.csv", "empty.csv`: the file is empty"),
        (
            "unclosed_quote.csv",
            "unclosed_quote.csv`: line 2: a quoted field is never closed",
        ),
        (
            "no_such_file.csv",
            "no_such_file.csv`: cannot read the file",
        ),
    ] {
        let (code, err, report, _d) = validate(&["--data", file]);
        assert_eq!(code, 2, "{file}: {err}");
        assert!(err.contains(&format!("error: `{needle}")), "{file}: {err}");
        assert!(err.contains("\nhint: "), "{file}: {err}");
        assert!(report.is_none(), "{file}");
    }
    let (code, err, _, _d) = validate(&["--data", "typed.parquet", "--format", "csv"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn required_columns_and_custom_checks_and_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = dir.path().join("ok.py");
    std::fs::write(&ok, "import sys, json\nassert sys.argv[1] == '--data'\nprint('hello')\nprint(json.dumps({'rows_seen': sum(1 for _ in open(sys.argv[2])) - 1}))\n").expect("write");
    let bad = dir.path().join("bad.py");
    std::fs::write(
        &bad,
        "import sys\nprint('too few rows', file=sys.stderr)\nsys.exit(3)\n",
    )
    .expect("write");
    let (code, err, report, d) = validate(&[
        "--data",
        "expect.csv",
        "--required-columns",
        "id,score,absent",
        "--max-null-ratio",
        "0.5",
        "--check",
        ok.to_str().expect("utf8"),
        "--check",
        bad.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 1, "{err}");
    let r = report.expect("report");
    assert_eq!(
        r["schema"]["missing_columns"],
        serde_json::json!(["absent"])
    );
    assert_eq!(
        r["schema"]["extra_columns"],
        serde_json::json!(["grade", "code", "dup", "flag", "maybe"])
    );
    let checks = r["checks"].as_array().expect("checks");
    let find = |name: &str| {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .expect(name)
    };
    assert_eq!(find("absent")["status"], "failed");
    assert_eq!(find("id")["status"], "passed");
    let okc = find(ok.to_str().expect("utf8"));
    assert_eq!(okc["status"], "passed");
    assert_eq!(okc["details"]["rows_seen"], 10);
    let badc = find(bad.to_str().expect("utf8"));
    assert_eq!(badc["status"], "failed");
    assert_eq!(badc["message"], "exit 3: too few rows");
    for c in checks {
        for k in ["name", "kind", "status", "message"] {
            assert!(c.get(k).is_some(), "{k} in {c}");
        }
    }
    for k in [
        "status",
        "rows",
        "columns",
        "drift",
        "expectations",
        "checks",
        "schema",
    ] {
        assert!(r.get(k).is_some(), "{k}");
    }
    let xml = std::fs::read_to_string(d.path().join("validate.junit.xml")).expect("junit");
    assert!(
        xml.contains("<testcase classname=\"validate.schema\" name=\"absent\">"),
        "{xml}"
    );
    assert!(
        xml.contains("classname=\"validate.checks\"")
            || xml.contains("classname=\"validate.script\""),
        "{xml}"
    );
}

#[test]
fn settings_come_from_mlops_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [
        "drift_small_cur.csv",
        "drift_small_ref.csv",
        "suite.json",
        "expect.csv",
    ] {
        std::fs::copy(fx(f), dir.path().join(f)).expect("copy");
    }
    std::fs::write(
        dir.path().join("mlops.toml"),
        format!(
            "mlops-version = \"{}\"\n[model.m]\ntraining_script = \"t.py\"\ndata_path = \"expect.csv\"\nframework = \"sklearn\"\nmetric_name = \"acc\"\nmin_threshold = 0.5\n[model.m.validation]\nrequired_columns = [\"id\"]\nmax_null_ratio = 0.2\nexpectations = \"suite.json\"\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .expect("write");
    let out = mlops()
        .args(["run", "validate", "--model", "m"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let r = dir.path().join("mlops-reports/m/validate.json");
    assert!(r.is_file(), "{err}");
    let r = json(&r);
    assert_eq!(r["columns"]["maybe"]["max_null_ratio"], 0.2);
    assert_eq!(r["expectations"].as_array().map(Vec::len), Some(46));
    assert_eq!(out.status.code(), Some(1));
}
