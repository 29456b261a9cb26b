//! Scenario 6: a challenger against the production champion.

use serde_json::Value;

use super::{
    Repo, Vars, WINE_JOBS, assert_registered, assert_trained, run_pipeline, serial, servers, timer,
    unique,
};

/// 6. Champion and challenger: the first pipeline's model becomes `production`; a second
///    pipeline compares with it and fails when it demands an impossible relative
///    improvement; a third passes with `min_improvement = 0` and becomes production.
#[test]
fn challenger_against_champion() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("challenger_against_champion");
    let experiment = unique("champ-exp");
    let registered = unique("champ-model");
    let repo = Repo::new("wine-classifier");
    repo.edit_config(|t| {
        let t = t.replace(
            "min_threshold = 0.85\n",
            "min_threshold = 0.85\nalias = \"production\"\n",
        );
        format!(
            "{t}\n[model.wine-classifier.compare]\nalias = \"production\"\nmin_improvement = 0\nwhen_no_production = \"pass\"\n"
        )
    });
    let commit = repo.commit("compare with production");
    let vars = [
        ("MLOPS_EXPERIMENT", experiment.as_str()),
        ("MLOPS_REGISTERED_MODEL", registered.as_str()),
    ];
    let dir = "mlops-reports/wine-classifier";

    // First pipeline: no production model yet; the gate passes and the version becomes it.
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    let champion = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit,
    );
    assert_eq!(
        assert_registered(&srv, &registered, "production", &champion, &commit),
        "1"
    );

    // Second pipeline: an impossible relative improvement (50 % over an accuracy near 1).
    repo.edit_config(|t| {
        t.replace(
            "min_improvement = 0\n",
            "min_improvement = 0\nmin_relative_improvement = 0.5\n",
        )
    });
    let commit2 = repo.commit("demand 50 % over production");
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    assert_eq!(p.code, Some(1), "{}", p.log);
    p.assert_verdict("wine-classifier:evaluate", Some("FAIL"));
    p.assert_verdict("wine-classifier:register", None);
    let challenger = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit2,
    );
    assert_ne!(challenger, champion);
    let report: Value = serde_json::from_str(
        &repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.json")),
    )
    .expect("evaluate.json");
    assert_eq!(report["exit"], 1, "{report}");
    assert!(
        report.to_string().contains(&champion),
        "the comparison names the production run: {report}"
    );
    assert_eq!(srv.mlflow.versions(&registered).len(), 1);
    assert_eq!(
        srv.mlflow
            .alias(&registered, "production")
            .expect("production")["run_id"],
        champion.as_str()
    );

    // Third pipeline: back to `min_improvement = 0`; equal or better passes.
    repo.edit_config(|t| t.replace("min_relative_improvement = 0.5\n", ""));
    let commit3 = repo.commit("no improvement required");
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    let third = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit3,
    );
    let report: Value = serde_json::from_str(
        &repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.json")),
    )
    .expect("evaluate.json");
    assert!(
        report.to_string().contains(&champion),
        "compared with the champion: {report}"
    );
    assert_eq!(
        assert_registered(&srv, &registered, "production", &third, &commit3),
        "2"
    );
    assert_eq!(srv.mlflow.versions(&registered).len(), 2);
}
