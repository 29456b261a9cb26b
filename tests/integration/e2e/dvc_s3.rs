//! Scenario 5: data and model in an S3 bucket through DVC.

use std::process::Command;

use serde_json::{Value, json};

use super::{
    Repo, Vars, WINE_JOBS, agent, assert_registered, assert_trained, run_pipeline, serial, servers,
    timer, unique,
};
use crate::harness;

/// 5. `dvc-s3`: the data lives in a moto bucket. Validate and train pull it, train pushes
///    the model back, and the bucket holds the data and the model afterwards.
#[test]
fn dvc_s3_pulls_and_pushes() {
    let Some(srv) = servers() else { return };
    let Some(s3) = harness::s3_url() else { return };
    let Some(dvc) = harness::require_tool("dvc") else {
        return;
    };
    let _serial = serial();
    let _t = timer("dvc_s3_pulls_and_pushes");
    let experiment = unique("dvc-exp");
    let registered = unique("dvc-model");
    let bucket = unique("bucket");
    let aws = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", s3.as_str()),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ];
    let repo = Repo::new("dvc-s3");
    let dvc_run = |args: &[&str]| {
        let mut cmd = Command::new(&dvc);
        cmd.args(args)
            .current_dir(repo.path())
            .env("PATH", harness::test_path());
        for (k, v) in aws {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("dvc runs");
        assert!(
            out.status.success(),
            "dvc {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let resp = agent()
        .put(&format!("{s3}/{bucket}"))
        .send_empty()
        .expect("PUT bucket");
    assert_eq!(resp.status().as_u16(), 200, "bucket {bucket} created");
    dvc_run(&["init", "-q"]);
    dvc_run(&["remote", "add", "storage", &format!("s3://{bucket}/store")]);
    dvc_run(&["add", "-q", "data/train.csv", "data/test.csv"]);
    dvc_run(&["push", "-r", "storage"]);
    for f in ["data/train.csv.dvc", "data/test.csv.dvc", "data/.gitignore"] {
        assert!(repo.path().join(f).is_file(), "{f}");
    }
    for f in ["data/train.csv", "data/test.csv"] {
        std::fs::remove_file(repo.path().join(f)).expect("remove data");
    }
    // The DVC cache stays out of the jobs: they must pull from the bucket.
    std::fs::remove_dir_all(repo.path().join(".dvc/cache")).expect("remove cache");
    let commit = repo.commit("data tracked by DVC in S3");
    let data_md5: Vec<String> = ["data/train.csv.dvc", "data/test.csv.dvc"]
        .iter()
        .map(|f| dvc_md5(&std::fs::read_to_string(repo.path().join(f)).expect("read .dvc")))
        .collect();
    let before = s3_keys(&s3, &bucket);
    for md5 in &data_md5 {
        assert!(before.contains(&md5_key(md5)), "{md5} pushed: {before:?}");
    }

    let mut vars = vec![
        ("MLOPS_EXPERIMENT", experiment.as_str()),
        ("MLOPS_REGISTERED_MODEL", registered.as_str()),
    ];
    vars.extend(aws);
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert_eq!(p.code, Some(0), "{}", p.log);

    let run_id = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit,
    );
    assert_registered(&srv, &registered, "staging", &run_id, &commit);
    let train: Value = serde_json::from_str(&repo.artifact(
        "wine-classifier:train",
        "mlops-reports/wine-classifier/train.json",
    ))
    .expect("train.json");
    assert_eq!(
        train["dvc"]["pushed"],
        json!(["models/wine.pkl"]),
        "{train}"
    );
    // The model's .dvc file, written in the train job's build directory, names the object
    // that must now be in the bucket.
    let model_dvc = repo
        .path()
        .join(".gitlab-ci-local/builds/wine-classifierOgtrain/models/wine.pkl.dvc");
    let model_md5 = dvc_md5(
        &std::fs::read_to_string(&model_dvc)
            .unwrap_or_else(|e| panic!("{}: {e}", model_dvc.display())),
    );
    let after = s3_keys(&s3, &bucket);
    assert!(
        after.contains(&md5_key(&model_md5)),
        "model pushed: {after:?}"
    );
    for k in &before {
        assert!(after.contains(k), "{k} still in the bucket");
    }
    assert_eq!(after.len(), before.len() + 1, "{before:?} → {after:?}");
}

/// The `md5:` of a `.dvc` file's single output.
fn dvc_md5(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().trim_start_matches("- ").strip_prefix("md5: "))
        .map_or_else(|| panic!("md5 in .dvc: {text}"), |s| s.trim().to_owned())
}

/// Where DVC 3 stores an object under the remote `s3://<bucket>/store`.
fn md5_key(md5: &str) -> String {
    format!("store/files/md5/{}/{}", &md5[..2], &md5[2..])
}

/// Every key in the bucket (moto answers an unsigned `ListObjectsV2`).
fn s3_keys(s3: &str, bucket: &str) -> Vec<String> {
    let mut resp = agent()
        .get(&format!("{s3}/{bucket}"))
        .query("list-type", "2")
        .call()
        .expect("list objects");
    let body = resp.body_mut().read_to_string().expect("body");
    assert_eq!(resp.status().as_u16(), 200, "{body}");
    assert!(!body.contains("<IsTruncated>true"), "{body}");
    body.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_owned()))
        .collect()
}
