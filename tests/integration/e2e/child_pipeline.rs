//! Scenario 7: child pipeline mode.

use super::{
    Repo, Vars, WINE_JOBS, assert_registered, run_pipeline, serial, servers, timer, unique,
};
use crate::harness::kv_str;

/// 7. Child pipeline mode: the parent generates the child and triggers it; the child's four
///    jobs pass and the model lands on the server. gitlab-ci-local does not fail the parent
///    for a failing child, so the job lines are checked.
#[test]
fn child_pipeline_runs() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("child_pipeline_runs");
    let experiment = unique("child-exp");
    let registered = unique("child-model");
    let repo = Repo::new("wine-classifier");
    repo.mlops(&["compile", "--child-pipeline"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "child pipeline mode"]);
    let commit = repo.git(&["rev-parse", "HEAD"]);
    repo.mlops(&["compile", "--child-pipeline", "--check"]);

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
        ],
        Vars::CliAndFile,
    );
    // The parent's two jobs, named as the compiler names them: the trigger job and the job
    // whose artifact it includes.
    let parent = std::fs::read_to_string(repo.path().join(".gitlab-ci.yml")).expect("read");
    let doc = mlops::yaml::parse(&parent).expect("parent YAML").to_json();
    let (trigger, generate) = doc
        .as_object()
        .expect("mapping")
        .iter()
        .find_map(|(name, job)| {
            let g = job["trigger"]["include"][0]["job"].as_str()?;
            Some((name.clone(), g.to_owned()))
        })
        .expect("a trigger job");
    p.assert_verdict(&generate, Some("PASS"));
    p.assert_verdict(&trigger, Some("PASS"));
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert!(!p.log.lines().any(|l| l.starts_with(" FAIL ")), "{}", p.log);
    assert_eq!(p.code, Some(0), "{}", p.log);
    let runs = srv.mlflow.runs_of(&experiment);
    assert_eq!(runs.len(), 1, "one run: {runs:?}");
    let run = &runs[0];
    assert_eq!(run["info"]["status"], "FINISHED", "{run}");
    assert_eq!(
        kv_str(&run["data"]["tags"], "mlops.commit_sha").as_deref(),
        Some(commit.as_str())
    );
    let run_id = run["info"]["run_id"].as_str().expect("run id");
    assert_registered(&srv, &registered, "staging", run_id, &commit);
}
