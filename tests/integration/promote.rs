//! `mlops run promote` against a real MLflow server and the GitLab replica (both
//! generations): promote the version a "pipeline" registered (its `register.env`), promote a
//! newer one, roll back by promoting the first pipeline's version again, and the bad inputs
//! (no registered version, a version that does not exist, a server that does not answer),
//! none of which moves production. Gate 2 (`mlops run evaluate --compare-alias`) reads
//! production back: that is the reader that matters.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of, unique};
use crate::runtime::{rest, seed_run, stage};

/// One backend: where it is, the environment a job needs there, and how to seed a run.
struct Backend<'a> {
    uri: String,
    env: Vec<(&'a str, &'a str)>,
    seed: Box<dyn Fn(f64) -> String + 'a>,
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn dotenv(path: &Path, key: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .next_back()
}

/// Registers `run` as a pipeline's register job would, into its own report directory;
/// returns that directory and the version.
fn register(b: &Backend, dir: &Path, pipeline: &str, model: &str, run: &str) -> (PathBuf, String) {
    let reports = dir.join(pipeline);
    let args = [
        "register",
        "--name",
        model,
        "--alias",
        "staging",
        "--metric",
        "accuracy",
        "--run-id",
        run,
        "--report-dir",
        reports.to_str().expect("utf-8"),
    ];
    let o = stage(dir, &b.uri, &args, &b.env);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let version = dotenv(&reports.join("register.env"), "MODEL_VERSION").expect("MODEL_VERSION");
    (reports, version)
}

fn promote(
    b: &Backend,
    dir: &Path,
    model: &str,
    reports: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "promote",
        "--name",
        model,
        "--report-dir",
        reports.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    stage(dir, &b.uri, &args, &b.env)
}

/// The production version as gate 2 sees it (`evaluate.json`'s `production.version`).
fn production(b: &Backend, dir: &Path, model: &str, probe: &str) -> Option<String> {
    let reports = dir.join("probe");
    let args = [
        "evaluate",
        "--run-id",
        probe,
        "--metric",
        "accuracy",
        "--threshold",
        "0",
        "--registered-model",
        model,
        "--compare-alias",
        "production",
        "--when-no-production",
        "pass",
        "--report-dir",
        reports.to_str().expect("utf-8"),
    ];
    let o = stage(dir, &b.uri, &args, &b.env);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&o)
    );
    json_file(&reports.join("evaluate.json"))["production"]["version"]
        .as_str()
        .map(str::to_owned)
}

/// The whole path on one backend; returns the two versions.
fn promote_and_roll_back(b: &Backend, model: &str) -> (String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let probe = (b.seed)(0.5);
    let (first, v1) = register(b, dir, "pipeline-1", model, &(b.seed)(0.90));
    let (second, v2) = register(b, dir, "pipeline-2", model, &(b.seed)(0.93));
    assert_ne!(v1, v2);
    assert_eq!(
        production(b, dir, model, &probe),
        None,
        "nothing promoted yet"
    );

    // Bad input first: each exits as the README says, and production stays unset.
    let empty = dir.join("no-register");
    let o = promote(b, dir, model, &empty, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", transcript_of(&o));
    let err = transcript_of(&o);
    assert!(
        err.contains("no version was registered in this pipeline"),
        "{err}"
    );
    std::fs::create_dir_all(&empty).expect("mkdir");
    std::fs::write(empty.join("register.env"), "").expect("write");
    assert_eq!(promote(b, dir, model, &empty, &[]).status.code(), Some(2));
    let o = promote(b, dir, model, &first, &["--version", "99.0.0"]);
    assert_eq!(o.status.code(), Some(2), "{}", transcript_of(&o));
    assert!(
        transcript_of(&o).contains("version `99.0.0` of"),
        "{}",
        transcript_of(&o)
    );
    assert_eq!(production(b, dir, model, &probe), None);

    // Pipeline 1 promotes its version.
    let o = promote(b, dir, model, &first, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let report = json_file(&first.join("promote.json"));
    assert_eq!(report["status"], "promoted", "{report}");
    assert_eq!(report["version"]["version"], v1.as_str());
    assert_eq!(report["previous"], Value::Null);
    assert_eq!(report["source"], "register.env");
    assert_eq!(
        production(b, dir, model, &probe).as_deref(),
        Some(v1.as_str())
    );
    // A retried job: already production, success, nothing moves.
    let o = promote(b, dir, model, &first, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert_eq!(
        json_file(&first.join("promote.json"))["status"],
        "unchanged"
    );

    // Pipeline 2 promotes a newer version; the previous champion is recorded.
    let o = promote(b, dir, model, &second, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let report = json_file(&second.join("promote.json"));
    assert_eq!(report["previous"]["version"], v1.as_str(), "{report}");
    assert_eq!(
        dotenv(&second.join("promote.env"), "PREVIOUS_PRODUCTION_VERSION").as_deref(),
        Some(v1.as_str())
    );
    assert_eq!(
        dotenv(&second.join("promote.env"), "PRODUCTION_VERSION").as_deref(),
        Some(v2.as_str())
    );
    let notes =
        std::fs::read_to_string(second.join("promote.annotations.json")).expect("annotations");
    assert!(
        notes.contains(&format!("previous production: version {v1}")),
        "{notes}"
    );
    assert_eq!(
        production(b, dir, model, &probe).as_deref(),
        Some(v2.as_str())
    );

    // Rollback: pipeline 1's promote job again.
    let o = promote(b, dir, model, &first, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert_eq!(
        json_file(&first.join("promote.json"))["previous"]["version"],
        v2.as_str()
    );
    assert_eq!(
        production(b, dir, model, &probe).as_deref(),
        Some(v1.as_str())
    );

    // A version that does not exist changes nothing after promotions either.
    let o = promote(b, dir, model, &first, &["--version", "77"]);
    assert_eq!(o.status.code(), Some(2), "{}", transcript_of(&o));
    // A later registration keeps production where promote put it.
    let (_, v3) = register(b, dir, "pipeline-3", model, &(b.seed)(0.95));
    assert_eq!(
        production(b, dir, model, &probe).as_deref(),
        Some(v1.as_str())
    );
    // A manual move with --version.
    let o = promote(b, dir, model, &dir.join("manual"), &["--version", &v3]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert_eq!(
        json_file(&dir.join("manual/promote.json"))["source"],
        "--version"
    );
    assert_eq!(
        production(b, dir, model, &probe).as_deref(),
        Some(v3.as_str())
    );
    (v1, v2)
}

#[test]
fn promote_moves_production_and_rolls_back_on_mlflow() {
    let Some(uri) = harness::mlflow_uri() else {
        return;
    };
    let model = unique("promote");
    let experiment = model.clone();
    let b = Backend {
        uri: uri.clone(),
        env: vec![("MLOPS_MLFLOW_FLAVOUR", "mlflow")],
        seed: Box::new(|acc| seed_run(&uri, &experiment, &[("accuracy", acc)])),
    };
    let (v1, _) = promote_and_roll_back(&b, &model);
    // The real alias, as MLflow's own API shows it, after the manual move to version 3.
    let v = rest(
        &uri,
        "GET",
        "registered-models/alias",
        &json!({"name": model, "alias": "production"}),
    );
    assert_eq!(v["model_version"]["version"], "3", "{v}");
    assert_eq!(v1, "1");
}

#[test]
fn promote_moves_production_and_rolls_back_on_gitlab() {
    for generation in [Generation::Current, Generation::Legacy] {
        let gl = Replica::start(generation);
        let model = unique("gl-promote");
        let b = Backend {
            uri: gl.uri.clone(),
            env: vec![("MLOPS_ACCESS_TOKEN", TOKEN)],
            seed: Box::new(|acc| gl.seed_run("runs", &[("accuracy", acc)])),
        };
        let (v1, v2) = promote_and_roll_back(&b, &model);
        assert_eq!((v1.as_str(), v2.as_str()), ("1.0.0", "2.0.0"));
        // The third version copied the table with the promotions applied.
        let vs = gl.versions(&model);
        assert_eq!(
            crate::harness::kv_str(&vs[2]["tags"], "mlops.alias.production").as_deref(),
            Some("1.0.0"),
            "{generation:?}"
        );
        assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
    }
}

#[test]
fn promote_exits_75_when_the_server_does_not_answer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let uri = crate::harness::unreachable_mlflow_uri();
    let reports = tmp.path().join("r");
    std::fs::create_dir_all(&reports).expect("mkdir");
    std::fs::write(
        reports.join("register.env"),
        "MODEL_VERSION=1\nMODEL_NAME=m\n",
    )
    .expect("write");
    // Both dialects: MLflow, and GitLab (the URI's `/ml/mlflow` selects it) with a token.
    for flavour in [
        ("MLOPS_MLFLOW_FLAVOUR", "mlflow"),
        ("MLOPS_ACCESS_TOKEN", TOKEN),
    ] {
        let b = Backend {
            uri: uri.clone(),
            env: vec![
                flavour,
                ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
                ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
            ],
            seed: Box::new(|_| unreachable!()),
        };
        let o = promote(&b, tmp.path(), "m", &reports, &[]);
        assert_eq!(
            o.status.code(),
            Some(75),
            "{flavour:?}: {}",
            transcript_of(&o)
        );
    }
    assert!(
        !reports.join("promote.json").exists(),
        "no report of a promotion that did not happen"
    );
}

/// GitLab: the answer to the promotion record's `runs/set-tag` is lost; the retry finds the
/// record set (a key is set once) and the job succeeds with exactly one record.
#[test]
fn a_lost_promotion_record_answer_is_found_not_repeated() {
    let gl = Replica::start(Generation::Current);
    let model = unique("gl-promote-lost");
    let b = Backend {
        uri: gl.uri.clone(),
        env: vec![
            ("MLOPS_ACCESS_TOKEN", TOKEN),
            ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
        ],
        seed: Box::new(|acc| gl.seed_run("runs", &[("accuracy", acc)])),
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (reports, v1) = register(&b, dir, "pipeline-1", &model, &(b.seed)(0.9));
    gl.lose_answer("POST runs/set-tag");
    let o = promote(&b, dir, &model, &reports, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let log = transcript_of(&o);
    assert!(
        log.contains("`runs/set-tag`") && log.contains("retry 1/"),
        "{log}"
    );
    assert_eq!(
        json_file(&reports.join("promote.json"))["status"],
        "promoted"
    );
    let own_run = gl.versions(&model)[0]["run_id"]
        .as_str()
        .expect("run_id")
        .to_owned();
    let records: Vec<Value> = gl.run(&own_run)["data"]["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("mlops.promote."))
        })
        .cloned()
        .collect();
    assert_eq!(
        records,
        vec![json!({"key": "mlops.promote.production.000001", "value": v1})]
    );
    assert_eq!(
        production(&b, dir, &model, &(b.seed)(0.5)).as_deref(),
        Some("1.0.0")
    );
}
