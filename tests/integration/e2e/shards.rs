//! End to end: a parent that triggers three child pipelines (`[pipeline] child_pipelines =
//! 3`) runs under gitlab-ci-local against the suite's MLflow server. The generate job writes
//! the three children the way CI does, each trigger job runs one, and every job of every
//! child passes; each model is registered with its alias.
//!
//! Modelled on `child_pipeline_runs`, with the shared helpers of [`super`].

use std::fmt::Write as _;

use super::{Repo, Vars, run_pipeline, serial, servers, timer, unique};
use crate::harness;

/// Three model names, one per child pipeline of three.
fn one_per_child(tag: &str) -> Vec<String> {
    let mut names: Vec<Option<String>> = vec![None; 3];
    for i in 0.. {
        let name = format!("{tag}-{i}");
        let k = mlops::compile::shard::shard_of(&name, 3);
        if names[k].is_none() {
            names[k] = Some(name);
        }
        if names.iter().all(Option::is_some) {
            break;
        }
    }
    names.into_iter().flatten().collect()
}

#[test]
fn three_child_pipelines_run() {
    let Some(srv) = servers() else {
        return;
    };
    let _serial = serial();
    let _t = timer("three_child_pipelines_run");
    let experiment = unique("shards-exp");
    let models = one_per_child(&unique("shard"));
    let repo = Repo::new("wine-classifier");
    let mut config = format!(
        "mlops-version = \"{}\"\n\n[pipeline]\nchild_pipelines = 3\n\n[defaults]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\ntraining_args = \"--data data/train.csv --test-data data/test.csv --n-estimators 5\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.5\n",
        env!("CARGO_PKG_VERSION")
    );
    for m in &models {
        let _ = write!(config, "\n[model.{m}]\n");
    }
    std::fs::write(repo.path().join("mlops.toml"), config).expect("write mlops.toml");
    // `child_pipelines` makes plain `mlops compile` write the parent.
    let out = harness::mlops()
        .current_dir(repo.path())
        .arg("compile")
        .output()
        .expect("mlops runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo.commit("three child pipelines");

    let p = run_pipeline(
        &repo,
        &srv,
        &[("MLOPS_EXPERIMENT", experiment.as_str())],
        Vars::CliAndFile,
    );
    p.assert_verdict("mlops-generate", Some("PASS"));
    for k in 1..=3 {
        p.assert_verdict(&format!("mlops-pipeline-{k}"), Some("PASS"));
    }
    for m in &models {
        for stage in ["validate", "train", "evaluate", "register"] {
            p.assert_verdict(&format!("{m}:{stage}"), Some("PASS"));
        }
    }
    assert!(!p.log.lines().any(|l| l.starts_with(" FAIL ")), "{}", p.log);
    assert_eq!(p.code, Some(0), "{}", p.log);
    for m in &models {
        let v = srv
            .mlflow
            .alias(m, "staging")
            .unwrap_or_else(|| panic!("{m}@staging:\n{}", p.log));
        assert_eq!(v["version"], "1", "{m}: {v}");
    }
}
