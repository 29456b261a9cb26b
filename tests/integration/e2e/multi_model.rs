//! Scenario 4: three models in one pipeline.

use super::{
    Repo, Vars, assert_registered, assert_trained, run_pipeline, serial, servers, timer, unique,
};

/// 4. `multi-model`: three models in one pipeline, in parallel, each with its own run and
///    version. The models are renamed so their registered models are this scenario's own.
#[test]
fn multi_model_runs_three_models() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("multi_model_runs_three_models");
    let experiment = unique("multi-exp");
    let suffix = unique("m");
    let repo = Repo::new("multi-model");
    let models = [
        ("wine", "wine-classifier", "staging"),
        ("iris", "iris-classifier", "candidate"),
        ("cancer", "breast-cancer-classifier", "staging"),
    ];
    repo.edit_config(|mut t| {
        for (_, m, _) in models {
            t = t.replace(&format!("[model.{m}"), &format!("[model.{m}-{suffix}"));
        }
        t
    });
    let commit = repo.commit("multi-model, renamed models");

    let p = run_pipeline(&repo, &srv, &[("MLOPS_EXPERIMENT", &experiment)], Vars::Cli);
    for (job, _, _) in models {
        for stage in ["validate", "train", "evaluate", "register"] {
            p.assert_verdict(&format!("{job}:{stage}"), Some("PASS"));
        }
    }
    assert_eq!(p.code, Some(0), "{}", p.log);
    // In parallel: the three train jobs started before any of them finished.
    let first_finish = p
        .log
        .lines()
        .position(|l| l.contains(":train") && l.contains("finished in"))
        .expect("a train job finished");
    for (job, _, _) in models {
        let started = p
            .log
            .lines()
            .position(|l| l.starts_with(&format!("{job}:train")) && l.contains("starting shell"))
            .expect("train started");
        assert!(
            started < first_finish,
            "{job}:train ran in parallel:\n{}",
            p.log
        );
    }

    let mut runs = Vec::new();
    for (job, m, alias) in models {
        let name = format!("{m}-{suffix}");
        let run_id = assert_trained(
            &srv,
            &repo,
            &format!("{job}:train"),
            &name,
            &experiment,
            &commit,
        );
        let version = assert_registered(&srv, &name, alias, &run_id, &commit);
        assert_eq!(version, "1");
        runs.push(run_id);
    }
    runs.sort();
    runs.dedup();
    assert_eq!(runs.len(), 3, "three distinct runs");
    assert_eq!(srv.mlflow.runs_of(&experiment).len(), 3);
}
