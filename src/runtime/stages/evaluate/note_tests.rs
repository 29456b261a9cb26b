use indexmap::IndexMap;
use serde_json::json;

use super::*;
use crate::runtime::gate::Production;

fn gate(name: &str, status: Verdict, message: &str, required: Option<f64>) -> GateResult {
    GateResult {
        name: name.into(),
        status,
        message: message.into(),
        required,
    }
}

fn report(
    status: Verdict,
    gates: Vec<GateResult>,
    production: Option<Production>,
) -> EvaluateReport {
    EvaluateReport {
        status,
        run_id: "3f2a9c".into(),
        metric: "accuracy".into(),
        value: Some(0.91),
        threshold: 0.85,
        higher_is_better: true,
        production,
        gates,
        metrics: IndexMap::new(),
        exit: 1,
        note: None,
    }
}

fn validate_json() -> Value {
    json!({
        "status": "failed",
        "rows": 142,
        "columns": {
            "alcohol": {"kind": "num", "null_count": 0, "null_status": "passed"},
            "ash|<b>": {"kind": "num", "null_count": 12, "null_status": "failed"},
            "hue": {"kind": "num", "null_count": 1, "null_status": "passed"}
        },
        "schema": {"missing_columns": ["proline"], "extra_columns": [], "kind_mismatches": []},
        "drift": {
            "dataset_drift": false, "share_of_drifted_columns": 0.333_333_333_333_333_3,
            "number_of_columns": 3, "number_of_drifted_columns": 1, "drift_share": 0.5,
            "columns": {
                "alcohol": {"drift_detected": false},
                "hue": {"drift_detected": true},
                "ash|<b>": {"drift_detected": false}
            }
        },
        "expectations": [{"status": "passed"}, {"status": "failed"}, {"status": "passed"}],
        "checks": []
    })
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../../../../snapshots/note", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

/// A challenger that beats the threshold but not production, with data checks that failed:
/// what a reviewer reads on the merge request.
#[test]
fn failed_challenger_with_data_checks() {
    let r = report(
        Verdict::Fail,
        vec![
            gate(
                "threshold",
                Verdict::Pass,
                "accuracy = 0.91 is >= 0.85",
                Some(0.85),
            ),
            gate(
                "compare",
                Verdict::Fail,
                "accuracy = 0.91 vs production 0.93 (alias `production`): improvement -0.02 misses the required 0",
                Some(0.93),
            ),
        ],
        Some(Production {
            alias: "production".into(),
            version: Some("3.0.0".into()),
            run_id: Some("77aa".into()),
            value: Some(0.93),
        }),
    );
    let text = render(&NoteInput {
        model: "wine-classifier",
        report: &r,
        data: DataChecks::from_report(&validate_json()),
        links: Links {
            run: Some("https://gitlab.example/g/p/-/ml/experiments/4".into()),
            job: Some("https://gitlab.example/g/p/-/jobs/501".into()),
            report: Some(
                "https://gitlab.example/g/p/-/jobs/501/artifacts/file/mlops-reports/wine-classifier/report.html"
                    .into(),
            ),
        },
        pipeline: Some("1001".into()),
        commit: Some("0123456789abcdef".into()),
    });
    snapshot("failed_challenger", &text);
    assert_eq!(text, render(&NoteInput {
        model: "wine-classifier",
        report: &r,
        data: DataChecks::from_report(&validate_json()),
        links: Links {
            run: Some("https://gitlab.example/g/p/-/ml/experiments/4".into()),
            job: Some("https://gitlab.example/g/p/-/jobs/501".into()),
            report: Some(
                "https://gitlab.example/g/p/-/jobs/501/artifacts/file/mlops-reports/wine-classifier/report.html"
                    .into(),
            ),
        },
        pipeline: Some("1001".into()),
        commit: Some("0123456789abcdef".into()),
    }), "deterministic");
}

/// A first model (no production yet), without validate's report and without CI links.
#[test]
fn passed_without_data_checks() {
    let r = report(
        Verdict::Pass,
        vec![
            gate("threshold", Verdict::Pass, "ok", Some(0.85)),
            gate("compare", Verdict::Pass, "no model has the alias", None),
        ],
        Some(Production {
            alias: "production".into(),
            version: None,
            run_id: None,
            value: None,
        }),
    );
    let text = render(&NoteInput {
        model: "wine",
        report: &r,
        data: None,
        links: Links::default(),
        pipeline: None,
        commit: None,
    });
    snapshot("passed_first_model", &text);
}

#[test]
fn marker_stays_one_comment_and_names_one_model() {
    for name in ["a-->b", "a--!>b", "x\n-->\n<script>", "é ü", "a`b|c"] {
        let m = marker(name);
        assert!(m.starts_with("<!-- mlops:evaluate-note model="), "{m}");
        assert!(m.ends_with(" -->") && m.matches("-->").count() == 1, "{m}");
        assert!(
            !m.contains("--!>") && !m.contains('\n') && !m.contains('<') || m.starts_with("<!--"),
            "{m}"
        );
        assert_eq!(m.matches('<').count(), 1, "{m}");
    }
    let names = ["a-b", "a_b", "a b", "a.b", "a%2Db"];
    let markers: std::collections::BTreeSet<String> = names.iter().map(|n| marker(n)).collect();
    assert_eq!(markers.len(), names.len(), "{markers:?}");
}

#[test]
fn code_spans_hold_anything() {
    assert_eq!(code("plain", true), "`plain`");
    assert_eq!(code("a|b", true), "`a\\|b`");
    assert_eq!(code("a|b", false), "`a|b`");
    assert_eq!(code("line\nbreak\r\tx", false), "`line break  x`");
    assert_eq!(code("a`b", false), "``a`b``");
    assert_eq!(code("`x``", false), "``` `x`` ```");
    assert_eq!(code("<script>@all #1 !2", false), "`<script>@all #1 !2`");
    let long = "n".repeat(200);
    assert_eq!(code(&long, false).chars().count(), MAX_NAME_CHARS + 2);
}

#[test]
fn data_checks_read_validate_json() {
    let d = DataChecks::from_report(&validate_json()).expect("a validate report");
    assert!(!d.passed);
    assert_eq!((d.rows, d.columns, d.nulls), (142, 3, 13));
    assert_eq!(d.missing, ["proline"]);
    assert_eq!(d.null_failures, ["ash|<b>"]);
    assert_eq!(d.drift, Some((1, 3, 0.333_333_333_333_333_3, false)));
    assert_eq!(d.drifted, ["hue"]);
    assert_eq!(d.expectations, Some((2, 1)));
    assert_eq!(DataChecks::from_report(&json!({"status": "passed"})), None);
    let no_drift =
        json!({"status": "passed", "rows": 1, "columns": {}, "drift": null, "expectations": []});
    let d = DataChecks::from_report(&no_drift).expect("minimal");
    assert_eq!((d.drift, d.expectations), (None, None));
}

#[test]
fn long_notes_are_cut_at_a_line_under_the_limit() {
    let line = format!("{}\n", "x".repeat(999));
    let text = line.repeat(1001);
    let cut = truncate(&text);
    assert!(cut.chars().count() <= MAX_NOTE_CHARS);
    assert!(
        cut.ends_with("see the job's `evaluate.json`)\n"),
        "{}",
        &cut[cut.len() - 100..]
    );
    assert!(cut.lines().rev().skip(2).all(|l| l.len() == 999));
    assert_eq!(truncate("short\n"), "short\n");
}

#[test]
fn deltas_have_no_binary_noise() {
    assert_eq!(delta(0.9 - 0.8), "+0.1");
    assert_eq!(delta(-0.02), "-0.02");
    assert_eq!(delta(1e-9), "±0");
}
