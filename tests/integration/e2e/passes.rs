//! Scenario 1: the `wine-classifier` pipeline passes.

use super::{
    Repo, Vars, WINE_JOBS, assert_registered, assert_trained, dotenv, run_pipeline, serial,
    servers, timer, unique,
};
use crate::harness::kv;

/// 1. `wine-classifier` passes: four jobs, a FINISHED run, a version with alias `staging`,
///    and the report artifacts.
#[test]
fn wine_classifier_passes() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("wine_classifier_passes");
    let experiment = unique("wine-exp");
    let registered = unique("wine-model");
    let repo = Repo::new("wine-classifier");
    let commit = repo.commit("wine-classifier");

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
        ],
        Vars::Cli,
    );
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert_eq!(p.code, Some(0), "{}", p.log);

    let model = "wine-classifier";
    let run_id = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        model,
        &experiment,
        &commit,
    );
    assert_eq!(srv.mlflow.runs_of(&experiment).len(), 1);
    let version = assert_registered(&srv, &registered, "staging", &run_id, &commit);
    assert_eq!(version, "1");

    // validate: JUnit with no failures.
    let vj = repo.artifact(
        "wine-classifier:validate",
        "mlops-reports/wine-classifier/validate.junit.xml",
    );
    assert!(
        vj.contains("<testsuites") && vj.contains("failures=\"0\""),
        "{vj}"
    );
    // evaluate: dotenv, JUnit and OpenMetrics with the server's value of the metric.
    let dir = "mlops-reports/wine-classifier";
    let ev = repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.env"));
    assert_eq!(
        dotenv(&ev, "MLOPS_GATE_PASSED").as_deref(),
        Some("true"),
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
    assert!(
        junit.contains("tests=\"1\" failures=\"0\" errors=\"0\"")
            && junit.contains("name=\"threshold accuracy\""),
        "{junit}"
    );
    let metrics = repo.artifact("wine-classifier:evaluate", &format!("{dir}/metrics.txt"));
    let accuracy = kv(&srv.mlflow.run(&run_id)["data"]["metrics"], "accuracy")
        .and_then(|v| v.as_f64())
        .expect("accuracy");
    let reported: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("accuracy "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metrics.txt has accuracy: {metrics}"));
    assert!(
        (reported - accuracy).abs() < 1e-9,
        "{reported} vs {accuracy}"
    );
    assert!(metrics.trim_end().ends_with("# EOF"), "{metrics}");
    // the report page: validate's columns (through the artifacts evaluate needs) and the gates
    let page = repo.artifact("wine-classifier:evaluate", &format!("{dir}/report.html"));
    assert!(
        page.contains("Quality gates: <span class=\"v ok\">✓ passed")
            && page.contains("<h3 class=\"name\">alcohol</h3>")
            && page.contains(&format!(">{run_id}</a>")),
        "{page}"
    );
    // register: the dotenv names the version the server has.
    let reg = repo.artifact("wine-classifier:register", &format!("{dir}/register.env"));
    assert_eq!(
        dotenv(&reg, "MODEL_NAME").as_deref(),
        Some(registered.as_str()),
        "{reg}"
    );
    assert_eq!(
        dotenv(&reg, "MODEL_VERSION").as_deref(),
        Some(version.as_str())
    );
    assert_eq!(dotenv(&reg, "MODEL_ALIAS").as_deref(), Some("staging"));
}
