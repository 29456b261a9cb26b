//! Scenario 3: the data check fails.

use serde_json::Value;

use super::{Repo, Vars, WINE_JOBS, run_pipeline, serial, servers, timer, unique};

/// 3. The data fails: nulls above `max_null_ratio` in the committed training data. Validate
///    fails, train never runs, and no MLflow run exists.
#[test]
fn data_fails() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("data_fails");
    let experiment = unique("data-exp");
    let registered = unique("data-model");
    let repo = Repo::new("wine-classifier");
    // Blank `alcohol` in every fourth row: 25 % nulls, above the default 5 %.
    let path = repo.path().join("data/train.csv");
    let csv = std::fs::read_to_string(&path).expect("read csv");
    let mut out = String::new();
    let mut blanked = 0;
    for (i, line) in csv.lines().enumerate() {
        if i > 0 && i % 4 == 0 {
            let (_, rest) = line.split_once(',').expect("csv row");
            out.push(',');
            out.push_str(rest);
            blanked += 1;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(blanked > 20);
    std::fs::write(&path, out).expect("write csv");
    repo.commit("nulls in the training data");

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
        ],
        Vars::Cli,
    );
    assert_eq!(p.code, Some(1), "{}", p.log);
    p.assert_verdict("wine-classifier:validate", Some("FAIL"));
    for job in &WINE_JOBS[1..] {
        p.assert_verdict(job, None);
        assert!(!p.started(job), "{job} started:\n{}", p.log);
    }
    let report: Value = serde_json::from_str(&repo.artifact(
        "wine-classifier:validate",
        "mlops-reports/wine-classifier/validate.json",
    ))
    .expect("validate.json");
    let alcohol = report.to_string();
    assert!(alcohol.contains("alcohol"), "{report}");
    let page = repo.artifact(
        "wine-classifier:validate",
        "mlops-reports/wine-classifier/report.html",
    );
    assert!(
        page.contains("id=\"overall\">✗ failed")
            && page.contains("<h3 class=\"name\">alcohol</h3>"),
        "{page}"
    );
    assert!(
        srv.mlflow.runs_of(&experiment).is_empty(),
        "no MLflow run in {experiment}"
    );
    assert!(srv.mlflow.versions(&registered).is_empty());
}
