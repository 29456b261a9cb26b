//! A run that stored no model (autolog's model logging lost to a dropped answer, or a script
//! that saves nothing) is not registered: register exits 1 and creates nothing.

use serde_json::json;

use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of, unique};
use crate::runtime::{rest, stage};

#[test]
fn gitlab_run_without_model_files_is_not_registered() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("train.py"), "print('trained, saved nothing')\n").expect("script");
    let env = [("MLFLOW_TRACKING_TOKEN", TOKEN)];
    let o = stage(
        dir,
        &gl.uri,
        &["train", "--script", "train.py", "--experiment", "empty"],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let model = unique("no-model");
    let o = stage(dir, &gl.uri, &["register", "--name", &model], &env);
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("has no model") && all.contains("mlops.model_files"),
        "{all}"
    );
    assert!(gl.versions(&model).is_empty());
}

#[test]
fn mlflow_run_without_model_is_not_registered() {
    let Some(uri) = harness::mlflow_uri() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = unique("no-model");
    let exp = rest(&uri, "POST", "experiments/create", &json!({"name": model}));
    let exp = exp["experiment_id"]
        .as_str()
        .expect("experiment")
        .to_owned();
    let r = rest(&uri, "POST", "runs/create", &json!({"experiment_id": exp}));
    let run = r["run"]["info"]["run_id"].as_str().expect("run").to_owned();
    rest(
        &uri,
        "POST",
        "runs/update",
        &json!({"run_id": run, "status": "FINISHED"}),
    );
    let env = [("MLOPS_MLFLOW_FLAVOUR", "mlflow")];
    let o = stage(
        tmp.path(),
        &uri,
        &["register", "--name", &model, "--run-id", &run],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("has no model"), "{all}");
    let v = rest(
        &uri,
        "GET",
        "model-versions/search",
        &json!({"filter": format!("name='{model}'")}),
    );
    assert!(
        v["model_versions"].as_array().is_none_or(Vec::is_empty),
        "{v}"
    );
}
