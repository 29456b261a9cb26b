//! Child pipelines: the fixed parent (`mlops compile --child-pipeline`), `--changed-only`
//! filtering against a real git history, the fingerprint rule for generated children, and
//! the parent run end to end by gitlab-ci-local (`docs/development.md`).

use std::path::Path;
use std::process::Command;

use crate::harness::{self, git, transcript};

fn example(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    harness::copy_dir(&harness::root().join("examples").join(name), tmp.path());
    tmp
}

fn parent_of(dir: &Path, extra: &[&str]) -> String {
    let out = harness::mlops()
        .current_dir(dir)
        .args(["compile", "--child-pipeline", "--stdout"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn parent_is_fixed_and_valid() {
    let wine = example("wine-classifier");
    let multi = example("multi-model");
    let parent = parent_of(wine.path(), &[]);
    assert_eq!(
        parent,
        parent_of(multi.path(), &[]),
        "the parent must not depend on the models"
    );
    let doc = mlops::yaml::parse(&parent).expect("yaml").to_json();
    assert_eq!(
        doc["mlops-generate"]["script"][0],
        "mlops compile -o mlops-child.yml"
    );
    assert_eq!(
        doc["mlops-generate"]["artifacts"]["paths"][0],
        "mlops-child.yml"
    );
    assert_eq!(
        doc["mlops-pipeline"]["trigger"],
        serde_json::json!({"include": [{"artifact": "mlops-child.yml", "job": "mlops-generate"}], "strategy": "depend"})
    );
    assert!(doc["variables"].get("MLOPS_FINGERPRINT").is_none());
    let changed = parent_of(wine.path(), &["--changed-only"]);
    assert!(
        changed.contains("mlops compile -o mlops-child.yml --changed-only"),
        "{changed}"
    );
    insta::with_settings!({snapshot_path => "../../snapshots/lint", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("child-parent", parent);
    });

    // Written to disk, checked, and clean for lint.
    let out = harness::mlops()
        .current_dir(wine.path())
        .args(["compile", "--child-pipeline"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let (code, text) = transcript(harness::mlops().current_dir(wine.path()).args([
        "compile",
        "--child-pipeline",
        "--check",
    ]));
    assert_eq!(code, 0, "{text}");
    let (code, text) = transcript(harness::mlops().current_dir(wine.path()).arg("lint"));
    assert_eq!(code, 0, "{text}");
}

/// Runs `mlops compile --changed-only -o mlops-child.yml` with `CI_COMMIT_BEFORE_SHA`.
fn changed_only(dir: &Path, before: &str) -> (String, String) {
    let out = harness::mlops()
        .current_dir(dir)
        .args(["compile", "--changed-only", "-o", "mlops-child.yml"])
        .env("CI_COMMIT_BEFORE_SHA", before)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = std::fs::read_to_string(dir.join("mlops-child.yml")).expect("child written");
    (child, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn jobs(child: &str) -> Vec<String> {
    let doc = mlops::yaml::parse(child).expect("yaml").to_json();
    mlops::gitlab::jobs(&doc)
        .into_iter()
        .map(|(n, _)| n.to_owned())
        .collect()
}

#[test]
fn changed_only_follows_git_history() {
    let repo = example("multi-model");
    harness::git_repo(repo.path());
    let base = git(repo.path(), &["rev-parse", "HEAD"]);

    // Nothing changed: a valid pipeline with one job that says so.
    git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "empty"],
    );
    let (child, log) = changed_only(repo.path(), &base);
    assert_eq!(jobs(&child), vec!["mlops-no-model-changed"], "{child}");
    assert!(log.contains("no model changed"), "{log}");
    let (code, text) = transcript(
        harness::mlops()
            .current_dir(repo.path())
            .args(["lint", "mlops-child.yml"]),
    );
    assert_eq!(code, 0, "{text}");

    // One model's data changed: only its jobs.
    let config = std::fs::read_to_string(repo.path().join("mlops.toml")).expect("config");
    let iris = mlops::config::load_project(&mlops::config::Source::new("mlops.toml", config))
        .expect("loads")
        .models
        .into_iter()
        .find(|m| m.name.contains("iris"))
        .expect("an iris model");
    let data = repo.path().join(&iris.data_path);
    let mut text = std::fs::read_to_string(&data).expect("data");
    let last = text.lines().last().unwrap_or_default().to_owned();
    text.push_str(&last);
    text.push('\n');
    std::fs::write(&data, text).expect("write");
    git(repo.path(), &["commit", "-qam", "more iris"]);
    let (child, log) = changed_only(repo.path(), &base);
    let names = jobs(&child);
    assert!(
        !names.is_empty()
            && names
                .iter()
                .all(|j| j.starts_with(&format!("{}:", iris.prefix))),
        "{names:?}\n{log}"
    );
    assert!(
        !child.contains("MLOPS_FINGERPRINT"),
        "a filtered child carries no fingerprint"
    );

    // A filtered child's jobs are not refused by the runtime's fingerprint check, which is
    // otherwise active: the same job with a wrong fingerprint is refused.
    let doc = mlops::yaml::parse(&child).expect("yaml").to_json();
    let mut run = harness::mlops();
    run.current_dir(repo.path())
        .args(["run", "validate", "--model", &iris.name]);
    for (k, v) in doc["variables"].as_object().expect("variables") {
        run.env(k, v.as_str().unwrap_or_default());
    }
    let (code, text) = transcript(&mut run);
    assert_eq!(code, 0, "{text}");
    let (code, text) = transcript(run.env("MLOPS_FINGERPRINT", "0000"));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("run `mlops compile`"), "{text}");

    // No usable base (all-zero SHA of a new branch): every model.
    let (child, log) = changed_only(repo.path(), "0000000000000000000000000000000000000000");
    assert!(log.contains("keeping all models"), "{log}");
    // Four jobs per model, five with the manual promote.
    assert_eq!(
        jobs(&child).len(),
        mlops::config::load_project(&mlops::config::Source::new(
            "mlops.toml",
            std::fs::read_to_string(repo.path().join("mlops.toml")).expect("config")
        ))
        .expect("loads")
        .models
        .iter()
        .map(|m| 4 + usize::from(m.promote))
        .sum::<usize>()
    );
}

/// The parent, run by gitlab-ci-local: the generate job writes the child, the trigger job
/// runs it, and the child's validate job passes (it needs no MLflow). Train and later jobs
/// need an MLflow server; with the suite's server they run too, but only generation,
/// triggering and validate are asserted here (gitlab-ci-local does not pass a child's
/// failure to its exit code, so job lines are checked).
#[test]
fn parent_runs_child_in_gitlab_ci_local() {
    let Some(gcl) = harness::require_tool("gitlab-ci-local") else {
        return;
    };
    let repo = example("wine-classifier");
    let out = harness::mlops()
        .current_dir(repo.path())
        .args(["compile", "--child-pipeline"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(repo.path().join(".gitignore"), ".gitlab-ci-local/\n").expect("write");
    // `--variable` does not reach a child pipeline in gitlab-ci-local; this file does. With
    // the suite's MLflow the whole child runs; without it train fails fast (a closed port,
    // no retries) and only validate is asserted anyway.
    let uri =
        std::env::var("MLOPS_TEST_MLFLOW_URI").unwrap_or_else(|_| "http://127.0.0.1:9".to_owned());
    std::fs::write(
        repo.path().join(".gitlab-ci-local-variables.yml"),
        format!("MLFLOW_TRACKING_URI: {uri:?}\nMLFLOW_HTTP_REQUEST_MAX_RETRIES: \"0\"\n"),
    )
    .expect("write");
    harness::git_repo(repo.path());
    harness::track_origin_main(repo.path());

    let mut cmd = Command::new(gcl);
    cmd.current_dir(repo.path())
        .args([
            "--force-shell-executor",
            "--shell-isolation",
            "--no-artifacts-to-source",
            "--no-color",
        ])
        .env("PATH", harness::test_path())
        .stdin(std::process::Stdio::null());
    let out = cmd.output().expect("gitlab-ci-local runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |status: &str, job: &str| {
        log.lines()
            .any(|l| l.starts_with(&format!(" {status} ")) && l.contains(job))
    };
    assert!(line("PASS", "mlops-generate"), "{log}");
    assert!(line("PASS", "mlops-pipeline"), "{log}");
    assert!(
        line("PASS", "wine-classifier:validate"),
        "the child ran and validate passed:\n{log}"
    );
    assert!(
        !log.contains("run `mlops compile`"),
        "no job was refused as stale:\n{log}"
    );
}
