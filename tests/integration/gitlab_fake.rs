//! An in-memory stand-in for GitLab's MLflow-compatible API, for what no local server shows:
//! GitLab's endpoint subset, SemVer versions, and no aliases. It copies the documented
//! behaviour of:
//!
//! - `doc/user/project/ml/experiment_tracking/mlflow_client.md` (supported client methods);
//! - `lib/api/ml/mlflow/{experiments,runs,registered_models,model_versions}.rb` (endpoints;
//!   anything else is Grape's `404 Not Found`);
//! - `lib/api/entities/ml/mlflow/model_version.rb` (`version` is the model-version **id**, the
//!   SemVer is in `aliases`);
//! - `app/services/ml/create_model_version_service.rb` and `increment_version_service.rb`
//!   (the `gitlab.version` tag picks the SemVer, otherwise the major is incremented);
//! - `lib/api/ml/mlflow/entrypoint.rb` (errors `{error_code, message}`, Bearer token);
//! - `lib/api/entities/ml/mlflow/run_info.rb` and `app/models/ml/candidate.rb` (a run's
//!   `artifact_uri` is `…/packages/generic/ml_experiment_<exp iid>/<run iid>/`);
//! - `doc/api/model_registry.md` and `lib/api/ml_model_packages.rb` (model files under
//!   `packages/ml_models/<model version id | candidate:<iid>>/files/(<path>/)<file>`: a raw-body
//!   `PUT` answered 201, as Workhorse's request-body uploader forwards it, and `GET`; the
//!   version or candidate must exist; file names match `[A-Za-z0-9._+\- ]+`);
//! - `doc/user/packages/generic_packages/_index.md` (`PUT packages/generic/<name>/<version>/<file>`,
//!   where MLflow's own `log_artifact` sends a run's artifacts).
//!
//! Summarised in `specs/gitlab-and-mlflow.md` §2.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::runtime::{stage, unique};

#[derive(Default)]
struct State {
    port: u16,
    experiments: Vec<(String, String)>,
    runs: BTreeMap<String, Value>,
    /// Run ids by candidate iid - 1.
    candidates: Vec<String>,
    models: Vec<String>,
    versions: Vec<Value>,
    /// Package files by (`candidate:<iid>` or version id, path).
    files: BTreeMap<(String, String), Vec<u8>>,
    unsupported: Vec<String>,
}

impl State {
    /// A new candidate: GitLab's run info, with the artifact URI of its generic package.
    fn new_run(&mut self, experiment_id: &str, status: &str, tags: Value) -> Value {
        let id = format!("{:032x}", self.runs.len() + 1000);
        self.candidates.push(id.clone());
        let iid = self.candidates.len();
        let artifact_uri = format!(
            "http://127.0.0.1:{}/api/v4/projects/1/packages/generic/ml_experiment_{experiment_id}/{iid}/",
            self.port
        );
        let run = json!({
            "info": {"run_id": id, "run_uuid": id, "experiment_id": experiment_id, "status": status,
                     "start_time": 0, "artifact_uri": artifact_uri, "lifecycle_stage": "active", "user_id": "1"},
            "data": {"metrics": [], "params": [], "tags": if tags.is_array() { tags } else { json!([]) }},
        });
        self.runs.insert(id, run.clone());
        run
    }
}

/// Sets `key` in a list of `{key, value, ...}` objects, replacing an entry with that key.
fn upsert(list: &mut Value, item: &Value) {
    if !list.is_array() {
        *list = json!([]);
    }
    let items = list.as_array_mut().expect("array");
    items.retain(|x| x["key"] != item["key"]);
    items.push(item.clone());
}

/// The fake server.
pub struct GitlabFake {
    /// Tracking URI (`.../api/v4/projects/1/ml/mlflow`).
    pub uri: String,
    state: Arc<Mutex<State>>,
}

const PREFIX: &str = "/api/v4/projects/1/ml/mlflow/api/2.0/mlflow/";
const TOKEN: &str = "glpat-fake-token";

fn err(status: u16, code: &str, message: &str) -> (u16, Value) {
    (status, json!({"error_code": code, "message": message}))
}

fn semver_key(v: &str) -> (u64, u64, u64) {
    let mut p = v.split(['.', '-']).map(|x| x.parse::<u64>().unwrap_or(0));
    (
        p.next().unwrap_or(0),
        p.next().unwrap_or(0),
        p.next().unwrap_or(0),
    )
}

fn handle(
    st: &mut State,
    method: &str,
    endpoint: &str,
    q: &BTreeMap<String, String>,
    body: &Value,
) -> (u16, Value) {
    let s = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| q.get(k).cloned())
            .unwrap_or_default()
    };
    match (method, endpoint) {
        ("GET", "experiments/get-by-name") => match st
            .experiments
            .iter()
            .find(|(_, n)| *n == s("experiment_name"))
        {
            Some((id, n)) => (200, json!({"experiment": {"experiment_id": id, "name": n}})),
            None => err(404, "RESOURCE_DOES_NOT_EXIST", "Experiment not found"),
        },
        ("POST", "experiments/create") => {
            let id = (st.experiments.len() + 1).to_string();
            st.experiments.push((id.clone(), s("name")));
            (200, json!({"experiment_id": id}))
        }
        ("GET", "experiments/get") => match st
            .experiments
            .iter()
            .find(|(id, _)| *id == s("experiment_id"))
        {
            Some((id, n)) => (
                200,
                json!({"experiment": {"experiment_id": id, "name": n, "lifecycle_stage": "active"}}),
            ),
            None => err(404, "RESOURCE_DOES_NOT_EXIST", "Experiment not found"),
        },
        ("POST", "runs/create") => {
            let run = st.new_run(&s("experiment_id"), "RUNNING", body["tags"].clone());
            (200, json!({"run": run}))
        }
        ("POST", "runs/log-batch" | "runs/log-metric" | "runs/log-parameter" | "runs/set-tag") => {
            let Some(run) = st.runs.get_mut(&s("run_id")) else {
                return err(404, "RESOURCE_DOES_NOT_EXIST", "Candidate not found");
            };
            let (metrics, params, tags) = match endpoint {
                "runs/log-batch" => (
                    body["metrics"].clone(),
                    body["params"].clone(),
                    body["tags"].clone(),
                ),
                "runs/log-metric" => (json!([body]), json!([]), json!([])),
                "runs/log-parameter" => (json!([]), json!([body]), json!([])),
                _ => (json!([]), json!([]), json!([body])),
            };
            for m in metrics.as_array().into_iter().flatten() {
                let m = json!({"key": m["key"], "value": m["value"], "timestamp": m["timestamp"], "step": m["step"]});
                upsert(&mut run["data"]["metrics"], &m);
            }
            for p in params.as_array().into_iter().flatten() {
                let p = json!({"key": p["key"], "value": p["value"]});
                upsert(&mut run["data"]["params"], &p);
            }
            for t in tags.as_array().into_iter().flatten() {
                let t = json!({"key": t["key"], "value": t["value"]});
                upsert(&mut run["data"]["tags"], &t);
            }
            (200, json!({}))
        }
        ("GET", "runs/get") => match st.runs.get(&s("run_id")) {
            Some(r) => (200, json!({"run": r})),
            None => err(404, "RESOURCE_DOES_NOT_EXIST", "Candidate not found"),
        },
        ("POST", "runs/update") => match st.runs.get_mut(&s("run_id")) {
            Some(r) => {
                r["info"]["status"] = json!(s("status"));
                if let Some(end) = body.get("end_time") {
                    r["info"]["end_time"] = end.clone();
                }
                (200, json!({"run_info": r["info"]}))
            }
            None => err(404, "RESOURCE_DOES_NOT_EXIST", "Candidate not found"),
        },
        ("GET", "registered-models/get") => {
            if st.models.contains(&s("name")) {
                (200, json!({"registered_model": {"name": s("name")}}))
            } else {
                err(404, "RESOURCE_DOES_NOT_EXIST", "Model not found")
            }
        }
        ("POST", "registered-models/create") => {
            let name = s("name");
            if st.models.contains(&name) || st.experiments.iter().any(|(_, n)| *n == name) {
                return err(
                    400,
                    "RESOURCE_ALREADY_EXISTS",
                    "Name has already been taken",
                );
            }
            st.models.push(name.clone());
            // Tags are ignored on GitLab.
            (200, json!({"registered_model": {"name": name, "tags": []}}))
        }
        ("POST", "registered-models/get-latest-versions") => {
            let latest = st
                .versions
                .iter()
                .filter(|v| v["name"] == s("name").as_str())
                .max_by_key(|v| semver_key(v["aliases"][0].as_str().unwrap_or_default()));
            (
                200,
                json!({"model_versions": latest.into_iter().collect::<Vec<_>>()}),
            )
        }
        ("GET", "model-versions/get" | "registered-models/alias") => {
            // `alias` is read as a SemVer version string: there are no real aliases.
            let version = if endpoint.ends_with("alias") {
                s("alias")
            } else {
                s("version")
            };
            match st
                .versions
                .iter()
                .find(|v| v["name"] == s("name").as_str() && v["aliases"][0] == version.as_str())
            {
                Some(v) => (200, json!({"model_version": v})),
                None => err(404, "RESOURCE_DOES_NOT_EXIST", "Model version not found"),
            }
        }
        ("POST", "model-versions/create") => {
            let name = s("name");
            if !st.models.contains(&name) {
                return err(404, "RESOURCE_DOES_NOT_EXIST", "Model not found");
            }
            let tags = body["tags"].as_array().cloned().unwrap_or_default();
            let semver = tags
                .iter()
                .find(|t| t["key"] == "gitlab.version")
                .and_then(|t| t["value"].as_str())
                .map_or_else(
                    || {
                        let major = st
                            .versions
                            .iter()
                            .filter(|v| v["name"] == name.as_str())
                            .map(|v| semver_key(v["aliases"][0].as_str().unwrap_or_default()).0)
                            .max();
                        format!("{}.0.0", major.map_or(1, |m| m + 1))
                    },
                    str::to_owned,
                );
            if st
                .versions
                .iter()
                .any(|v| v["name"] == name.as_str() && v["aliases"][0] == semver.as_str())
            {
                return err(
                    400,
                    "RESOURCE_ALREADY_EXISTS",
                    "Version has already been taken",
                );
            }
            let id = (st.versions.len() + 100).to_string();
            let v = json!({"name": name, "version": id, "aliases": [semver], "tags": tags, "run_id": "", "current_stage": "development", "status": "READY"});
            st.versions.push(v.clone());
            (200, json!({"model_version": v}))
        }
        _ => {
            st.unsupported.push(format!("{method} {endpoint}"));
            (404, json!({"error": "404 Not Found"}))
        }
    }
}

fn serve(mut stream: TcpStream, state: &Arc<Mutex<State>>) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let (mut len, mut auth) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((&h, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().unwrap_or(0),
            "authorization" => v.trim().clone_into(&mut auth),
            _ => {}
        }
    }
    let mut raw = vec![0; len];
    let _ = reader.read_exact(&mut raw);
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let q: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect();
    let (status, content_type, answer) = if auth != format!("Bearer {TOKEN}") {
        (
            401,
            "application/json",
            json!({"message": "401 Unauthorized"})
                .to_string()
                .into_bytes(),
        )
    } else if let Some(endpoint) = path.strip_prefix(PREFIX) {
        let mut st = state.lock().expect("state");
        let (status, v) = handle(&mut st, &method, endpoint, &q, &body);
        (status, "application/json", v.to_string().into_bytes())
    } else if let (Some(rest), "PUT") = (path.strip_prefix(GENERIC), method.as_str()) {
        // MLflow's `log_artifact` PUTs to the run's artifact URI, a generic package.
        let mut st = state.lock().expect("state");
        st.files.insert(("generic".to_owned(), decode(rest)), raw);
        (
            201,
            "application/json",
            json!({"message": "201 Created"}).to_string().into_bytes(),
        )
    } else if let Some(rest) = path.strip_prefix(PACKAGES) {
        let mut st = state.lock().expect("state");
        package(&mut st, &method, rest, raw)
    } else {
        (
            404,
            "application/json",
            json!({"error": "404 Not Found"}).to_string().into_bytes(),
        )
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(&answer);
}

const PACKAGES: &str = "/api/v4/projects/1/packages/ml_models/";
const GENERIC: &str = "/api/v4/projects/1/packages/generic/";

/// `packages/ml_models/:model_version_id/files/(*path/):file_name`.
fn package(
    st: &mut State,
    method: &str,
    rest: &str,
    body: Vec<u8>,
) -> (u16, &'static str, Vec<u8>) {
    let not_found = || {
        (
            404,
            "application/json",
            json!({"message": "404 Not Found"}).to_string().into_bytes(),
        )
    };
    let Some((owner, file)) = rest.split_once("/files/") else {
        return not_found();
    };
    let owner = decode(owner);
    let file = decode(file);
    let exists = match owner.strip_prefix("candidate:") {
        Some(iid) => iid
            .parse::<usize>()
            .is_ok_and(|i| i >= 1 && i <= st.candidates.len()),
        None => st.versions.iter().any(|v| v["version"] == owner.as_str()),
    };
    if !exists {
        return not_found();
    }
    let name = file.rsplit('/').next().unwrap_or_default();
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-' | b' '));
    match method {
        "PUT" if name_ok => {
            st.files.insert((owner, file), body);
            (
                201,
                "application/json",
                json!({"message": "201 Created"}).to_string().into_bytes(),
            )
        }
        "PUT" => (
            400,
            "application/json",
            json!({"error": "file_name is invalid"})
                .to_string()
                .into_bytes(),
        ),
        "GET" => match st.files.get(&(owner, file)) {
            Some(bytes) => (200, "application/octet-stream", bytes.clone()),
            None => not_found(),
        },
        _ => {
            st.unsupported
                .push(format!("{method} packages/ml_models/{rest}"));
            not_found()
        }
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl GitlabFake {
    /// Starts the fake on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State {
            port,
            ..State::default()
        }));
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            for s in listener.incoming().flatten() {
                let st = Arc::clone(&st);
                std::thread::spawn(move || serve(s, &st));
            }
        });
        Self {
            uri: format!("http://127.0.0.1:{port}/api/v4/projects/1/ml/mlflow"),
            state,
        }
    }

    /// A finished run with metrics.
    pub fn seed_run(&self, metrics: &[(&str, f64)]) -> String {
        let mut st = self.state.lock().expect("state");
        let run = st.new_run("1", "FINISHED", json!([]));
        let id = run["info"]["run_id"].as_str().expect("id").to_owned();
        let ms: Vec<Value> = metrics
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        st.runs.get_mut(&id).expect("run")["data"]["metrics"] = json!(ms);
        id
    }

    fn versions(&self, name: &str) -> Vec<Value> {
        self.state
            .lock()
            .expect("state")
            .versions
            .iter()
            .filter(|v| v["name"] == name)
            .cloned()
            .collect()
    }
}

fn tag(v: &Value, key: &str) -> Option<String> {
    v["tags"].as_array()?.iter().find(|t| t["key"] == key)?["value"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn register_and_evaluate_against_gitlab_subset() {
    let fake = GitlabFake::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let model = unique("gl-model");
    let env_token = [("MLFLOW_TRACKING_TOKEN", TOKEN)];
    let run1 = fake.seed_run(&[("accuracy", 0.90)]);
    let reg = |run: &str, alias: &str| {
        stage(
            dir,
            &fake.uri,
            &[
                "register", "--name", &model, "--alias", alias, "--metric", "accuracy", "--run-id",
                run,
            ],
            &env_token,
        )
    };
    // The token comes from the variable named by token_variable's default too.
    let o = stage(
        dir,
        &fake.uri,
        &[
            "register",
            "--name",
            &model,
            "--alias",
            "production",
            "--metric",
            "accuracy",
            "--run-id",
            &run1,
        ],
        &[("MLOPS_ACCESS_TOKEN", TOKEN)],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = reg(&run1, "production");
    assert_eq!(
        o.status.code(),
        Some(0),
        "retry: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let vs = fake.versions(&model);
    assert_eq!(vs.len(), 1, "a retried register makes no second version");
    assert_eq!(vs[0]["aliases"][0], "1.0.0");
    assert_eq!(tag(&vs[0], "gitlab.version").as_deref(), Some("1.0.0"));
    assert_eq!(
        tag(&vs[0], "mlops.alias.production").as_deref(),
        Some("1.0.0")
    );
    let env = std::fs::read_to_string(dir.join("mlops-reports/register.env")).expect("env");
    assert!(
        env.contains("MODEL_VERSION=1.0.0") && env.contains("MODEL_VERSION_ID=100"),
        "{env}"
    );

    // A staging version keeps production where it was.
    let run2 = fake.seed_run(&[("accuracy", 0.80)]);
    assert_eq!(reg(&run2, "staging").status.code(), Some(0));
    let vs = fake.versions(&model);
    assert_eq!(vs.len(), 2);
    assert_eq!(tag(&vs[1], "gitlab.version").as_deref(), Some("2.0.0"));
    assert_eq!(
        tag(&vs[1], "mlops.alias.production").as_deref(),
        Some("1.0.0")
    );
    assert_eq!(tag(&vs[1], "mlops.alias.staging").as_deref(), Some("2.0.0"));

    // Gate 2 reads production (1.0.0, accuracy 0.90) back through the emulation.
    let run3 = fake.seed_run(&[("accuracy", 0.92)]);
    let eval = |min: &str| {
        stage(
            dir,
            &fake.uri,
            &[
                "evaluate",
                "--run-id",
                &run3,
                "--metric",
                "accuracy",
                "--threshold",
                "0.5",
                "--registered-model",
                &model,
                "--compare-alias",
                "production",
                "--min-improvement",
                min,
            ],
            &env_token,
        )
    };
    let o = eval("0.01");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let ev: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("mlops-reports/evaluate.json")).expect("json"),
    )
    .expect("json");
    assert_eq!(ev["production"]["version"], "1.0.0");
    assert_eq!(ev["production"]["value"], 0.9);
    assert_eq!(eval("0.05").status.code(), Some(1));

    // Without the token GitLab answers 401: a config error, and the hint says what to set.
    let o = stage(
        dir,
        &fake.uri,
        &[
            "evaluate",
            "--run-id",
            &run3,
            "--metric",
            "accuracy",
            "--threshold",
            "0.5",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("MLFLOW_TRACKING_TOKEN"));

    let unsupported = fake.state.lock().expect("state").unsupported.clone();
    assert!(
        unsupported.is_empty(),
        "called endpoints GitLab lacks: {unsupported:?}"
    );
}

impl GitlabFake {
    fn run(&self, id: &str) -> Value {
        self.state.lock().expect("state").runs[id].clone()
    }

    fn files_of(&self, owner: &str) -> BTreeMap<String, Vec<u8>> {
        self.state
            .lock()
            .expect("state")
            .files
            .iter()
            .filter(|((o, _), _)| o == owner)
            .map(|((_, f), b)| (f.clone(), b.clone()))
            .collect()
    }
}

/// train → evaluate → register of the wine example against the GitLab subset, with the real
/// MLflow client and sklearn autolog in the script's process: the model that autolog cannot
/// log to GitLab is saved locally, uploaded to the run's package, and copied to the version.
#[test]
fn train_evaluate_register_against_gitlab_subset_with_model_files() {
    let Some(_py) = crate::harness::python() else {
        return;
    };
    let fake = GitlabFake::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    crate::harness::copy_dir(
        &crate::harness::root().join("examples/wine-classifier"),
        dir,
    );
    let model = unique("gl-wine");
    std::fs::write(
        dir.join("mlops.toml"),
        format!(
            "mlops-version = \"{}\"\n\n[model.{model}]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\ntraining_args = \"--data data/train.csv --test-data data/test.csv --n-estimators 20\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.8\nalias = \"production\"\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .expect("write mlops.toml");
    let env = [("MLFLOW_TRACKING_TOKEN", TOKEN), ("CI_JOB_ID", "501")];
    let show = |o: &std::process::Output| {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let o = stage(dir, &fake.uri, &["train", "--model", &model], &env);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let train: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("mlops-reports/{model}/train.json")))
            .expect("train.json"),
    )
    .expect("json");
    assert_eq!(train["flavour"], "gitlab");
    // GitLab refuses a registered model named like an experiment: the default differs.
    assert_eq!(train["experiment_name"], format!("{model}-training"));
    let run_id = train["run_id"].as_str().expect("run id").to_owned();
    let run = fake.run(&run_id);
    assert_eq!(run["info"]["status"], "FINISHED", "{}", show(&o));
    let metrics = run["data"]["metrics"].as_array().expect("metrics");
    assert!(
        metrics.iter().any(|m| m["key"] == "accuracy"),
        "the script's metric: {metrics:?}"
    );
    assert!(
        metrics
            .iter()
            .any(|m| m["key"] == "training_accuracy_score"),
        "autolog's metrics reach GitLab: {metrics:?}\n{}",
        show(&o)
    );
    let listed: Vec<String> = serde_json::from_str(
        &tag(&run["data"], "mlops.model_files").expect("the run lists its model files"),
    )
    .expect("a JSON list");
    assert!(
        listed.contains(&"model/MLmodel".to_owned())
            && listed.iter().any(|f| f.starts_with("model/model.")),
        "{listed:?}"
    );
    assert_eq!(train["model_files"], json!(listed));
    // The run is candidate 1 (iid from its artifact URI); its package holds the saved model.
    let on_run = fake.files_of("candidate:1");
    assert_eq!(on_run.keys().cloned().collect::<Vec<_>>(), listed);
    let mlmodel = String::from_utf8_lossy(&on_run["model/MLmodel"]).into_owned();
    assert!(mlmodel.contains("sklearn"), "{mlmodel}");

    let o = stage(dir, &fake.uri, &["evaluate", "--model", &model], &env);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));

    for attempt in 0..2 {
        let o = stage(dir, &fake.uri, &["register", "--model", &model], &env);
        assert_eq!(o.status.code(), Some(0), "attempt {attempt}: {}", show(&o));
    }
    let vs = fake.versions(&model);
    assert_eq!(vs.len(), 1, "a retried register makes no second version");
    let version_id = vs[0]["version"].as_str().expect("id");
    assert_eq!(
        fake.files_of(version_id),
        on_run,
        "the version holds the run's model files, byte for byte"
    );
    let reg: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("mlops-reports/{model}/register.json")))
            .expect("register.json"),
    )
    .expect("json");
    assert_eq!(reg["model_files"], json!(listed));

    // A registered model named like an experiment: GitLab's refusal, explained.
    let run = fake.seed_run(&[("accuracy", 0.9)]);
    let experiment = format!("{model}-training");
    let o = stage(
        dir,
        &fake.uri,
        &["register", "--name", &experiment, "--run-id", &run],
        &env,
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("an experiment has that name"),
        "{}",
        show(&o)
    );

    let unsupported = fake.state.lock().expect("state").unsupported.clone();
    assert!(
        unsupported.is_empty(),
        "called endpoints GitLab lacks: {unsupported:?}"
    );
}

/// A script without autolog writes its own files into `$MLOPS_MODEL_DIR`; train uploads them.
#[test]
fn files_a_script_writes_into_the_model_dir_reach_the_run() {
    let Some(_py) = crate::harness::python() else {
        return;
    };
    let fake = GitlabFake::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("train.py"),
        "import os\nd = os.environ['MLOPS_MODEL_DIR']\nos.makedirs(os.path.join(d, 'weights'), exist_ok=True)\nopen(os.path.join(d, 'weights', 'w.bin'), 'wb').write(b'\\x00\\x01')\nopen(os.path.join(d, 'card.md'), 'w').write('model card')\n",
    )
    .expect("script");
    let o = stage(
        dir,
        &fake.uri,
        &["train", "--script", "train.py", "--experiment", "plain"],
        &[("MLFLOW_TRACKING_TOKEN", TOKEN)],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let files = fake.files_of("candidate:1");
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        ["card.md", "weights/w.bin"]
    );
    assert_eq!(files["weights/w.bin"], vec![0u8, 1]);
    let unsupported = fake.state.lock().expect("state").unsupported.clone();
    assert!(unsupported.is_empty(), "{unsupported:?}");
}
