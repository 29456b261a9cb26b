//! The server going away during training, and signals during retry waits: the exit code says
//! what happened (75 for an unavailable server, 128+n for a signal), `train.json` says what
//! the server holds, and a signal never waits out the retries.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::proxy::{Fault, Proxy, Rule};
use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of};

/// `mlops run train` in `dir` against `uri`, started and left running.
pub fn spawn_train(dir: &Path, uri: &str, env: &[(&str, &str)]) -> Child {
    let mut c = harness::mlops();
    c.current_dir(dir)
        .args([
            "run",
            "train",
            "--script",
            "train.py",
            "--experiment",
            "faulty",
        ])
        .env("MLFLOW_TRACKING_URI", uri)
        .env("MLFLOW_TRACKING_TOKEN", TOKEN)
        .env("PATH", harness::test_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(py) = harness::tool("python") {
        c.env("MLOPS_PYTHON", py);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().expect("mlops runs")
}

/// Waits until `cond` holds, at most `limit`.
pub fn wait_for(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Sends SIGTERM to `child`.
pub fn terminate(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(ok.success());
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("mlops-reports/train.json")).expect("train.json");
    serde_json::from_str(&text).expect("json")
}

fn finish(child: Child) -> (Output, String) {
    let o = child.wait_with_output().expect("waits");
    let t = transcript_of(&o);
    (o, t)
}

const FAST: [(&str, &str); 3] = [
    ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1"),
    ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
    ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"),
];

#[test]
fn server_gone_after_the_run_exists_is_75_and_the_report_says_running() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let proxy = Proxy::start(&gl.uri, vec![]);
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("train.py"),
        "import time, mlflow\ntime.sleep(1)\nmlflow.log_metric('m', 1.0)\n",
    )
    .expect("script");
    let child = spawn_train(tmp.path(), &proxy.uri, &FAST);
    assert!(wait_for(Duration::from_secs(20), || proxy
        .count("POST", "runs/create")
        > 0));
    proxy.add(Rule::new("*", "/", Fault::Down, None));
    let (o, all) = finish(child);
    assert_eq!(o.status.code(), Some(75), "{all}");
    let r = report(tmp.path());
    let run_id = r["run_id"].as_str().expect("run id");
    assert_eq!(r["run_status"], "RUNNING", "{r}");
    assert_eq!(r["exit"], 75, "{r}");
    assert_eq!(gl.run(run_id)["info"]["status"], "RUNNING");
}

#[test]
fn sigterm_ends_a_retry_wait_at_once() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let proxy = Proxy::start(
        &gl.uri,
        vec![Rule::new(
            "POST",
            "runs/create",
            Fault::Status(503, None),
            None,
        )],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("train.py"), "print('never')\n").expect("script");
    // Default retries: 0, 4, 8, 16, ... seconds of waiting.
    let child = spawn_train(
        tmp.path(),
        &proxy.uri,
        &[("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")],
    );
    assert!(wait_for(Duration::from_secs(20), || proxy
        .count("POST", "runs/create")
        >= 2));
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    terminate(&child);
    let (o, all) = finish(child);
    assert_eq!(o.status.code(), Some(143), "{all}");
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}: {all}",
        sent.elapsed()
    );
    assert!(!all.contains("never"), "{all}");
}

#[test]
fn sigterm_during_retries_after_training_marks_the_run_killed() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let proxy = Proxy::start(
        &gl.uri,
        vec![Rule::new(
            "POST",
            "runs/set-tag",
            Fault::Status(503, None),
            None,
        )],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("train.py"),
        "import os\nopen(os.path.join(os.environ['MLOPS_MODEL_DIR'], 'm.bin'), 'wb').write(b'1')\n",
    )
    .expect("script");
    let child = spawn_train(
        tmp.path(),
        &proxy.uri,
        &[("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")],
    );
    assert!(wait_for(Duration::from_secs(60), || proxy
        .count("POST", "runs/set-tag")
        >= 2));
    let sent = Instant::now();
    terminate(&child);
    let (o, all) = finish(child);
    assert_eq!(o.status.code(), Some(143), "{all}");
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}: {all}",
        sent.elapsed()
    );
    let r = report(tmp.path());
    assert_eq!(
        (r["status"].as_str(), r["run_status"].as_str()),
        (Some("killed"), Some("KILLED")),
        "{r}"
    );
    let run_id = r["run_id"].as_str().expect("run id");
    assert_eq!(gl.run(run_id)["info"]["status"], "KILLED");
}
