//! train → evaluate → register of the wine example against the replica, in both generations.

use std::path::Path;

use serde_json::json;

use super::{ENV, report};
use crate::gitlab::{Generation, Replica};
use crate::harness::{self, kv_str, transcript_of, unique};
use crate::runtime::stage;

/// A copy of the wine example whose one model is `model`, for the GitLab flavour (the
/// tracking URI ends in `/ml/mlflow`, so no flavour is set).
fn wine(dir: &Path, model: &str) {
    harness::copy_dir(&harness::root().join("examples/wine-classifier"), dir);
    std::fs::write(
        dir.join("mlops.toml"),
        format!(
            "mlops-version = \"{}\"\n\n[model.{model}]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\ntraining_args = \"--data data/train.csv --test-data data/test.csv --n-estimators 20\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.8\nalias = \"production\"\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .expect("write mlops.toml");
}
/// train → evaluate → register of the wine example, with the real MLflow client and sklearn
/// autolog in the script's process: the model reaches the run's package and the version's,
/// a retried register makes no second version, and only GitLab's routes are called.
fn wine_cycle(generation: Generation) {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(generation);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let model = unique("gl-wine");
    wine(dir, &model);

    let o = stage(dir, &gl.uri, &["train", "--model", &model], &ENV);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let train = report(dir, &format!("{model}/train.json"));
    assert_eq!(train["flavour"], "gitlab");
    assert_eq!(train["experiment_name"], format!("{model}-training"));
    let run_id = train["run_id"].as_str().expect("run id").to_owned();
    let run = gl.run(&run_id);
    assert_eq!(run["info"]["status"], "FINISHED", "{}", transcript_of(&o));
    for m in ["accuracy", "training_accuracy_score"] {
        assert!(
            run["data"]["metrics"]
                .as_array()
                .expect("metrics")
                .iter()
                .any(|x| x["key"] == m),
            "{m}: {}\n{}",
            run["data"]["metrics"],
            transcript_of(&o)
        );
    }
    let listed: Vec<String> = serde_json::from_str(
        &kv_str(&run["data"]["tags"], "mlops.model_files").expect("file list"),
    )
    .expect("a JSON list");
    assert!(listed.contains(&"model/MLmodel".to_owned()), "{listed:?}");
    assert_eq!(train["model_files"], json!(listed));
    let on_run = gl.files(&format!("candidate:{}", gl.iid(&run_id)));
    for f in &listed {
        assert!(
            on_run.contains_key(f),
            "{f} on the run: {:?}",
            on_run.keys()
        );
    }
    assert!(String::from_utf8_lossy(&on_run["model/MLmodel"]).contains("sklearn"));
    if generation == Generation::Current {
        // After the first upload GitLab names the run's files `mlflow-artifacts:/candidate:<iid>`.
        let uri = run["info"]["artifact_uri"].as_str().expect("uri");
        assert_eq!(
            uri,
            format!("mlflow-artifacts:/candidate:{}", gl.iid(&run_id))
        );
    }

    let o = stage(dir, &gl.uri, &["evaluate", "--model", &model], &ENV);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));

    for attempt in 0..2 {
        let o = stage(dir, &gl.uri, &["register", "--model", &model], &ENV);
        assert_eq!(
            o.status.code(),
            Some(0),
            "attempt {attempt}: {}",
            transcript_of(&o)
        );
    }
    let vs = gl.versions(&model);
    assert_eq!(
        vs.len(),
        1,
        "a retried register makes no second version: {vs:?}"
    );
    assert_eq!(
        vs[0]["aliases"],
        json!(["1.0.0"]),
        "the first version of a new model"
    );
    assert_eq!(
        kv_str(&vs[0]["tags"], "mlops.run_id").as_deref(),
        Some(run_id.as_str())
    );
    assert_ne!(
        vs[0]["run_id"], run_id,
        "GitLab gives the version its own candidate"
    );
    let version_id = vs[0]["version"].as_str().expect("id");
    let on_version = gl.files(version_id);
    for f in &listed {
        assert_eq!(on_version.get(f), on_run.get(f), "{f}, byte for byte");
    }
    let reg = report(dir, &format!("{model}/register.json"));
    assert_eq!(
        (&reg["model_files"], &reg["version"]),
        (&json!(listed), &json!("1.0.0"))
    );
    assert!(
        gl.unsupported().is_empty(),
        "called routes GitLab lacks: {:?}",
        gl.unsupported()
    );
}

#[test]
fn wine_cycle_current_gitlab() {
    wine_cycle(Generation::Current);
}

#[test]
fn wine_cycle_legacy_gitlab() {
    wine_cycle(Generation::Legacy);
}
