//! A lost answer to `runs/create`: the retry finds the run the first request made instead of
//! creating a second one that would stay RUNNING for ever.

use serde_json::json;

use super::proxy::{Fault, Proxy, Rule};
use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of, unique};
use crate::runtime::{rest, stage};

const SCRIPT: &str = "print('trained')\n";

#[test]
fn gitlab_lost_run_create_answer_makes_one_run() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("train.py"), SCRIPT).expect("script");
    gl.lose_answer("POST runs/create");
    let env = [
        ("MLFLOW_TRACKING_TOKEN", TOKEN),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"),
    ];
    let o = stage(
        tmp.path(),
        &gl.uri,
        &["train", "--script", "train.py", "--experiment", "lost"],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("checking whether the run was created"),
        "{all}"
    );
    let runs = gl.runs_in("lost");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["info"]["status"], "FINISHED");
    assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
}

#[test]
fn mlflow_lost_run_create_answer_makes_one_run() {
    let (Some(uri), Some(_py)) = (harness::mlflow_uri(), harness::python()) else {
        return;
    };
    let proxy = Proxy::start(
        &uri,
        vec![Rule::new("POST", "runs/create", Fault::LoseAnswer, Some(1))],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("train.py"), SCRIPT).expect("script");
    let experiment = unique("lost-run");
    let env = [
        ("MLOPS_MLFLOW_FLAVOUR", "mlflow"),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"),
    ];
    let o = stage(
        tmp.path(),
        &proxy.uri,
        &["train", "--script", "train.py", "--experiment", &experiment],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert_eq!(proxy.count("POST", "runs/create"), 1, "{:?}", proxy.log());
    let e = rest(
        &uri,
        "GET",
        "experiments/get-by-name",
        &json!({"experiment_name": experiment}),
    );
    let id = e["experiment"]["experiment_id"]
        .as_str()
        .expect("experiment")
        .to_owned();
    let runs = rest(
        &uri,
        "POST",
        "runs/search",
        &json!({"experiment_ids": [id]}),
    );
    let runs = runs["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["info"]["status"], "FINISHED");
}
