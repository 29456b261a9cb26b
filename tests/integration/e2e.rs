//! End to end: every example pipeline runs for real. Each scenario copies an example into a
//! temporary git repository, checks `mlops compile --check`, runs the whole `.gitlab-ci.yml`
//! with gitlab-ci-local (shell executor, one build directory per job) against the suite's
//! MLflow server and moto S3 endpoint, and then asserts what landed on the servers (MLflow
//! REST, S3 REST) and in the jobs' artifacts. See "The end-to-end suite" in the README.
//!
//! The scenarios share two CPU cores with heavy Python jobs, so they run one at a time
//! ([`SERIAL`]). Every scenario uses its own MLflow experiment (`MLOPS_EXPERIMENT`) and its own
//! registered model (`MLOPS_REGISTERED_MODEL`, or renamed models), so they never see each
//! other's runs and versions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::harness;

/// One scenario at a time: each one starts several Python processes of 10-60 s.
static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A name no other scenario or suite run uses.
fn unique(tag: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("e2e-{tag}-{}-{}", std::process::id(), n % 1_000_000_000)
}

// ---------------------------------------------------------------------------------------
// The servers and tools of the harness.

struct Servers {
    gcl: PathBuf,
    /// `http://127.0.0.1:<port>/api/v4`: what a GitLab job sees as `CI_API_V4_URL`.
    api: String,
    mlflow: Mlflow,
}

/// The harness pieces every scenario needs, or `None` (a failure under `CI=true`).
fn servers() -> Option<Servers> {
    let gcl = harness::require_tool("gitlab-ci-local")?;
    harness::require_tool("rsync")?;
    harness::python()?;
    let uri = harness::mlflow_uri()?;
    let Ok(port) = std::env::var("MLOPS_TEST_MLFLOW_PORT") else {
        return harness::missing("the MLflow server port (MLOPS_TEST_MLFLOW_PORT)");
    };
    assert!(
        uri.ends_with("/api/v4/projects/1/ml/mlflow"),
        "MLOPS_TEST_MLFLOW_URI must use GitLab's layout: {uri}"
    );
    Some(Servers {
        gcl,
        api: format!("http://127.0.0.1:{port}/api/v4"),
        mlflow: Mlflow { uri },
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

/// The suite's MLflow server, read through its REST API.
struct Mlflow {
    uri: String,
}

impl Mlflow {
    fn call(&self, method: &str, endpoint: &str, body: &Value) -> (u16, Value) {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let mut resp = if method == "GET" {
            let mut rb = agent().get(&url);
            for (k, v) in body.as_object().into_iter().flatten() {
                rb = rb.query(k, v.as_str().unwrap_or_default());
            }
            rb.call()
        } else {
            agent().post(&url).send_json(body)
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn ok(&self, method: &str, endpoint: &str, body: &Value) -> Value {
        let (status, v) = self.call(method, endpoint, body);
        assert_eq!(status, 200, "{method} {endpoint} {body}: {v}");
        v
    }

    fn run(&self, run_id: &str) -> Value {
        self.ok("GET", "runs/get", &json!({ "run_id": run_id }))["run"].clone()
    }

    /// The experiment's id, or `None` when it does not exist.
    fn experiment_id(&self, name: &str) -> Option<String> {
        let (status, v) = self.call(
            "GET",
            "experiments/get-by-name",
            &json!({ "experiment_name": name }),
        );
        match status {
            200 => Some(
                v["experiment"]["experiment_id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            ),
            404 => None,
            _ => panic!("experiments/get-by-name {name}: {status} {v}"),
        }
    }

    /// Every run of the experiment (none when the experiment does not exist).
    fn runs_of(&self, experiment: &str) -> Vec<Value> {
        let Some(id) = self.experiment_id(experiment) else {
            return Vec::new();
        };
        let v = self.ok(
            "POST",
            "runs/search",
            &json!({ "experiment_ids": [id], "max_results": 1000 }),
        );
        v["runs"].as_array().cloned().unwrap_or_default()
    }

    /// Every version of the registered model (none when it does not exist).
    fn versions(&self, model: &str) -> Vec<Value> {
        let v = self.ok(
            "GET",
            "model-versions/search",
            &json!({ "filter": format!("name='{model}'"), "max_results": "1000" }),
        );
        v["model_versions"].as_array().cloned().unwrap_or_default()
    }

    /// The version an alias points at, or `None`.
    fn alias(&self, model: &str, alias: &str) -> Option<Value> {
        let (status, v) = self.call(
            "GET",
            "registered-models/alias",
            &json!({ "name": model, "alias": alias }),
        );
        match status {
            200 => Some(v["model_version"].clone()),
            404 => None,
            _ => panic!("registered-models/alias {model}@{alias}: {status} {v}"),
        }
    }
}

/// `key → value` of an MLflow `[{key, value}]` list (tags, params, metrics).
pub(crate) fn kv(list: &Value, key: &str) -> Option<Value> {
    list.as_array()?
        .iter()
        .find(|e| e["key"] == key)
        .map(|e| e["value"].clone())
}

pub(crate) fn kv_str(list: &Value, key: &str) -> Option<String> {
    kv(list, key).and_then(|v| v.as_str().map(str::to_owned))
}

// ---------------------------------------------------------------------------------------
// The temporary project.

pub(crate) struct Repo {
    dir: tempfile::TempDir,
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=mlops-test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Repo {
    /// The example in a new git repository (test-harness.md §6): `origin/main` is an empty
    /// base commit, so `rules:changes` sees every file of the example as changed, as on a
    /// new branch. The example itself is not committed yet: see [`Repo::commit`].
    pub(crate) fn new(example: &str) -> Repo {
        let dir = tempfile::Builder::new()
            .prefix("mlops-e2e-")
            .tempdir()
            .expect("tempdir");
        harness::copy_dir(&harness::root().join("examples").join(example), dir.path());
        let repo = Repo { dir };
        let mut ignore =
            std::fs::read_to_string(repo.path().join(".gitignore")).unwrap_or_default();
        ignore.push_str(".gitlab-ci-local/\n.gitlab-ci-local-variables.yml\n");
        std::fs::write(repo.path().join(".gitignore"), ignore).expect("write .gitignore");
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["commit", "-q", "--allow-empty", "-m", "base"]);
        repo.git(&[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.com/grp/proj.git",
        ]);
        repo.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
        repo.git(&[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ]);
        repo
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    /// Edits `mlops.toml` and regenerates `.gitlab-ci.yml` from it.
    fn edit_config(&self, edit: impl FnOnce(String) -> String) {
        let path = self.path().join("mlops.toml");
        let text = std::fs::read_to_string(&path).expect("read mlops.toml");
        let new = edit(text.clone());
        assert_ne!(new, text, "the edit changed mlops.toml");
        std::fs::write(&path, new).expect("write mlops.toml");
        self.mlops(&["compile"]);
    }

    fn mlops(&self, args: &[&str]) -> String {
        let out = harness::mlops()
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("mlops runs");
        assert!(
            out.status.success(),
            "mlops {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Commits the working tree; checks the committed pipeline is in sync; returns HEAD.
    pub(crate) fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
        self.mlops(&["compile", "--check"]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A file from the artifacts gitlab-ci-local stored for `job`
    /// (`.gitlab-ci-local/artifacts/<job>/`, the job name made path-safe as gitlab-ci-local
    /// 4.75 does: `:` becomes `Og`).
    pub(crate) fn artifact(&self, job: &str, rel: &str) -> String {
        let dir = self.path().join(".gitlab-ci-local/artifacts");
        let path = dir.join(job.replace(':', "Og")).join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            let have: Vec<String> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            panic!(
                "artifact {rel} of {job} ({}): {e}; artifact dirs: {have:?}",
                path.display()
            )
        })
    }
}

/// `KEY=value` lines of a dotenv file.
pub(crate) fn dotenv(text: &str, key: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .next_back()
}

// ---------------------------------------------------------------------------------------
// Running a pipeline.

pub(crate) struct Pipeline {
    pub(crate) code: Option<i32>,
    pub(crate) log: String,
}

impl Pipeline {
    /// The summary line of a job: ` PASS  name`, ` FAIL  name`, ` WARN  name`.
    /// A child pipeline's jobs may appear as `[<trigger job>] -> name`.
    fn verdict(&self, job: &str) -> Option<&'static str> {
        self.log.lines().find_map(|l| {
            ["PASS", "FAIL", "WARN"].into_iter().find(|v| {
                l.strip_prefix(&format!(" {v} ")).is_some_and(|rest| {
                    let rest = rest.trim();
                    let name = match rest.split_once("] -> ") {
                        Some((trigger, name)) if trigger.starts_with('[') => name,
                        _ => rest,
                    };
                    name == job
                })
            })
        })
    }

    pub(crate) fn assert_verdict(&self, job: &str, want: Option<&str>) {
        assert_eq!(
            self.verdict(job),
            want,
            "verdict of {job}; pipeline log:\n{}",
            self.log
        );
    }

    /// Whether the job started at all (gitlab-ci-local prints `<job> starting shell`).
    fn started(&self, job: &str) -> bool {
        self.log.lines().any(|l| {
            l.strip_prefix(job)
                .is_some_and(|rest| rest.trim_start().starts_with("starting shell"))
        })
    }
}

/// How the CI/CD variables reach the jobs.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Vars {
    /// `--variable K=V` on the command line.
    Cli,
    /// Also `.gitlab-ci-local-variables.yml` (project variables): gitlab-ci-local starts a
    /// child pipeline with only the trigger job's variables, not the `--variable` ones, but
    /// the child reads the same variables file.
    CliAndFile,
}

/// Runs the repository's whole pipeline with gitlab-ci-local against the suite's servers.
fn run_pipeline(repo: &Repo, srv: &Servers, extra: &[(&str, &str)], how: Vars) -> Pipeline {
    let mut vars: Vec<(String, String)> = vec![
        ("CI_API_V4_URL".into(), srv.api.clone()),
        ("CI_PROJECT_ID".into(), "1".into()),
        ("MLFLOW_TRACKING_TOKEN".into(), "test-token".into()),
        // A real MLflow behind GitLab's URL layout: the runtime would assume GitLab's subset.
        ("MLOPS_MLFLOW_FLAVOUR".into(), "mlflow".into()),
        // The server is local and up: fail fast instead of backing off for minutes.
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES".into(), "2".into()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    gitlab_ci_local(repo, &srv.gcl, &vars, how, &[])
}

/// Runs gitlab-ci-local in the repository with exactly these CI/CD variables; `jobs` names
/// the jobs to run (all when empty).
pub(crate) fn gitlab_ci_local(
    repo: &Repo,
    gcl: &Path,
    vars: &[(String, String)],
    how: Vars,
    jobs: &[&str],
) -> Pipeline {
    let mut cmd = Command::new(gcl);
    cmd.current_dir(repo.path()).args([
        "--force-shell-executor",
        "--shell-isolation",
        "--no-artifacts-to-source",
        "--no-color",
    ]);
    cmd.args(jobs);
    for (k, v) in vars {
        assert!(!v.contains('$'), "gitlab-ci-local expands `$` in {k}={v}");
        cmd.args(["--variable", &format!("{k}={v}")]);
    }
    if how == Vars::CliAndFile {
        let mut yaml = String::new();
        for (k, v) in vars {
            let _ = writeln!(yaml, "{k}: {}", Value::String(v.clone()));
        }
        std::fs::write(repo.path().join(".gitlab-ci-local-variables.yml"), yaml)
            .expect("write variables file");
    }
    cmd.args(["--ignore-predefined-vars", "CI_API_V4_URL,CI_PROJECT_ID"])
        .env("PATH", harness::test_path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    // The jobs' environment comes from gitlab-ci-local, not from the test process.
    for (k, _) in std::env::vars() {
        if k.starts_with("CI_")
            || k.starts_with("MLOPS_")
            || k.starts_with("MLFLOW_")
            || k.starts_with("AWS_")
            || k.starts_with("GCL_")
            || k == "GITLAB_CI"
            || k == "CI"
        {
            cmd.env_remove(k);
        }
    }
    let t = Instant::now();
    let out = cmd.output().expect("gitlab-ci-local runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "e2e: pipeline in {} finished in {:.1} s with {:?}",
        repo.path().display(),
        t.elapsed().as_secs_f64(),
        out.status.code()
    );
    Pipeline {
        code: out.status.code(),
        log,
    }
}

/// Prints the scenario's duration when it ends (also on failure).
pub(crate) struct Timer(&'static str, Instant);

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!(
            "e2e: scenario {} took {:.1} s",
            self.0,
            self.1.elapsed().as_secs_f64()
        );
    }
}

pub(crate) fn timer(name: &'static str) -> Timer {
    Timer(name, Instant::now())
}

// ---------------------------------------------------------------------------------------
// Shared assertions.

/// What a passing train job left: the run id from its dotenv, checked on the server as a
/// FINISHED run in `experiment`, with autologged params and metrics and the CI tags.
fn assert_trained(
    srv: &Servers,
    repo: &Repo,
    train_job: &str,
    model: &str,
    experiment: &str,
    commit: &str,
) -> String {
    let env = repo.artifact(train_job, &format!("mlops-reports/{model}/train.env"));
    let run_id = dotenv(&env, "MLFLOW_RUN_ID").expect("train.env has MLFLOW_RUN_ID");
    let run = srv.mlflow.run(&run_id);
    let exp_id = srv
        .mlflow
        .experiment_id(experiment)
        .expect("the experiment exists");
    assert_eq!(run["info"]["experiment_id"], exp_id.as_str(), "{run}");
    assert_eq!(
        dotenv(&env, "MLFLOW_EXPERIMENT_ID").as_deref(),
        Some(exp_id.as_str())
    );
    assert_eq!(run["info"]["status"], "FINISHED", "{run}");
    let data = &run["data"];
    // Autolog: the estimator's parameters and training metrics; the script's own metric.
    assert!(
        kv_str(&data["params"], "n_estimators").is_some(),
        "autologged params: {}",
        data["params"]
    );
    for m in ["training_accuracy_score", "accuracy"] {
        assert!(kv(&data["metrics"], m).is_some(), "metric {m}: {data}");
    }
    let tags = &data["tags"];
    assert_eq!(
        kv_str(tags, "mlops.commit_sha").as_deref(),
        Some(commit),
        "{tags}"
    );
    assert_eq!(
        kv_str(tags, "mlflow.source.git.commit").as_deref(),
        Some(commit)
    );
    assert_eq!(kv_str(tags, "mlops.branch").as_deref(), Some("main"));
    assert_eq!(kv_str(tags, "mlops.model").as_deref(), Some(model));
    for t in ["mlops.pipeline_id", "mlops.job_id", "mlops.job_url"] {
        assert!(
            kv_str(tags, t).is_some_and(|v| !v.is_empty()),
            "tag {t}: {tags}"
        );
    }
    run_id
}

/// The version `alias` of `registered` points at the run, tagged with the commit and the
/// run's pipeline; returns the version number.
fn assert_registered(
    srv: &Servers,
    registered: &str,
    alias: &str,
    run_id: &str,
    commit: &str,
) -> String {
    let v = srv.mlflow.alias(registered, alias).unwrap_or_else(|| {
        panic!(
            "{registered}@{alias} exists; versions: {:?}",
            srv.mlflow.versions(registered)
        )
    });
    assert_eq!(v["run_id"], run_id, "{v}");
    assert_eq!(
        kv_str(&v["tags"], "mlops.commit_sha").as_deref(),
        Some(commit),
        "{v}"
    );
    let pipeline = kv_str(&srv.mlflow.run(run_id)["data"]["tags"], "mlops.pipeline_id");
    assert!(pipeline.is_some());
    assert_eq!(kv_str(&v["tags"], "mlops.pipeline_id"), pipeline, "{v}");
    v["version"].as_str().expect("version").to_owned()
}

pub(crate) const WINE_JOBS: [&str; 4] = [
    "wine-classifier:validate",
    "wine-classifier:train",
    "wine-classifier:evaluate",
    "wine-classifier:register",
];

// ---------------------------------------------------------------------------------------
// Scenarios.

/// 1. `wine-classifier` passes: four jobs, a FINISHED run, a version with alias `staging`,
///    and the report artifacts.
#[test]
fn wine_classifier_passes() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("wine_classifier_passes");
    let experiment = unique("wine-exp");
    let registered = unique("wine-model");
    let repo = Repo::new("wine-classifier");
    let commit = repo.commit("wine-classifier");

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
        ],
        Vars::Cli,
    );
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert_eq!(p.code, Some(0), "{}", p.log);

    let model = "wine-classifier";
    let run_id = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        model,
        &experiment,
        &commit,
    );
    assert_eq!(srv.mlflow.runs_of(&experiment).len(), 1);
    let version = assert_registered(&srv, &registered, "staging", &run_id, &commit);
    assert_eq!(version, "1");

    // validate: JUnit with no failures.
    let vj = repo.artifact(
        "wine-classifier:validate",
        "mlops-reports/wine-classifier/validate.junit.xml",
    );
    assert!(
        vj.contains("<testsuites") && vj.contains("failures=\"0\""),
        "{vj}"
    );
    // evaluate: dotenv, JUnit and OpenMetrics with the server's value of the metric.
    let dir = "mlops-reports/wine-classifier";
    let ev = repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.env"));
    assert_eq!(
        dotenv(&ev, "MLOPS_GATE_PASSED").as_deref(),
        Some("true"),
        "{ev}"
    );
    assert_eq!(
        dotenv(&ev, "MLFLOW_RUN_ID").as_deref(),
        Some(run_id.as_str())
    );
    let junit = repo.artifact(
        "wine-classifier:evaluate",
        &format!("{dir}/evaluate.junit.xml"),
    );
    assert!(
        junit.contains("tests=\"1\" failures=\"0\" errors=\"0\"")
            && junit.contains("name=\"threshold accuracy\""),
        "{junit}"
    );
    let metrics = repo.artifact("wine-classifier:evaluate", &format!("{dir}/metrics.txt"));
    let accuracy = kv(&srv.mlflow.run(&run_id)["data"]["metrics"], "accuracy")
        .and_then(|v| v.as_f64())
        .expect("accuracy");
    let reported: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("accuracy "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("metrics.txt has accuracy: {metrics}"));
    assert!(
        (reported - accuracy).abs() < 1e-9,
        "{reported} vs {accuracy}"
    );
    assert!(metrics.trim_end().ends_with("# EOF"), "{metrics}");
    // register: the dotenv names the version the server has.
    let reg = repo.artifact("wine-classifier:register", &format!("{dir}/register.env"));
    assert_eq!(
        dotenv(&reg, "MODEL_NAME").as_deref(),
        Some(registered.as_str()),
        "{reg}"
    );
    assert_eq!(
        dotenv(&reg, "MODEL_VERSION").as_deref(),
        Some(version.as_str())
    );
    assert_eq!(dotenv(&reg, "MODEL_ALIAS").as_deref(), Some("staging"));
}

/// 2. The gate fails: a threshold above any reachable accuracy, from a pipeline variable.
///    Evaluate exits 1, register does not run, no version exists.
#[test]
fn gate_fails() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("gate_fails");
    let experiment = unique("gate-exp");
    let registered = unique("gate-model");
    let repo = Repo::new("wine-classifier");
    let commit = repo.commit("wine-classifier");

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
            ("MLOPS_MIN_THRESHOLD", "1.01"),
        ],
        Vars::Cli,
    );
    assert_eq!(p.code, Some(1), "{}", p.log);
    p.assert_verdict("wine-classifier:validate", Some("PASS"));
    p.assert_verdict("wine-classifier:train", Some("PASS"));
    p.assert_verdict("wine-classifier:evaluate", Some("FAIL"));
    p.assert_verdict("wine-classifier:register", None);
    assert!(!p.started("wine-classifier:register"), "{}", p.log);

    let run_id = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit,
    );
    let dir = "mlops-reports/wine-classifier";
    let report: Value = serde_json::from_str(
        &repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.json")),
    )
    .expect("evaluate.json");
    assert_eq!(
        report["exit"], 1,
        "evaluate exits 1 on a failed gate: {report}"
    );
    let ev = repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.env"));
    assert_eq!(
        dotenv(&ev, "MLOPS_GATE_PASSED").as_deref(),
        Some("false"),
        "{ev}"
    );
    assert_eq!(
        dotenv(&ev, "MLFLOW_RUN_ID").as_deref(),
        Some(run_id.as_str())
    );
    let junit = repo.artifact(
        "wine-classifier:evaluate",
        &format!("{dir}/evaluate.junit.xml"),
    );
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(
        srv.mlflow.versions(&registered).is_empty(),
        "no version of {registered}"
    );
}

/// 3. The data fails: nulls above `max_null_ratio` in the committed training data. Validate
///    fails, train never runs, and no MLflow run exists.
#[test]
fn data_fails() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("data_fails");
    let experiment = unique("data-exp");
    let registered = unique("data-model");
    let repo = Repo::new("wine-classifier");
    // Blank `alcohol` in every fourth row: 25 % nulls, above the default 5 %.
    let path = repo.path().join("data/train.csv");
    let csv = std::fs::read_to_string(&path).expect("read csv");
    let mut out = String::new();
    let mut blanked = 0;
    for (i, line) in csv.lines().enumerate() {
        if i > 0 && i % 4 == 0 {
            let (_, rest) = line.split_once(',').expect("csv row");
            out.push(',');
            out.push_str(rest);
            blanked += 1;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(blanked > 20);
    std::fs::write(&path, out).expect("write csv");
    repo.commit("nulls in the training data");

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
        ],
        Vars::Cli,
    );
    assert_eq!(p.code, Some(1), "{}", p.log);
    p.assert_verdict("wine-classifier:validate", Some("FAIL"));
    for job in &WINE_JOBS[1..] {
        p.assert_verdict(job, None);
        assert!(!p.started(job), "{job} started:\n{}", p.log);
    }
    let report: Value = serde_json::from_str(&repo.artifact(
        "wine-classifier:validate",
        "mlops-reports/wine-classifier/validate.json",
    ))
    .expect("validate.json");
    let alcohol = report.to_string();
    assert!(alcohol.contains("alcohol"), "{report}");
    assert!(
        srv.mlflow.runs_of(&experiment).is_empty(),
        "no MLflow run in {experiment}"
    );
    assert!(srv.mlflow.versions(&registered).is_empty());
}

/// 4. `multi-model`: three models in one pipeline, in parallel, each with its own run and
///    version. The models are renamed so their registered models are this scenario's own.
#[test]
fn multi_model_runs_three_models() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("multi_model_runs_three_models");
    let experiment = unique("multi-exp");
    let suffix = unique("m");
    let repo = Repo::new("multi-model");
    let models = [
        ("wine", "wine-classifier", "staging"),
        ("iris", "iris-classifier", "candidate"),
        ("cancer", "breast-cancer-classifier", "staging"),
    ];
    repo.edit_config(|mut t| {
        for (_, m, _) in models {
            t = t.replace(&format!("[model.{m}"), &format!("[model.{m}-{suffix}"));
        }
        t
    });
    let commit = repo.commit("multi-model, renamed models");

    let p = run_pipeline(&repo, &srv, &[("MLOPS_EXPERIMENT", &experiment)], Vars::Cli);
    for (job, _, _) in models {
        for stage in ["validate", "train", "evaluate", "register"] {
            p.assert_verdict(&format!("{job}:{stage}"), Some("PASS"));
        }
    }
    assert_eq!(p.code, Some(0), "{}", p.log);
    // In parallel: the three train jobs started before any of them finished.
    let first_finish = p
        .log
        .lines()
        .position(|l| l.contains(":train") && l.contains("finished in"))
        .expect("a train job finished");
    for (job, _, _) in models {
        let started = p
            .log
            .lines()
            .position(|l| l.starts_with(&format!("{job}:train")) && l.contains("starting shell"))
            .expect("train started");
        assert!(
            started < first_finish,
            "{job}:train ran in parallel:\n{}",
            p.log
        );
    }

    let mut runs = Vec::new();
    for (job, m, alias) in models {
        let name = format!("{m}-{suffix}");
        let run_id = assert_trained(
            &srv,
            &repo,
            &format!("{job}:train"),
            &name,
            &experiment,
            &commit,
        );
        let version = assert_registered(&srv, &name, alias, &run_id, &commit);
        assert_eq!(version, "1");
        runs.push(run_id);
    }
    runs.sort();
    runs.dedup();
    assert_eq!(runs.len(), 3, "three distinct runs");
    assert_eq!(srv.mlflow.runs_of(&experiment).len(), 3);
}

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

/// 6. Champion and challenger: the first pipeline's model becomes `production`; a second
///    pipeline compares with it and fails when it demands an impossible relative
///    improvement; a third passes with `min_improvement = 0` and becomes production.
#[test]
fn challenger_against_champion() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("challenger_against_champion");
    let experiment = unique("champ-exp");
    let registered = unique("champ-model");
    let repo = Repo::new("wine-classifier");
    repo.edit_config(|t| {
        let t = t.replace(
            "min_threshold = 0.85\n",
            "min_threshold = 0.85\nalias = \"production\"\n",
        );
        format!(
            "{t}\n[model.wine-classifier.compare]\nalias = \"production\"\nmin_improvement = 0\nwhen_no_production = \"pass\"\n"
        )
    });
    let commit = repo.commit("compare with production");
    let vars = [
        ("MLOPS_EXPERIMENT", experiment.as_str()),
        ("MLOPS_REGISTERED_MODEL", registered.as_str()),
    ];
    let dir = "mlops-reports/wine-classifier";

    // First pipeline: no production model yet; the gate passes and the version becomes it.
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    let champion = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit,
    );
    assert_eq!(
        assert_registered(&srv, &registered, "production", &champion, &commit),
        "1"
    );

    // Second pipeline: an impossible relative improvement (50 % over an accuracy near 1).
    repo.edit_config(|t| {
        t.replace(
            "min_improvement = 0\n",
            "min_improvement = 0\nmin_relative_improvement = 0.5\n",
        )
    });
    let commit2 = repo.commit("demand 50 % over production");
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    assert_eq!(p.code, Some(1), "{}", p.log);
    p.assert_verdict("wine-classifier:evaluate", Some("FAIL"));
    p.assert_verdict("wine-classifier:register", None);
    let challenger = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit2,
    );
    assert_ne!(challenger, champion);
    let report: Value = serde_json::from_str(
        &repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.json")),
    )
    .expect("evaluate.json");
    assert_eq!(report["exit"], 1, "{report}");
    assert!(
        report.to_string().contains(&champion),
        "the comparison names the production run: {report}"
    );
    assert_eq!(srv.mlflow.versions(&registered).len(), 1);
    assert_eq!(
        srv.mlflow
            .alias(&registered, "production")
            .expect("production")["run_id"],
        champion.as_str()
    );

    // Third pipeline: back to `min_improvement = 0`; equal or better passes.
    repo.edit_config(|t| t.replace("min_relative_improvement = 0.5\n", ""));
    let commit3 = repo.commit("no improvement required");
    let p = run_pipeline(&repo, &srv, &vars, Vars::Cli);
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    let third = assert_trained(
        &srv,
        &repo,
        "wine-classifier:train",
        "wine-classifier",
        &experiment,
        &commit3,
    );
    let report: Value = serde_json::from_str(
        &repo.artifact("wine-classifier:evaluate", &format!("{dir}/evaluate.json")),
    )
    .expect("evaluate.json");
    assert!(
        report.to_string().contains(&champion),
        "compared with the champion: {report}"
    );
    assert_eq!(
        assert_registered(&srv, &registered, "production", &third, &commit3),
        "2"
    );
    assert_eq!(srv.mlflow.versions(&registered).len(), 2);
}

/// 7. Child pipeline mode: the parent generates the child and triggers it; the child's four
///    jobs pass and the model lands on the server. gitlab-ci-local does not fail the parent
///    for a failing child, so the job lines are checked.
#[test]
fn child_pipeline_runs() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("child_pipeline_runs");
    let experiment = unique("child-exp");
    let registered = unique("child-model");
    let repo = Repo::new("wine-classifier");
    repo.mlops(&["compile", "--child-pipeline"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "child pipeline mode"]);
    let commit = repo.git(&["rev-parse", "HEAD"]);
    repo.mlops(&["compile", "--child-pipeline", "--check"]);

    let p = run_pipeline(
        &repo,
        &srv,
        &[
            ("MLOPS_EXPERIMENT", &experiment),
            ("MLOPS_REGISTERED_MODEL", &registered),
        ],
        Vars::CliAndFile,
    );
    // The parent's two jobs, named as the compiler names them: the trigger job and the job
    // whose artifact it includes.
    let parent = std::fs::read_to_string(repo.path().join(".gitlab-ci.yml")).expect("read");
    let doc = mlops::yaml::parse(&parent).expect("parent YAML").to_json();
    let (trigger, generate) = doc
        .as_object()
        .expect("mapping")
        .iter()
        .find_map(|(name, job)| {
            let g = job["trigger"]["include"][0]["job"].as_str()?;
            Some((name.clone(), g.to_owned()))
        })
        .expect("a trigger job");
    p.assert_verdict(&generate, Some("PASS"));
    p.assert_verdict(&trigger, Some("PASS"));
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert!(!p.log.lines().any(|l| l.starts_with(" FAIL ")), "{}", p.log);
    assert_eq!(p.code, Some(0), "{}", p.log);
    let runs = srv.mlflow.runs_of(&experiment);
    assert_eq!(runs.len(), 1, "one run: {runs:?}");
    let run = &runs[0];
    assert_eq!(run["info"]["status"], "FINISHED", "{run}");
    assert_eq!(
        kv_str(&run["data"]["tags"], "mlops.commit_sha").as_deref(),
        Some(commit.as_str())
    );
    let run_id = run["info"]["run_id"].as_str().expect("run id");
    assert_registered(&srv, &registered, "staging", run_id, &commit);
}
