//! The runtime stages against the GitLab replica ([`crate::gitlab`]), in both API generations:
//! train → evaluate → register with model files, a retried register, the gate on the last
//! value of a metric, lost answers, tokens GitLab refuses, and GitLab's own refusals. The
//! replica is checked against what GitLab's request specs assert first.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::gitlab::{
    Generation, JOB_TOKEN, OUTSIDER_TOKEN, READ_API_TOKEN, REPORTER_TOKEN, Replica, TOKEN,
};
use crate::harness::{self, unique};
use crate::runtime::stage;

const BOTH: [Generation; 2] = [Generation::Current, Generation::Legacy];

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn report(dir: &Path, rel: &str) -> Value {
    let path = dir.join("mlops-reports").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("report JSON")
}

fn tag(list: &Value, key: &str) -> Option<String> {
    list.as_array()?.iter().find(|t| t["key"] == key)?["value"]
        .as_str()
        .map(str::to_owned)
}

/// One raw call to the replica, as GitLab's request specs make them.
fn call(gl: &Replica, token: Option<&str>, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/{path}", gl.api_v4);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut resp = if method == "GET" {
        let mut rb = agent.get(&url);
        for (k, v) in body.as_object().into_iter().flatten() {
            rb = rb.query(k, v.as_str().unwrap_or_default());
        }
        if let Some(a) = &auth {
            rb = rb.header("Authorization", a);
        }
        rb.call().expect("GET")
    } else {
        let mut rb = agent.post(&url);
        if let Some(a) = &auth {
            rb = rb.header("Authorization", a);
        }
        rb.send_json(body).expect("POST")
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn mlflow(gl: &Replica, method: &str, endpoint: &str, body: &Value) -> (u16, Value) {
    call(
        gl,
        Some(TOKEN),
        method,
        &format!("projects/1/ml/mlflow/api/2.0/mlflow/{endpoint}"),
        body,
    )
}

/// The replica answers what GitLab's request specs assert (`spec/requests/api/ml/mlflow/
/// {runs,model_versions,registered_models}_spec.rb`) and what the code they test returns.
#[test]
#[allow(clippy::many_single_char_names)]
fn replica_answers_as_gitlab_specs_assert() {
    for generation in BOTH {
        let gl = Replica::start(generation);
        let (s, e) = mlflow(&gl, "POST", "experiments/create", &json!({"name": "exp"}));
        assert_eq!((s, &e["experiment_id"]), (200, &json!("1")));
        let (s, _) = mlflow(&gl, "POST", "experiments/create", &json!({"name": "exp"}));
        assert_eq!(s, 400);
        let (s, r) = mlflow(
            &gl,
            "POST",
            "runs/create",
            &json!({"experiment_id": "1", "run_name": "A new Run", "tags": [{"key": "hello", "value": "world"}]}),
        );
        assert_eq!(s, 200);
        let info = &r["run"]["info"];
        assert_eq!(info["status"], "RUNNING");
        assert_eq!(info["run_name"], "A new Run");
        assert_eq!(
            r["run"]["data"],
            json!({"metrics": [], "params": [], "tags": [{"key": "hello", "value": "world"}]})
        );
        let run_id = info["run_id"].as_str().expect("id").to_owned();
        assert_eq!(run_id.len(), 36, "a UUID: {run_id}");
        let uri = info["artifact_uri"].as_str().expect("uri");
        match generation {
            Generation::Current => {
                assert_eq!(
                    uri,
                    format!(
                        "{}/projects/1/packages/ml_models/candidate:1/files/",
                        gl.api_v4
                    )
                );
            }
            Generation::Legacy => {
                assert_eq!(
                    uri,
                    format!(
                        "{}/projects/1/packages/generic/ml_experiment_1/1/",
                        gl.api_v4
                    )
                );
            }
        }
        // Every log-metric adds a row; runs/get shows them all (legacy) or the last (current).
        for (step, v) in [(0, 0.9), (1, 0.4)] {
            let m =
                json!({"run_id": run_id, "key": "acc", "value": v, "timestamp": 1, "step": step});
            assert_eq!(mlflow(&gl, "POST", "runs/log-metric", &m), (200, json!({})));
        }
        let (_, r) = mlflow(&gl, "GET", "runs/get", &json!({"run_id": run_id}));
        let rows = r["run"]["data"]["metrics"]
            .as_array()
            .expect("metrics")
            .len();
        assert_eq!(
            rows,
            if generation == Generation::Legacy {
                2
            } else {
                1
            }
        );
        // set-tag twice: 400 from `metadata.create!`; duplicates in log-batch are skipped.
        let t = json!({"run_id": run_id, "key": "k", "value": "v"});
        assert_eq!(mlflow(&gl, "POST", "runs/set-tag", &t).0, 200);
        let (s, e) = mlflow(&gl, "POST", "runs/set-tag", &t);
        assert_eq!(
            (s, &e["error_code"]),
            (400, &json!("INVALID_PARAMETER_VALUE"))
        );
        let batch = json!({"run_id": run_id, "params": [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}]});
        assert_eq!(
            mlflow(&gl, "POST", "runs/log-batch", &batch),
            (200, json!({}))
        );
        // A numeric iid is not a run id.
        let (s, e) = mlflow(&gl, "GET", "runs/get", &json!({"run_id": "1"}));
        assert_eq!(
            (s, e),
            (404, json!({"error_code": "RESOURCE_DOES_NOT_EXIST"}))
        );

        // A new model: its experiment `[model]<name>`, no versions yet (`[null]`).
        assert_eq!(
            mlflow(
                &gl,
                "POST",
                "registered-models/create",
                &json!({"name": "m"})
            )
            .0,
            200
        );
        assert!(gl.experiments().contains(&"[model]m".to_owned()));
        let (s, l) = mlflow(
            &gl,
            "POST",
            "registered-models/get-latest-versions",
            &json!({"name": "m"}),
        );
        assert_eq!((s, l), (200, json!({"model_versions": [null]})));
        let (s, e) = mlflow(
            &gl,
            "POST",
            "registered-models/create",
            &json!({"name": "m"}),
        );
        assert_eq!(
            (s, e),
            (400, json!({"error_code": "RESOURCE_ALREADY_EXISTS"}))
        );
        // `gitlab.version` picks the SemVer; `version` is the id, the SemVer is the alias.
        let tags = json!([{"key": "gitlab.version", "value": "1.2.3"}]);
        let (s, v) = mlflow(
            &gl,
            "POST",
            "model-versions/create",
            &json!({"name": "m", "tags": tags}),
        );
        assert_eq!(s, 200, "{v}");
        let v = &v["model_version"];
        assert_eq!(
            (&v["version"], &v["aliases"], &v["tags"]),
            (&json!("100"), &json!(["1.2.3"]), &tags)
        );
        assert!(
            v["run_id"]
                .as_str()
                .is_some_and(|r| r.len() == 36 && r != run_id),
            "its own candidate"
        );
        let (s, e) = mlflow(
            &gl,
            "POST",
            "model-versions/create",
            &json!({"name": "m", "tags": tags}),
        );
        assert_eq!(
            (s, e),
            (
                400,
                json!({"error_code": "INVALID_PARAMETER_VALUE", "message": ["Version has already been taken"]})
            )
        );
        let (s, v) = mlflow(&gl, "POST", "model-versions/create", &json!({"name": "m"}));
        assert_eq!(
            (s, &v["model_version"]["aliases"]),
            (200, &json!(["1.2.4"])),
            "patch increment"
        );
        // Promoting a run from another experiment: refused by current GitLab only.
        let (s, e) = mlflow(
            &gl,
            "POST",
            "model-versions/create",
            &json!({"name": "m", "run_id": run_id}),
        );
        match generation {
            Generation::Current => assert_eq!(
                (s, e),
                (
                    400,
                    json!({"error_code": "INVALID_PARAMETER_VALUE", "message": ["Run's experiment does not belong to this model"]})
                )
            ),
            Generation::Legacy => assert_eq!(s, 200, "run_id is not a parameter: {e}"),
        }
        let (s, v) = mlflow(
            &gl,
            "GET",
            "model-versions/get",
            &json!({"name": "m", "version": "1.2.3"}),
        );
        assert_eq!((s, &v["model_version"]["version"]), (200, &json!("100")));

        // Auth and routing (`lib/api/helpers.rb`, `lib/api/api.rb`).
        let path = "projects/1/ml/mlflow/api/2.0/mlflow/registered-models/get";
        let q = json!({"name": "m"});
        assert_eq!(
            call(&gl, None, "GET", path, &q),
            (401, json!({"message": "401 Unauthorized"}))
        );
        assert_eq!(call(&gl, Some("glpat-nobody"), "GET", path, &q).0, 401);
        assert_eq!(
            call(&gl, Some(JOB_TOKEN), "GET", path, &q).0,
            401,
            "no job token"
        );
        assert_eq!(call(&gl, Some(READ_API_TOKEN), "GET", path, &q).0, 200);
        assert_eq!(
            call(&gl, Some(OUTSIDER_TOKEN), "GET", path, &q),
            (404, json!({"message": "404 Project Not Found"}))
        );
        let other = "projects/2/ml/mlflow/api/2.0/mlflow/registered-models/get";
        assert_eq!(
            call(&gl, Some(TOKEN), "GET", other, &q),
            (404, json!({"message": "404 Project Not Found"}))
        );
        let create = "projects/1/ml/mlflow/api/2.0/mlflow/registered-models/create";
        assert_eq!(
            call(
                &gl,
                Some(READ_API_TOKEN),
                "POST",
                create,
                &json!({"name": "n"})
            )
            .1["error"],
            "insufficient_scope"
        );
        assert_eq!(
            call(
                &gl,
                Some(REPORTER_TOKEN),
                "POST",
                create,
                &json!({"name": "n"})
            )
            .0,
            401
        );
        let missing = "projects/1/ml/mlflow/api/2.0/mlflow/model-versions/search";
        assert_eq!(
            call(&gl, Some(TOKEN), "GET", missing, &json!({})),
            (404, json!({"error": "404 Not Found"}))
        );
        assert_eq!(gl.unsupported(), ["GET /api/v4/".to_owned() + missing]);
    }
}

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

const ENV: [(&str, &str); 2] = [("MLFLOW_TRACKING_TOKEN", TOKEN), ("CI_JOB_ID", "501")];

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
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let train = report(dir, &format!("{model}/train.json"));
    assert_eq!(train["flavour"], "gitlab");
    assert_eq!(train["experiment_name"], format!("{model}-training"));
    let run_id = train["run_id"].as_str().expect("run id").to_owned();
    let run = gl.run(&run_id);
    assert_eq!(run["info"]["status"], "FINISHED", "{}", show(&o));
    for m in ["accuracy", "training_accuracy_score"] {
        assert!(
            run["data"]["metrics"]
                .as_array()
                .expect("metrics")
                .iter()
                .any(|x| x["key"] == m),
            "{m}: {}\n{}",
            run["data"]["metrics"],
            show(&o)
        );
    }
    let listed: Vec<String> =
        serde_json::from_str(&tag(&run["data"]["tags"], "mlops.model_files").expect("file list"))
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
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));

    for attempt in 0..2 {
        let o = stage(dir, &gl.uri, &["register", "--model", &model], &ENV);
        assert_eq!(o.status.code(), Some(0), "attempt {attempt}: {}", show(&o));
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
        tag(&vs[0]["tags"], "mlops.run_id").as_deref(),
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

/// A script that logs the gate metric once per epoch is gated on its last value, in both
/// generations (GitLab lists every row, or the last one logged).
#[test]
fn gate_uses_the_last_value_of_a_metric_logged_per_epoch() {
    let Some(_py) = harness::python() else { return };
    for generation in BOTH {
        let gl = Replica::start(generation);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        std::fs::write(
            dir.join("epochs.py"),
            "import mlflow\nfor step, acc in enumerate([0.95, 0.9, 0.4]):\n    mlflow.log_metric('accuracy', acc, step=step)\n",
        )
        .expect("script");
        let o = stage(
            dir,
            &gl.uri,
            &["train", "--script", "epochs.py", "--experiment", "e"],
            &ENV,
        );
        assert_eq!(o.status.code(), Some(0), "{generation:?}: {}", show(&o));
        let gate = ["evaluate", "--metric", "accuracy", "--threshold", "0.5"];
        let o = stage(dir, &gl.uri, &gate, &ENV);
        assert_eq!(o.status.code(), Some(1), "{generation:?}: {}", show(&o));
        let ev = report(dir, "evaluate.json");
        assert_eq!(
            (&ev["value"], &ev["metrics"]["accuracy"]),
            (&json!(0.4), &json!(0.4))
        );
    }
}

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
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
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
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("checking whether the version was created")
    );
    let vs = gl.versions(&model);
    assert_eq!(vs.len(), 1, "{vs:?}");
    let files_on_version = gl.files(vs[0]["version"].as_str().expect("id"));
    assert_eq!(files_on_version, files);
    assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
}

/// A refusal case: arguments, environment, and the cause and the fix the output must name.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);

/// Every token GitLab refuses ends with exit 2, the cause and the fix, and no token value
/// anywhere in the output or the reports.
#[test]
fn refused_tokens_name_the_cause_and_the_fix() {
    let gl = Replica::start(Generation::Current);
    let run = gl.seed_run("seeded", &[("accuracy", 0.9)]);
    let wrong = "glpat-wrong-0123456789";
    let read = [
        "evaluate",
        "--run-id",
        &run,
        "--metric",
        "accuracy",
        "--threshold",
        "0.5",
    ];
    let write = ["register", "--name", "refused", "--run-id", &run];
    let cases: [Case; 6] = [
        (&read, &[], "needs an access token", "MLOPS_ACCESS_TOKEN"),
        (
            &read,
            &[
                ("CI_JOB_TOKEN", JOB_TOKEN),
                ("MLFLOW_TRACKING_TOKEN", JOB_TOKEN),
            ],
            "CI_JOB_TOKEN, which GitLab's MLflow API does not accept",
            "project access token",
        ),
        (
            &read,
            &[("MLFLOW_TRACKING_TOKEN", wrong)],
            "HTTP 401",
            "`api` scope and at least the Developer role",
        ),
        (
            &read,
            &[("MLOPS_ACCESS_TOKEN", OUTSIDER_TOKEN)],
            "404 Project Not Found",
            "the token cannot see it",
        ),
        (
            &write,
            &[("MLFLOW_TRACKING_TOKEN", READ_API_TOKEN)],
            "HTTP 403",
            "lacks the `api` scope",
        ),
        (
            &write,
            &[("MLFLOW_TRACKING_TOKEN", REPORTER_TOKEN)],
            "HTTP 401",
            "at least the Developer role",
        ),
    ];
    for (args, env, cause, fix) in cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        let o = stage(tmp.path(), &gl.uri, args, env);
        let text = show(&o);
        assert_eq!(o.status.code(), Some(2), "{env:?}: {text}");
        assert!(
            text.contains(cause) && text.contains(fix),
            "{env:?}: want `{cause}` and `{fix}`:\n{text}"
        );
        let mut written = text.clone();
        for e in walk(tmp.path()) {
            written.push_str(&std::fs::read_to_string(e).unwrap_or_default());
        }
        for secret in [
            TOKEN,
            wrong,
            JOB_TOKEN,
            OUTSIDER_TOKEN,
            READ_API_TOKEN,
            REPORTER_TOKEN,
        ] {
            assert!(!written.contains(secret), "{secret} leaked: {written}");
        }
    }
    assert!(gl.versions("refused").is_empty());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// GitLab's own refusals: a model whose `[model]<name>` experiment exists, the MLflow flavour
/// pointed at GitLab (a route GitLab lacks), and a model file over the plan limit.
#[test]
fn gitlab_refusals_are_explained() {
    let gl = Replica::start(Generation::Current);
    let env = [("MLFLOW_TRACKING_TOKEN", TOKEN)];
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let run = gl.seed_run("[model]taken", &[("accuracy", 0.9)]);
    let o = stage(
        dir,
        &gl.uri,
        &["register", "--name", "taken", "--run-id", &run],
        &env,
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        show(&o).contains("no experiment may be named `[model]taken`"),
        "{}",
        show(&o)
    );

    let o = stage(
        dir,
        &gl.uri,
        &["register", "--name", "plain", "--run-id", &run],
        &[
            ("MLFLOW_TRACKING_TOKEN", TOKEN),
            ("MLOPS_MLFLOW_FLAVOUR", "mlflow"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(show(&o).contains("flavour = \"gitlab\""), "{}", show(&o));

    let Some(_py) = harness::python() else { return };
    gl.set_max_file_size(4);
    std::fs::write(
        dir.join("big.py"),
        "import os\nopen(os.path.join(os.environ['MLOPS_MODEL_DIR'], 'w.bin'), 'wb').write(b'0123456789')\n",
    )
    .expect("script");
    let o = stage(
        dir,
        &gl.uri,
        &["train", "--script", "big.py", "--experiment", "big"],
        &env,
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        show(&o).contains("Artifact file is too large"),
        "{}",
        show(&o)
    );
    let train = report(dir, "train.json");
    assert_eq!(train["run_status"], "FAILED");
    assert_eq!(
        gl.run(train["run_id"].as_str().expect("id"))["info"]["status"],
        "FAILED"
    );
}

/// The alias emulation: a staging version keeps production where it was, and gate 2 reads
/// production back, in both generations.
#[test]
fn aliases_are_emulated_and_gate_2_reads_production() {
    for generation in BOTH {
        let gl = Replica::start(generation);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let model = unique("gl-alias");
        let env = [("MLOPS_ACCESS_TOKEN", TOKEN)];
        let reg = |run: &str, alias: &str| {
            let args = [
                "register", "--name", &model, "--alias", alias, "--metric", "accuracy", "--run-id",
                run,
            ];
            stage(dir, &gl.uri, &args, &env)
        };
        let run1 = gl.seed_run("runs", &[("accuracy", 0.90)]);
        let o = reg(&run1, "production");
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let o = reg(&run1, "production");
        assert_eq!(o.status.code(), Some(0), "retry: {}", show(&o));
        let vs = gl.versions(&model);
        assert_eq!(vs.len(), 1);
        assert_eq!(
            tag(&vs[0]["tags"], "mlops.alias.production").as_deref(),
            Some("1.0.0")
        );
        let env_text =
            std::fs::read_to_string(dir.join("mlops-reports/register.env")).expect("env");
        assert!(
            env_text.contains("MODEL_VERSION=1.0.0") && env_text.contains("MODEL_VERSION_ID=100"),
            "{env_text}"
        );

        let run2 = gl.seed_run("runs", &[("accuracy", 0.80)]);
        assert_eq!(reg(&run2, "staging").status.code(), Some(0));
        let vs = gl.versions(&model);
        assert_eq!(vs.len(), 2);
        assert_eq!(
            tag(&vs[1]["tags"], "gitlab.version").as_deref(),
            Some("2.0.0")
        );
        assert_eq!(
            tag(&vs[1]["tags"], "mlops.alias.production").as_deref(),
            Some("1.0.0")
        );
        assert_eq!(
            tag(&vs[1]["tags"], "mlops.alias.staging").as_deref(),
            Some("2.0.0")
        );

        let run3 = gl.seed_run("runs", &[("accuracy", 0.92)]);
        let eval = |min: &str| {
            let args = [
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
            ];
            stage(dir, &gl.uri, &args, &env)
        };
        let o = eval("0.01");
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let ev = report(dir, "evaluate.json");
        assert_eq!(
            (&ev["production"]["version"], &ev["production"]["value"]),
            (&json!("1.0.0"), &json!(0.9))
        );
        assert_eq!(eval("0.05").status.code(), Some(1));
        assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
    }
}
