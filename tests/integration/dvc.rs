//! DVC around `mlops run train`, with real DVC and the suite's moto S3 server
//! (`harness::s3_url()`): data pulled before the script, the model pushed after it, and
//! clear errors for a missing bucket and a missing `dvc`.

use std::path::Path;
use std::process::Command;

use crate::harness::{self, unique};
use crate::runtime::stage;

const SCRIPT: &str = "import os, sys\nrows = open('data/train.csv').read().count('\\n')\nos.makedirs('models', exist_ok=True)\nopen('models/out.bin', 'w').write(f'rows={rows}')\nprint('trained on', rows, 'rows')\n";

fn run(dir: &Path, program: &Path, args: &[&str], s3: &str) {
    let o = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", s3)
        .env("DVC_NO_ANALYTICS", "1")
        .output()
        .expect("runs");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A git + DVC repository whose data is pushed to `bucket`, then removed locally.
fn project(dir: &Path, dvc: &Path, s3: &str, bucket: &str, model: &str) {
    std::fs::write(dir.join("train.py"), SCRIPT).expect("script");
    let toml = format!(
        "mlops-version = \"{}\"\n\n[mlflow]\nflavour = \"mlflow\"\n\n[model.{model}]\nframework = \"sklearn\"\ntraining_script = \"train.py\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.5\ndvc_enabled = true\ndvc_remote = \"storage\"\ndvc_files = [\"data/train.csv.dvc\"]\ndvc_push = true\ndvc_push_paths = [\"models/out.bin\"]\n",
        env!("CARGO_PKG_VERSION")
    );
    std::fs::write(dir.join("mlops.toml"), toml).expect("toml");
    harness::git_repo(dir);
    // Data is created after the commit: DVC refuses files git already tracks.
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    std::fs::write(dir.join("data/train.csv"), "a,b\n1,2\n3,4\n").expect("data");
    run(dir, dvc, &["init", "-q"], s3);
    run(
        dir,
        dvc,
        &["remote", "add", "storage", &format!("s3://{bucket}/store")],
        s3,
    );
    run(dir, dvc, &["add", "data/train.csv"], s3);
    // moto needs the bucket first; DVC does not create it.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let _ = agent.put(&format!("{s3}/{bucket}")).send_empty();
    run(dir, dvc, &["push", "-r", "storage"], s3);
    std::fs::remove_file(dir.join("data/train.csv")).expect("rm");
    std::fs::remove_dir_all(dir.join(".dvc/cache")).expect("rm cache");
}

fn aws(s3: &str) -> [(&'static str, String); 4] {
    [
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", s3.to_owned()),
    ]
}

#[test]
fn train_pulls_data_and_pushes_the_model() {
    let (Some(uri), Some(s3), Some(dvc)) = (
        harness::mlflow_uri(),
        harness::s3_url(),
        harness::require_tool("dvc"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let bucket = unique("dvc").to_lowercase();
    let model = unique("dvc-model");
    project(dir, &dvc, &s3, &bucket, &model);
    let env = aws(&s3);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = stage(dir, &uri, &["train", "--model", &model], &env);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("trained on 3 rows"),
        "the pulled data reached the script: {err}"
    );
    assert!(
        dir.join("models/out.bin.dvc").is_file(),
        "the model is tracked"
    );
    // The pushed model comes back from the bucket alone.
    std::fs::remove_file(dir.join("models/out.bin")).expect("rm");
    std::fs::remove_dir_all(dir.join(".dvc/cache")).expect("rm cache");
    run(
        dir,
        &dvc,
        &["pull", "-r", "storage", "models/out.bin.dvc"],
        &s3,
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("models/out.bin")).expect("model"),
        "rows=3"
    );

    // A push that fails leaves the run FAILED: its outputs are not stored.
    let toml = std::fs::read_to_string(dir.join("mlops.toml")).expect("toml");
    std::fs::write(
        dir.join("mlops.toml"),
        toml.replace("models/out.bin", "models/never-written.bin"),
    )
    .expect("write");
    let o = stage(dir, &uri, &["train", "--model", &model], &env);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("mlops-reports/{model}/train.json")))
            .expect("train.json"),
    )
    .expect("json");
    let run_id = summary["run_id"].as_str().expect("run id");
    let run = crate::runtime::rest(
        &uri,
        "GET",
        "runs/get",
        &serde_json::json!({ "run_id": run_id }),
    );
    assert_eq!(run["run"]["info"]["status"], "FAILED", "{err}");
    assert_eq!(summary["run_status"], "FAILED");
}

#[test]
fn missing_bucket_and_missing_dvc_are_clear_errors() {
    let (Some(uri), Some(s3), Some(dvc)) = (
        harness::mlflow_uri(),
        harness::s3_url(),
        harness::require_tool("dvc"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let model = unique("dvc-missing");
    project(dir, &dvc, &s3, &unique("dvcm").to_lowercase(), &model);
    run(
        dir,
        &dvc,
        &[
            "remote",
            "modify",
            "storage",
            "url",
            "s3://no-such-bucket-mlops/store",
        ],
        &s3,
    );
    let env = aws(&s3);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = stage(dir, &uri, &["train", "--model", &model], &env);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("missing bucket"), "{err}");

    let o = stage(
        dir,
        &uri,
        &["train", "--model", &model],
        &[("MLOPS_DVC", "/nonexistent/dvc")],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("`dvc` is not installed"), "{err}");
}
