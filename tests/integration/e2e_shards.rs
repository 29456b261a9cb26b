//! End to end: a parent that triggers three child pipelines (`[pipeline] child_pipelines =
//! 3`) runs under gitlab-ci-local against the suite's MLflow server. The generate job writes
//! the three children the way CI does, each trigger job runs one, and every job of every
//! child passes; each model is registered with its alias.
//!
//! Modelled on `e2e::child_pipeline_runs`, reusing its `pub(crate)` helpers ([`Repo`],
//! [`gitlab_ci_local`], [`serial`], [`timer`]). Copied from `e2e.rs` because they are private
//! there: the harness lookup (as `servers()`), the unique-name helper and the MLflow alias
//! query, each cut to what this scenario uses.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::e2e::{Repo, Vars, gitlab_ci_local, serial, timer};
use crate::harness;

/// A name no other scenario or suite run uses (as `e2e::unique`).
fn unique(tag: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("e2e-{tag}-{}-{}", std::process::id(), n % 1_000_000_000)
}

/// gitlab-ci-local, the `CI_API_V4_URL` the jobs see, and the MLflow URI (as `e2e::servers`).
fn servers() -> Option<(std::path::PathBuf, String, String)> {
    let gcl = harness::require_tool("gitlab-ci-local")?;
    harness::require_tool("rsync")?;
    harness::python()?;
    let uri = harness::mlflow_uri()?;
    let Ok(port) = std::env::var("MLOPS_TEST_MLFLOW_PORT") else {
        return harness::missing("the MLflow server port (MLOPS_TEST_MLFLOW_PORT)");
    };
    Some((gcl, format!("http://127.0.0.1:{port}/api/v4"), uri))
}

/// The version `alias` points at on the suite's server (as `e2e::Mlflow::alias`).
fn alias(uri: &str, model: &str, alias: &str) -> Option<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let mut resp = agent
        .get(format!("{uri}/api/2.0/mlflow/registered-models/alias"))
        .query("name", model)
        .query("alias", alias)
        .call()
        .expect("MLflow answers");
    let status = resp.status().as_u16();
    let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().expect("body"))
        .unwrap_or(Value::Null);
    (status == 200).then(|| v["model_version"].clone())
}

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
    let Some((gcl, api, uri)) = servers() else {
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

    let vars: Vec<(String, String)> = [
        ("CI_API_V4_URL", api.as_str()),
        ("CI_PROJECT_ID", "1"),
        ("MLFLOW_TRACKING_TOKEN", "test-token"),
        ("MLOPS_MLFLOW_FLAVOUR", "mlflow"),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
        ("MLOPS_EXPERIMENT", experiment.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let p = gitlab_ci_local(&repo, &gcl, &vars, Vars::CliAndFile, &[]);
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
        let v = alias(&uri, m, "staging").unwrap_or_else(|| panic!("{m}@staging:\n{}", p.log));
        assert_eq!(v["version"], "1", "{m}: {v}");
    }
}
