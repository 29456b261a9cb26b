//! End to end against GitLab: the `wine-classifier` pipeline runs under gitlab-ci-local with
//! only what a real GitLab job has (`CI_API_V4_URL`, `CI_PROJECT_ID`) and the masked token
//! variable, against the GitLab replica ([`crate::gitlab`]) in each API generation it serves.
//! The runtime derives the GitLab flavour and the tracking URI from them, as in a real job.

use super::{
    Repo, Vars, WINE_JOBS, dotenv, gitlab_ci_local, replica_tools, replica_vars, serial, timer,
};
use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::kv_str;

#[test]
fn wine_classifier_against_gitlab() {
    wine_classifier_against(Generation::Current, "wine_classifier_against_gitlab");
}

#[test]
fn wine_classifier_against_legacy_gitlab() {
    wine_classifier_against(Generation::Legacy, "wine_classifier_against_legacy_gitlab");
}

fn wine_classifier_against(generation: Generation, name: &'static str) {
    let Some(gcl) = replica_tools() else { return };
    let _serial = serial();
    let _t = timer(name);
    let gl = Replica::start(generation);
    let repo = Repo::new("wine-classifier");
    let commit = repo.commit("wine-classifier");
    let vars = replica_vars(&gl);

    let p = gitlab_ci_local(&repo, &gcl, &vars, Vars::Cli, &[]);
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert_eq!(p.code, Some(0), "{}", p.log);
    assert!(!p.log.contains(TOKEN), "the token leaked into the job log");

    let dir = "mlops-reports/wine-classifier";
    let train = repo.artifact("wine-classifier:train", &format!("{dir}/train.env"));
    let run_id = dotenv(&train, "MLFLOW_RUN_ID").expect("train.env has MLFLOW_RUN_ID");
    let run = gl.run(&run_id);
    assert_eq!(run["info"]["status"], "FINISHED", "{run}");
    assert_eq!(
        kv_str(&run["data"]["tags"], "mlops.commit_sha").as_deref(),
        Some(commit.as_str())
    );
    assert!(
        gl.experiments()
            .contains(&"wine-classifier-training".to_owned()),
        "{:?}",
        gl.experiments()
    );
    let listed: Vec<String> = serde_json::from_str(
        &kv_str(&run["data"]["tags"], "mlops.model_files").expect("the run lists its files"),
    )
    .expect("JSON list");
    let on_run = gl.files(&format!("candidate:{}", gl.iid(&run_id)));
    assert!(
        listed.iter().all(|f| on_run.contains_key(f)),
        "{listed:?} vs {:?}",
        on_run.keys()
    );

    let versions = gl.versions("wine-classifier");
    assert_eq!(versions.len(), 1, "{versions:?}");
    let v = &versions[0];
    assert_eq!(
        kv_str(&v["tags"], "mlops.run_id").as_deref(),
        Some(run_id.as_str())
    );
    assert_eq!(
        kv_str(&v["tags"], "mlops.commit_sha").as_deref(),
        Some(commit.as_str())
    );
    assert_eq!(
        kv_str(&v["tags"], "mlops.alias.staging").as_deref(),
        Some("1.0.0")
    );
    let on_version = gl.files(v["version"].as_str().expect("id"));
    for f in &listed {
        assert_eq!(on_version.get(f), on_run.get(f), "{f}, byte for byte");
    }
    let reg = repo.artifact("wine-classifier:register", &format!("{dir}/register.env"));
    assert_eq!(
        dotenv(&reg, "MODEL_VERSION").as_deref(),
        Some("1.0.0"),
        "{reg}"
    );

    // The register job again, as GitLab's retry runs it: still one version.
    let again = gitlab_ci_local(&repo, &gcl, &vars, Vars::Cli, &["wine-classifier:register"]);
    again.assert_verdict("wine-classifier:register", Some("PASS"));
    assert_eq!(gl.versions("wine-classifier").len(), 1);
    assert!(
        again.log.contains("already has version 1.0.0"),
        "{}",
        again.log
    );
    assert_eq!(gl.unsupported(), Vec::<String>::new());
}
