//! Answers lost on the way back: what was done is found again, not done twice.

use super::report;
use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of, unique};
use crate::runtime::stage;

/// Lost answers: the files tag set by a retried `set-tag` and a version created by a
/// `model-versions/create` whose answer never came are found again, not made twice.
#[test]
fn lost_answers_are_found_not_repeated() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("train.py"),
        "import os\nd = os.environ['MLOPS_MODEL_DIR']\nos.makedirs(os.path.join(d, 'weights'), exist_ok=True)\nopen(os.path.join(d, 'weights', 'w.bin'), 'wb').write(b'\\x00\\x01')\nopen(os.path.join(d, 'card.md'), 'w').write('model card')\n",
    )
    .expect("script");
    gl.lose_answer("POST runs/set-tag");
    let env = [
        ("MLFLOW_TRACKING_TOKEN", TOKEN),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
    ];
    let o = stage(
        dir,
        &gl.uri,
        &["train", "--script", "train.py", "--experiment", "plain"],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let run_id = report(dir, "train.json")["run_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let files = gl.files(&format!("candidate:{}", gl.iid(&run_id)));
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        ["card.md", "weights/w.bin"]
    );
    assert_eq!(files["weights/w.bin"], vec![0u8, 1]);

    let model = unique("gl-lost");
    gl.lose_answer("POST model-versions/create");
    let reg = ["register", "--name", &model, "--run-id", &run_id];
    let o = stage(dir, &gl.uri, &reg, &env);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("checking whether the version was created")
    );
    let vs = gl.versions(&model);
    assert_eq!(vs.len(), 1, "{vs:?}");
    let files_on_version = gl.files(vs[0]["version"].as_str().expect("id"));
    assert_eq!(files_on_version, files);
    assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
}
