//! Scenario: from the default branch to production and back. A default-branch pipeline
//! registers; its manual promote job (run with gitlab-ci-local's `--manual`) points
//! `production` at that version; a second pipeline, in a second working copy, registers and
//! promotes a newer version; then the FIRST pipeline's promote job runs again, in the first
//! working copy, which still holds that pipeline's artifacts (as GitLab keeps each
//! pipeline's), and production moves back: GitLab's environment Rollback. Against a real
//! MLflow server and against the GitLab replica.
//!
//! Also, without running any job: which jobs gitlab-ci-local puts into a merge request, tag,
//! feature-branch and child pipeline (`--list`, with the predefined variables GitLab sets
//! there), and that every `needs` of those jobs is in the same pipeline
//! (`--validate-dependency-chain`).

use std::process::Command;

use serde_json::Value;

use super::{
    Pipeline, Repo, Vars, WINE_JOBS, dotenv, gitlab_ci_local, replica_tools, replica_vars,
    run_pipeline, run_pipeline_args, serial, servers, timer, unique,
};
use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, kv_str};

const PROMOTE: &str = "wine-classifier:promote";
const REPORTS: &str = "mlops-reports/wine-classifier";

/// The wine example with gate 2 against `production`, which turns the promote job on.
fn promoting_repo() -> Repo {
    let repo = Repo::new("wine-classifier");
    repo.edit_config(|t| {
        format!(
            "{t}\n[model.wine-classifier.compare]\nmin_improvement = 0\nwhen_no_production = \"pass\"\n"
        )
    });
    repo
}

/// gitlab-ci-local arguments that run only the manual promote job.
const RUN_PROMOTE: [&str; 3] = [PROMOTE, "--manual", PROMOTE];

fn promote_report(repo: &Repo) -> Value {
    serde_json::from_str(&repo.artifact(PROMOTE, &format!("{REPORTS}/promote.json")))
        .expect("promote.json")
}

/// The four jobs passed and the manual promote job did not start on its own.
fn assert_registered_only(p: &Pipeline) {
    for job in WINE_JOBS {
        p.assert_verdict(job, Some("PASS"));
    }
    assert!(!p.started(PROMOTE), "a manual job waits: {}", p.log);
    assert_eq!(p.code, Some(0), "{}", p.log);
}

fn assert_promoted(p: &Pipeline, repo: &Repo, version: &str, previous: Option<&str>) {
    p.assert_verdict(PROMOTE, Some("PASS"));
    let report = promote_report(repo);
    assert_eq!(report["status"], "promoted", "{report}");
    assert_eq!(report["version"]["version"], version, "{report}");
    assert_eq!(report["previous"]["version"].as_str(), previous, "{report}");
}

#[test]
fn promote_and_roll_back_on_mlflow() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("promote_and_roll_back_on_mlflow");
    let registered = unique("promote-model");
    let experiment = unique("promote-exp");
    let vars = [
        ("MLOPS_EXPERIMENT", experiment.as_str()),
        ("MLOPS_REGISTERED_MODEL", registered.as_str()),
    ];
    let production = || {
        srv.mlflow
            .alias(&registered, "production")
            .map(|v| v["version"].as_str().expect("version").to_owned())
    };
    let first = promoting_repo();
    first.commit("compare with production");

    let p = run_pipeline(&first, &srv, &vars, Vars::Cli);
    assert_registered_only(&p);
    assert_eq!(production(), None);
    let p = run_pipeline_args(&first, &srv, &vars, Vars::Cli, &RUN_PROMOTE);
    assert_promoted(&p, &first, "1", None);
    assert_eq!(production().as_deref(), Some("1"));

    let second = first.copy();
    std::fs::write(second.path().join("NOTES.md"), "second pipeline\n").expect("write");
    second.commit("a second default-branch pipeline");
    let p = run_pipeline(&second, &srv, &vars, Vars::Cli);
    assert_registered_only(&p);
    assert_eq!(
        production().as_deref(),
        Some("1"),
        "register leaves production"
    );
    let p = run_pipeline_args(&second, &srv, &vars, Vars::Cli, &RUN_PROMOTE);
    assert_promoted(&p, &second, "2", Some("1"));
    assert_eq!(production().as_deref(), Some("2"));

    // Rollback: the first pipeline's promote job again.
    let p = run_pipeline_args(&first, &srv, &vars, Vars::Cli, &RUN_PROMOTE);
    assert_promoted(&p, &first, "1", Some("2"));
    assert_eq!(production().as_deref(), Some("1"));
    assert_eq!(srv.mlflow.versions(&registered).len(), 2);
}

/// Production as the GitLab replica stores it: the latest version's alias table, overridden
/// by the newest promotion record on that version's own run (`docs/runtime.md`).
fn gitlab_production(gl: &Replica, model: &str) -> Option<String> {
    let versions = gl.versions(model);
    let latest = versions.last()?;
    let records = gl.run(latest["run_id"].as_str().expect("run_id"))["data"]["tags"].clone();
    let newest = records
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["key"]
                .as_str()
                .is_some_and(|k| k.starts_with("mlops.promote.production."))
        })
        .max_by_key(|t| t["key"].as_str().unwrap_or_default().to_owned())
        .and_then(|t| t["value"].as_str().map(str::to_owned));
    newest.or_else(|| kv_str(&latest["tags"], "mlops.alias.production"))
}

fn promote_and_roll_back_against(generation: Generation, name: &'static str) {
    let Some(gcl) = replica_tools() else { return };
    let _serial = serial();
    let _t = timer(name);
    let gl = Replica::start(generation);
    let vars = replica_vars(&gl);
    let first = promoting_repo();
    first.commit("compare with production");

    let p = gitlab_ci_local(&first, &gcl, &vars, Vars::Cli, &[]);
    assert_registered_only(&p);
    let p = gitlab_ci_local(&first, &gcl, &vars, Vars::Cli, &RUN_PROMOTE);
    assert_promoted(&p, &first, "1.0.0", None);
    assert_eq!(
        gitlab_production(&gl, "wine-classifier").as_deref(),
        Some("1.0.0")
    );

    let second = first.copy();
    std::fs::write(second.path().join("NOTES.md"), "second pipeline\n").expect("write");
    second.commit("a second default-branch pipeline");
    let p = gitlab_ci_local(&second, &gcl, &vars, Vars::Cli, &[]);
    assert_registered_only(&p);
    let reg = second.artifact(
        "wine-classifier:register",
        &format!("{REPORTS}/register.env"),
    );
    assert_eq!(
        dotenv(&reg, "MODEL_VERSION").as_deref(),
        Some("2.0.0"),
        "{reg}"
    );
    assert_eq!(
        gitlab_production(&gl, "wine-classifier").as_deref(),
        Some("1.0.0")
    );
    let p = gitlab_ci_local(&second, &gcl, &vars, Vars::Cli, &RUN_PROMOTE);
    assert_promoted(&p, &second, "2.0.0", Some("1.0.0"));
    assert_eq!(
        gitlab_production(&gl, "wine-classifier").as_deref(),
        Some("2.0.0")
    );

    let p = gitlab_ci_local(&first, &gcl, &vars, Vars::Cli, &RUN_PROMOTE);
    assert_promoted(&p, &first, "1.0.0", Some("2.0.0"));
    assert_eq!(
        gitlab_production(&gl, "wine-classifier").as_deref(),
        Some("1.0.0")
    );
    assert!(!p.log.contains(TOKEN), "the token leaked into the job log");
    assert_eq!(gl.unsupported(), Vec::<String>::new());
}

#[test]
fn promote_and_roll_back_against_gitlab() {
    promote_and_roll_back_against(Generation::Current, "promote_and_roll_back_against_gitlab");
}

/// The jobs gitlab-ci-local puts into the pipeline with these predefined variables
/// (`--list`), after checking that every `needs` is in it.
fn listed(repo: &Repo, gcl: &std::path::Path, vars: &[(&str, &str)]) -> Vec<String> {
    let run = |mode: &str| {
        let mut cmd = Command::new(gcl);
        cmd.current_dir(repo.path()).arg(mode);
        let names: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
        for (k, v) in vars {
            cmd.args(["--variable", &format!("{k}={v}")]);
        }
        if !names.is_empty() {
            cmd.args(["--ignore-predefined-vars", &names.join(",")]);
        }
        let out = cmd
            .env("PATH", harness::test_path())
            .env("NO_COLOR", "1")
            .output()
            .expect("gitlab-ci-local runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode} {vars:?}: {text}");
        text
    };
    run("--validate-dependency-chain");
    run("--list")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.starts_with("wine-classifier:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn register_and_promote_only_in_default_branch_and_tag_pipelines() {
    let Some(gcl) = harness::require_tool("gitlab-ci-local") else {
        return;
    };
    let repo = promoting_repo();
    repo.commit("compare with production");
    let all: Vec<String> = WINE_JOBS
        .iter()
        .chain(&[PROMOTE])
        .map(|s| (*s).to_owned())
        .collect();
    let gated = &all[..3];
    // The default branch (gitlab-ci-local's branch is `main`, its default branch).
    assert_eq!(listed(&repo, &gcl, &[]), all);
    // A merge request pipeline: GitLab sets no CI_COMMIT_BRANCH there.
    let mr = [
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_IID", "7"),
        ("CI_COMMIT_BRANCH", ""),
    ];
    assert_eq!(listed(&repo, &gcl, &mr), gated);
    // Its child pipeline: the source is `parent_pipeline`, the branch still unset.
    let child = [
        ("CI_PIPELINE_SOURCE", "parent_pipeline"),
        ("CI_MERGE_REQUEST_IID", "7"),
        ("CI_COMMIT_BRANCH", ""),
    ];
    assert_eq!(listed(&repo, &gcl, &child), gated);
    // A child of a default-branch pipeline registers.
    assert_eq!(
        listed(&repo, &gcl, &[("CI_PIPELINE_SOURCE", "parent_pipeline")]),
        all
    );
    // A feature branch, and a tag with the default `register_on`.
    assert_eq!(
        listed(&repo, &gcl, &[("CI_COMMIT_BRANCH", "feature")]),
        gated
    );
    let tag = [("CI_COMMIT_TAG", "v1.0.0"), ("CI_COMMIT_BRANCH", "")];
    assert_eq!(listed(&repo, &gcl, &tag), gated);
    // `register_on = "default_branch_and_tags"`: tags register and may promote.
    repo.edit_config(|t| format!("{t}\n[pipeline]\nregister_on = \"default_branch_and_tags\"\n"));
    repo.commit("register on tags");
    assert_eq!(listed(&repo, &gcl, &tag), all);
    assert_eq!(listed(&repo, &gcl, &mr), gated);
    // `every_pipeline` (the behaviour before `register_on`): merge requests register too,
    // but never promote.
    repo.edit_config(|t| t.replace("default_branch_and_tags", "every_pipeline"));
    repo.commit("register everywhere");
    assert_eq!(listed(&repo, &gcl, &mr), &all[..4]);
    assert_eq!(
        listed(&repo, &gcl, &[("CI_COMMIT_BRANCH", "feature")]),
        &all[..4]
    );
    assert_eq!(listed(&repo, &gcl, &[]), all);
}
