//! `mlops run train|evaluate|register` against the suite's real MLflow server
//! (`harness::mlflow_uri()`), with `flavour = "mlflow"` because the server sits under
//! GitLab's URL prefix. Each test uses its own experiment and model names.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, transcript_of, unique};

/// A REST call to the MLflow server, for setup and for checking its state.
pub fn rest(uri: &str, method: &str, endpoint: &str, body: &Value) -> Value {
    let url = format!("{uri}/api/2.0/mlflow/{endpoint}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = if method == "GET" {
        let mut rb = agent.get(&url);
        for (k, v) in body.as_object().into_iter().flatten() {
            rb = rb.query(k, v.as_str().unwrap_or_default());
        }
        rb.call().expect("GET")
    } else {
        agent.post(&url).send_json(body).expect("POST")
    };
    let text = resp.body_mut().read_to_string().expect("body");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// Creates an experiment and a finished run with these metrics; returns the run id.
pub fn seed_run(uri: &str, experiment: &str, metrics: &[(&str, f64)]) -> String {
    let e = rest(
        uri,
        "POST",
        "experiments/create",
        &json!({"name": experiment}),
    );
    let exp = match e["experiment_id"].as_str() {
        Some(id) => id.to_owned(),
        None => rest(
            uri,
            "GET",
            "experiments/get-by-name",
            &json!({"experiment_name": experiment}),
        )["experiment"]["experiment_id"]
            .as_str()
            .expect("experiment")
            .to_owned(),
    };
    let r = rest(uri, "POST", "runs/create", &json!({"experiment_id": exp}));
    let run = r["run"]["info"]["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    let ms: Vec<Value> = metrics
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v, "timestamp": 0, "step": 0}))
        .collect();
    rest(
        uri,
        "POST",
        "runs/log-batch",
        &json!({"run_id": run, "metrics": ms}),
    );
    // A `model` artifact, so register finds a model (through the server's artifact proxy).
    let put =
        format!("{uri}/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/model/MLmodel");
    let status = ureq::put(&put)
        .send(&b"artifact_path: model\n"[..])
        .expect("upload")
        .status();
    assert!(status.is_success(), "{status}");
    rest(
        uri,
        "POST",
        "runs/update",
        &json!({"run_id": run, "status": "FINISHED"}),
    );
    run
}

/// `mlops.toml` for one model against the test server.
pub fn write_config(dir: &Path, model: &str, extra: &str) {
    let toml = format!(
        "mlops-version = \"{}\"\n\n[mlflow]\nflavour = \"mlflow\"\n\n[model.{model}]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\ntraining_args = \"--data data/train.csv --test-data data/test.csv\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.85\n{extra}",
        env!("CARGO_PKG_VERSION")
    );
    std::fs::write(dir.join("mlops.toml"), toml).expect("write mlops.toml");
}

/// `mlops run ...` in `dir` against `uri`.
pub fn stage(dir: &Path, uri: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = harness::mlops();
    c.current_dir(dir)
        .arg("run")
        .args(args)
        .env("MLFLOW_TRACKING_URI", uri)
        .env("PATH", harness::test_path());
    if let Some(py) = harness::tool("python") {
        c.env("MLOPS_PYTHON", py);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("mlops runs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run_of(uri: &str, run: &str) -> Value {
    rest(uri, "GET", "runs/get", &json!({"run_id": run}))["run"].clone()
}

fn metric(run: &Value, key: &str) -> Option<f64> {
    harness::kv(&run["data"]["metrics"], key)?.as_f64()
}

#[test]
fn full_cycle_train_evaluate_register_compare() {
    let (Some(uri), Some(_py)) = (harness::mlflow_uri(), harness::python()) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    harness::copy_dir(&harness::root().join("examples/wine-classifier"), dir);
    let model = unique("wine-cycle");
    write_config(dir, &model, "alias = \"production\"\n");
    let ci = [
        ("CI_COMMIT_SHA", "abc123"),
        ("CI_PIPELINE_ID", "77"),
        ("CI_JOB_ID", "501"),
        ("CI_JOB_URL", "https://gl.example/job/501"),
        ("CI_COMMIT_REF_NAME", "main"),
    ];

    let o = stage(dir, &uri, &["train", "--model", &model], &ci);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let env = read(&dir.join(format!("mlops-reports/{model}/train.env")));
    let run_id = env
        .lines()
        .find_map(|l| l.strip_prefix("MLFLOW_RUN_ID="))
        .expect("run id")
        .to_owned();
    let run = run_of(&uri, &run_id);
    assert_eq!(run["info"]["status"], "FINISHED");
    let acc = metric(&run, "accuracy").expect("the script's own metric lands on the same run");
    assert!(
        metric(&run, "training_accuracy_score").is_some(),
        "autolog metrics land on the run"
    );
    let tags = run["data"]["tags"].as_array().expect("tags");
    assert!(
        tags.iter()
            .any(|t| t["key"] == "gitlab.CI_JOB_ID" && t["value"] == "501")
    );
    assert!(
        tags.iter()
            .any(|t| t["key"] == "mlflow.source.git.commit" && t["value"] == "abc123")
    );
    let train_json: Value = serde_json::from_str(&read(
        &dir.join(format!("mlops-reports/{model}/train.json")),
    ))
    .expect("json");
    assert_eq!(train_json["run_status"], "FINISHED");
    assert!(
        read(&dir.join(format!("mlops-reports/{model}/train.annotations.json"))).contains(&run_id)
    );

    // Gate 1 passes at the configured threshold, fails when a pipeline variable raises it.
    let run_env = [("MLFLOW_RUN_ID", run_id.as_str())];
    let o = stage(dir, &uri, &["evaluate", "--model", &model], &run_env);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert!(
        read(&dir.join(format!("mlops-reports/{model}/evaluate.env")))
            .contains("MLOPS_GATE_PASSED=true")
    );
    let above = format!("{}", acc + 0.01);
    let o = stage(
        dir,
        &uri,
        &["evaluate", "--model", &model],
        &[("MLFLOW_RUN_ID", &run_id), ("MLOPS_MIN_THRESHOLD", &above)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", transcript_of(&o));
    let junit = read(&dir.join(format!("mlops-reports/{model}/evaluate.junit.xml")));
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(
        read(&dir.join(format!("mlops-reports/{model}/evaluate.env")))
            .contains("MLOPS_GATE_PASSED=false")
    );
    assert!(read(&dir.join(format!("mlops-reports/{model}/metrics.txt"))).contains("accuracy "));

    // Register twice: one version, the alias, the tags.
    for _ in 0..2 {
        let o = stage(
            dir,
            &uri,
            &["register", "--model", &model],
            &[("MLFLOW_RUN_ID", &run_id), ("CI_PIPELINE_ID", "77")],
        );
        assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    }
    assert_eq!(
        read(&dir.join(format!("mlops-reports/{model}/register.env")))
            .lines()
            .next(),
        Some("MODEL_VERSION=1")
    );
    let filter = format!("name='{model}'");
    let versions = rest(
        &uri,
        "GET",
        "model-versions/search",
        &json!({"filter": filter}),
    );
    assert_eq!(
        versions["model_versions"].as_array().map(Vec::len),
        Some(1),
        "{versions}"
    );
    let v = rest(
        &uri,
        "GET",
        "registered-models/alias",
        &json!({"name": model, "alias": "production"}),
    );
    assert_eq!(v["model_version"]["version"], "1", "{v}");
    let vtags = v["model_version"]["tags"].as_array().expect("tags");
    assert!(
        vtags
            .iter()
            .any(|t| t["key"] == "mlops.run_id" && t["value"] == run_id.as_str())
    );
    assert!(
        vtags
            .iter()
            .any(|t| t["key"] == "mlops.pipeline_id" && t["value"] == "77")
    );
    assert!(vtags.iter().any(|t| t["key"] == "mlops.metric.accuracy"));

    // The next run against production (gate 2).
    let next = seed_run(&uri, &model, &[("accuracy", acc - 0.001)]);
    let o = stage(
        dir,
        &uri,
        &[
            "evaluate",
            "--model",
            &model,
            "--threshold",
            "0.1",
            "--compare-alias",
            "production",
        ],
        &[("MLFLOW_RUN_ID", &next)],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "worse than production must fail: {}",
        transcript_of(&o)
    );
    let ev: Value = serde_json::from_str(&read(
        &dir.join(format!("mlops-reports/{model}/evaluate.json")),
    ))
    .expect("json");
    assert_eq!(ev["production"]["version"], "1");
    assert_eq!(ev["gates"][1]["status"], "fail");
    let o = stage(
        dir,
        &uri,
        &[
            "evaluate",
            "--model",
            &model,
            "--threshold",
            "0.1",
            "--compare-alias",
            "production",
            "--min-improvement",
            "0",
        ],
        &[("MLFLOW_RUN_ID", &run_id)],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "equal to production passes with no required improvement: {}",
        transcript_of(&o)
    );
}

#[test]
fn crash_marks_failed_and_passes_exit_code() {
    let (Some(uri), Some(_py)) = (harness::mlflow_uri(), harness::python()) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("crash.py"),
        "import sys\nprint('about to crash')\nsys.exit(3)\n",
    )
    .expect("script");
    let exp = unique("crash");
    let o = stage(
        tmp.path(),
        &uri,
        &["train", "--script", "crash.py", "--experiment", &exp],
        &[("MLOPS_MLFLOW_FLAVOUR", "mlflow")],
    );
    assert_eq!(o.status.code(), Some(3), "{}", transcript_of(&o));
    let env = read(&tmp.path().join("mlops-reports/train.env"));
    let run_id = env
        .lines()
        .find_map(|l| l.strip_prefix("MLFLOW_RUN_ID="))
        .expect("run id");
    assert_eq!(run_of(&uri, run_id)["info"]["status"], "FAILED");
    assert!(String::from_utf8_lossy(&o.stderr).contains("about to crash"));
}

#[test]
fn sigterm_marks_killed() {
    let (Some(uri), Some(_py)) = (harness::mlflow_uri(), harness::python()) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("slow.py"),
        "import time\nprint('started', flush=True)\ntime.sleep(60)\n",
    )
    .expect("script");
    let exp = unique("sigterm");
    let mut c = harness::mlops();
    c.current_dir(tmp.path())
        .args(["run", "train", "--script", "slow.py", "--experiment", &exp])
        .env("MLFLOW_TRACKING_URI", &uri)
        .env("MLOPS_MLFLOW_FLAVOUR", "mlflow")
        .stderr(std::process::Stdio::piped());
    if let Some(py) = harness::tool("python") {
        c.env("MLOPS_PYTHON", py);
    }
    let mut child = c.spawn().expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut log = Vec::new();
    while Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            let started = l.contains("started");
            log.push(l);
            if started {
                break;
            }
        }
    }
    assert!(log.iter().any(|l| l.contains("started")), "{log:?}");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .expect("kill");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(143));
    let env = read(&tmp.path().join("mlops-reports/train.env"));
    let run_id = env
        .lines()
        .find_map(|l| l.strip_prefix("MLFLOW_RUN_ID="))
        .expect("run id");
    assert_eq!(run_of(&uri, run_id)["info"]["status"], "KILLED");
}

#[test]
fn server_down_exits_75_within_budget_and_never_shows_the_token() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let uri = crate::harness::unreachable_mlflow_uri();
    let token = "glpat-SECRET-token-123";
    let start = Instant::now();
    let o = stage(
        tmp.path(),
        &uri,
        &[
            "evaluate",
            "--run-id",
            "abc",
            "--metric",
            "acc",
            "--threshold",
            "0.5",
        ],
        &[
            ("MLFLOW_TRACKING_TOKEN", token),
            ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3"),
            ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
            ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0.1"),
        ],
    );
    // Waits: 0 + (0 + 0.1) + (0 + 0.1) s, plus instant connection refusals. The factor is
    // an integer, as MLflow reads it.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(o.status.code(), Some(75), "{}", transcript_of(&o));
    let all = transcript_of(&o);
    assert!(all.contains("after 4 attempts"), "{all}");
    assert!(!all.contains(token));
}
