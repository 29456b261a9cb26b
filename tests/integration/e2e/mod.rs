//! End to end: every example pipeline runs for real. Each scenario copies an example into a
//! temporary git repository, checks `mlops compile --check`, runs the whole `.gitlab-ci.yml`
//! with gitlab-ci-local (shell executor, one build directory per job) against the suite's
//! MLflow server and moto S3 endpoint, and then asserts what landed on the servers (MLflow
//! REST, S3 REST) and in the jobs' artifacts. See "The end-to-end suite" in
//! `docs/development.md`.
//!
//! This module holds what the scenarios share: the servers, the temporary repository
//! ([`Repo`]), running a pipeline ([`gitlab_ci_local`]) and the shared assertions. Each
//! scenario has its own file.
//!
//! The scenarios share two CPU cores with heavy Python jobs, so they run one at a time
//! ([`SERIAL`]). Every scenario uses its own MLflow experiment (`MLOPS_EXPERIMENT`) and its own
//! registered model (`MLOPS_REGISTERED_MODEL`, or renamed models), so they never see each
//! other's runs and versions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use serde_json::Value;

use crate::harness::{self, git, kv, kv_str};
use mlflow::Mlflow;

mod challenger;
mod child_pipeline;
mod data_fails;
mod dvc_s3;
mod gate_fails;
mod gitlab;
mod merge_request;
mod mlflow;
mod multi_model;
mod passes;
mod promote;
mod shards;

/// One scenario at a time: each one starts several Python processes of 10-60 s.
static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A name no other scenario or suite run uses.
fn unique(tag: &str) -> String {
    harness::unique(&format!("e2e-{tag}"))
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

/// What a scenario against the GitLab replica needs (no MLflow server): gitlab-ci-local,
/// rsync and the harness' Python. `None` is a failure under `CI=true`.
fn replica_tools() -> Option<PathBuf> {
    let gcl = harness::require_tool("gitlab-ci-local")?;
    harness::require_tool("rsync")?;
    harness::python()?;
    Some(gcl)
}

/// The variables a real GitLab job has for the replica: only its API URL, the project and
/// the masked token; the runtime derives the GitLab flavour and tracking URI from them.
fn replica_vars(gl: &crate::gitlab::Replica) -> Vec<(String, String)> {
    [
        ("CI_API_V4_URL", gl.api_v4.as_str()),
        ("CI_PROJECT_ID", "1"),
        ("MLOPS_ACCESS_TOKEN", crate::gitlab::TOKEN),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

// ---------------------------------------------------------------------------------------
// The temporary project.

pub(crate) struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// The example in a new git repository: `origin/main` is an empty base commit, so `rules:changes` sees every file of the example as changed, as on a
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
        harness::track_origin_main(repo.path());
        repo
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A second working copy of the same repository, with this one's gitlab-ci-local state
    /// (pipeline counter, artifacts): a later pipeline runs there, so this copy keeps the
    /// artifacts of its own pipeline, as GitLab keeps each pipeline's.
    pub(crate) fn copy(&self) -> Repo {
        let dir = tempfile::Builder::new()
            .prefix("mlops-e2e-")
            .tempdir()
            .expect("tempdir");
        // `cp -a` keeps the symlinks that job build directories may hold.
        let status = Command::new("cp")
            .arg("-a")
            .arg(self.path().join("."))
            .arg(dir.path())
            .status()
            .expect("cp runs");
        assert!(status.success(), "cp -a");
        Repo { dir }
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
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
    run_pipeline_args(repo, srv, extra, how, &[])
}

/// [`run_pipeline`] with more gitlab-ci-local arguments (job names, `--manual JOB`).
fn run_pipeline_args(
    repo: &Repo,
    srv: &Servers,
    extra: &[(&str, &str)],
    how: Vars,
    args: &[&str],
) -> Pipeline {
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
    gitlab_ci_local(repo, &srv.gcl, &vars, how, args)
}

/// Runs gitlab-ci-local in the repository with exactly these CI/CD variables; `jobs` names
/// the jobs to run (all when empty) and may hold other arguments (`--manual JOB`).
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
    // Our CI_* variables replace gitlab-ci-local's predefined ones (a merge-request
    // pipeline's source and branch, GitLab's API URL).
    let mut ignore: Vec<&str> = vec!["CI_API_V4_URL", "CI_PROJECT_ID"];
    for (k, _) in vars {
        if k.starts_with("CI_") && !ignore.contains(&k.as_str()) {
            ignore.push(k);
        }
    }
    cmd.args(["--ignore-predefined-vars", &ignore.join(",")])
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
