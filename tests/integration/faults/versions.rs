//! `model-versions/create` completed by the server after the client gave up: register waits
//! for the late version instead of making a second one.

use std::time::Duration;

use serde_json::json;

use super::proxy::{Fault, Proxy, Rule};
use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of, unique};
use crate::runtime::{rest, seed_run, stage};

/// The client waits 1 s per request and retries at once; the proxy answers after 3 s.
const IMPATIENT: [(&str, &str); 3] = [
    ("MLFLOW_HTTP_REQUEST_TIMEOUT", "1"),
    ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
    ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"),
];

fn late_create() -> Rule {
    Rule::new(
        "POST",
        "model-versions/create",
        Fault::Delay(Duration::from_secs(3)),
        Some(1),
    )
}

#[test]
fn gitlab_late_version_is_found_not_repeated() {
    let gl = Replica::start(Generation::Current);
    let run = gl.seed_run("late", &[("accuracy", 0.9)]);
    let proxy = Proxy::start(&gl.uri, vec![late_create()]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = unique("late");
    let mut env = IMPATIENT.to_vec();
    env.push(("MLFLOW_TRACKING_TOKEN", TOKEN));
    let o = stage(
        tmp.path(),
        &proxy.uri,
        &["register", "--name", &model, "--run-id", &run],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("the unanswered request created version"),
        "{all}"
    );
    assert_eq!(gl.versions(&model).len(), 1, "{all}");
    assert_eq!(
        proxy.count("POST", "model-versions/create"),
        1,
        "{:?}",
        proxy.log()
    );
}

#[test]
fn mlflow_late_version_is_found_not_repeated() {
    let Some(uri) = harness::mlflow_uri() else {
        return;
    };
    let model = unique("late");
    let run = seed_run(&uri, &model, &[("accuracy", 0.9)]);
    let proxy = Proxy::start(&uri, vec![late_create()]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut env = IMPATIENT.to_vec();
    env.push(("MLOPS_MLFLOW_FLAVOUR", "mlflow"));
    let o = stage(
        tmp.path(),
        &proxy.uri,
        &["register", "--name", &model, "--run-id", &run],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    // Let the delayed first request reach the server, as it would in the end.
    std::thread::sleep(Duration::from_secs(4));
    let v = rest(
        &uri,
        "GET",
        "model-versions/search",
        &json!({"filter": format!("name='{model}'")}),
    );
    assert_eq!(v["model_versions"].as_array().map(Vec::len), Some(1), "{v}");
}
