//! Scenario 2: the evaluate gate fails.

use serde_json::Value;

use super::{Repo, Vars, assert_trained, dotenv, run_pipeline, serial, servers, timer, unique};

/// 2. The gate fails: a threshold above any reachable accuracy, from a pipeline variable.
///    Evaluate exits 1, register does not run, no version exists.
#[test]
fn gate_fails() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("gate_fails");
    let experiment = unique("gate-exp");
    let registered = unique("gate-model");
    let repo = Repo::new("wine-classifier");
    let commit = repo.commit("wine-classifier");

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
            ("MLOPS_MIN_THRESHOLD", "1.01"),
        ],
        Vars::Cli,
    );
    assert_eq!(p.code, Some(1), "{}", p.log);
    p.assert_verdict("wine-classifier:validate", Some("PASS"));
    p.assert_verdict("wine-classifier:train", Some("PASS"));
    p.assert_verdict("wine-classifier:evaluate", Some("FAIL"));
    p.assert_verdict("wine-classifier:register", None);
    assert!(!p.started("wine-classifier:register"), "{}", p.log);

    let run_id = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit,
    );
    let dir = "mlops-reports/wine-classifier";
    let report: Value = serde_json::from_str(
        &repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.json")),
    )
    .expect("evaluate.json");
    assert_eq!(
        report["exit"], 1,
        "evaluate exits 1 on a failed gate: {report}"
    );
    let ev = repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.env"));
    assert_eq!(
        dotenv(&ev, "MLOPS_GATE_PASSED").as_deref(),
        Some("false"),
        "{ev}"
    );
    assert_eq!(
        dotenv(&ev, "MLFLOW_RUN_ID").as_deref(),
        Some(run_id.as_str())
    );
    let junit = repo.artifact(
        "wine-classifier:evaluate",
        &format!("{dir}/evaluate.junit.xml"),
    );
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(
        srv.mlflow.versions(&registered).is_empty(),
        "no version of {registered}"
    );
}
