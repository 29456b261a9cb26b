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
//! - `lib/api/ml/mlflow/entrypoint.rb` (errors `{error_code, message}`, Bearer token).
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
    experiments: Vec<(String, String)>,
    runs: BTreeMap<String, Value>,
    models: Vec<String>,
    versions: Vec<Value>,
    unsupported: Vec<String>,
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
        ("POST", "runs/create") => {
            let id = format!("{:032x}", st.runs.len() + 1000);
            let run = json!({"info": {"run_id": id, "experiment_id": s("experiment_id"), "status": "RUNNING"}, "data": {"metrics": [], "tags": body["tags"]}});
            st.runs.insert(id, run.clone());
            (200, json!({"run": run}))
        }
        ("GET", "runs/get") => match st.runs.get(&s("run_id")) {
            Some(r) => (200, json!({"run": r})),
            None => err(404, "RESOURCE_DOES_NOT_EXIST", "Candidate not found"),
        },
        ("POST", "runs/update") => match st.runs.get_mut(&s("run_id")) {
            Some(r) => {
                r["info"]["status"] = json!(s("status"));
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
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let q: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect();
    let (status, answer) = if auth != format!("Bearer {TOKEN}") {
        (401, json!({"message": "401 Unauthorized"}))
    } else if let Some(endpoint) = path.strip_prefix(PREFIX) {
        let mut st = state.lock().expect("state");
        handle(&mut st, &method, endpoint, &q, &body)
    } else {
        (404, json!({"error": "404 Not Found"}))
    };
    let text = answer.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
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
        let state = Arc::new(Mutex::new(State::default()));
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
        let id = format!("{:032x}", st.runs.len() + 1000);
        let ms: Vec<Value> = metrics
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        st.runs.insert(id.clone(), json!({"info": {"run_id": id, "experiment_id": "1", "status": "FINISHED"}, "data": {"metrics": ms, "tags": []}}));
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
