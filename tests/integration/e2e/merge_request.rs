//! Scenario: merge-request pipelines. gitlab-ci-local runs the wine pipeline with the
//! predefined variables GitLab sets in a merge-request pipeline (`CI_PIPELINE_SOURCE =
//! merge_request_event`, `CI_MERGE_REQUEST_IID`, no `CI_COMMIT_BRANCH`). Validate, train and
//! evaluate run; register and promote are not in the pipeline, so no version appears; and
//! evaluate leaves one note on the merge request. A second pipeline of the same merge request,
//! whose gate fails, updates that note in place: still one note, now saying "failed".
//!
//! Twice: with the GitLab replica as the tracking server and the notes API, and with a real
//! MLflow server for tracking while the notes go to the replica (a team on its own MLflow
//! server that reviews on GitLab).

use serde_json::Value;

use super::{
    Pipeline, Repo, Vars, WINE_JOBS, dotenv, gitlab_ci_local, replica_tools, replica_vars, serial,
    servers, timer,
};
use crate::gitlab::{Generation, Replica, TOKEN};

const IID: u64 = 7;
const MARKER: &str = "<!-- mlops:evaluate-note model=wine%2Dclassifier -->";
const REPORTS: &str = "mlops-reports/wine-classifier";

/// The predefined variables of a merge-request pipeline, as GitLab sets them.
fn merge_request_vars(gl: &Replica) -> Vec<(String, String)> {
    let mut vars = replica_vars(gl);
    vars.extend(
        [
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_IID", "7"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "main"),
            ("CI_COMMIT_BRANCH", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    vars
}

/// Validate, train and evaluate ran with these verdicts; register and promote never started.
fn assert_stops_at_the_verdict(p: &Pipeline, evaluate: &str) {
    p.assert_verdict(WINE_JOBS[0], Some("PASS"));
    p.assert_verdict(WINE_JOBS[1], Some("PASS"));
    p.assert_verdict(WINE_JOBS[2], Some(evaluate));
    for job in ["wine-classifier:register", "wine-classifier:promote"] {
        assert!(!p.started(job), "{job} is not in an MR pipeline: {}", p.log);
        p.assert_verdict(job, None);
    }
    assert!(!p.log.contains(TOKEN), "the token leaked into the job log");
}

/// The one note on the merge request, with its `note` object from evaluate.json.
fn the_note(gl: &Replica, repo: &Repo) -> (Value, Value) {
    let notes = gl.notes(IID);
    assert_eq!(notes.len(), 1, "one note per model: {notes:#?}");
    let evaluate: Value =
        serde_json::from_str(&repo.artifact(WINE_JOBS[2], &format!("{REPORTS}/evaluate.json")))
            .expect("evaluate.json");
    (notes[0].clone(), evaluate["note"].clone())
}

fn body(note: &Value) -> &str {
    note["body"].as_str().expect("a note has a body")
}

/// Two pipelines of one merge request. `vars` are the pipeline's variables; `versions`
/// counts the registered versions of the model wherever they are kept.
fn two_merge_request_pipelines(
    gcl: &std::path::Path,
    gl: &Replica,
    vars: &[(String, String)],
    versions: &dyn Fn() -> usize,
) {
    gl.open_merge_request(IID);
    let repo = Repo::new("wine-classifier");
    repo.commit("wine-classifier");

    // The first pipeline: the gate passes, a note is created.
    let p = gitlab_ci_local(&repo, gcl, vars, Vars::Cli, &[]);
    assert_stops_at_the_verdict(&p, "PASS");
    assert_eq!(p.code, Some(0), "{}", p.log);
    assert_eq!(versions(), 0, "an MR pipeline registers nothing");
    let train = repo.artifact(WINE_JOBS[1], &format!("{REPORTS}/train.env"));
    let experiment = dotenv(&train, "MLFLOW_EXPERIMENT_ID").expect("train.env has the experiment");
    let (first, report) = the_note(gl, &repo);
    assert_eq!(report["status"], "created", "{report}");
    assert_eq!(report["id"], first["id"], "{report}");
    let text = body(&first);
    assert!(text.starts_with(MARKER), "{text}");
    assert!(
        text.contains("✅ `wine-classifier` passed the quality gate"),
        "{text}"
    );
    assert!(text.contains("| threshold | `accuracy` |"), "{text}");
    // MLflow's UI links the run; GitLab's, the experiment page (docs/runtime.md).
    assert!(
        text.contains(&format!("#/experiments/{experiment}/runs/"))
            || text.contains(&format!("/-/ml/experiments/{experiment})")),
        "{text}"
    );
    assert!(text.contains("[job](https://"), "{text}");
    // The page evaluate wrote, linked through the job's artifacts.
    assert!(
        text.contains(&format!("/artifacts/file/{REPORTS}/report.html)")),
        "{text}"
    );
    let page = repo.artifact(WINE_JOBS[2], &format!("{REPORTS}/report.html"));
    assert!(page.contains("wine-classifier"), "{page}");
    assert!(
        text.contains("**Data checks: ✅ passed** (133 rows)"),
        "validate's results reach evaluate: {text}"
    );

    // A second pipeline of the same merge request, whose gate fails: the note is updated.
    std::fs::write(repo.path().join("NOTES.md"), "second pipeline\n").expect("write");
    repo.commit("a second pipeline of the merge request");
    let mut failing = vars.to_vec();
    failing.push(("MLOPS_MIN_THRESHOLD".to_owned(), "1.01".to_owned()));
    let p = gitlab_ci_local(&repo, gcl, &failing, Vars::Cli, &[]);
    assert_stops_at_the_verdict(&p, "FAIL");
    assert_eq!(p.code, Some(1), "{}", p.log);
    assert_eq!(versions(), 0, "an MR pipeline registers nothing");
    let (second, report) = the_note(gl, &repo);
    assert_eq!(report["status"], "updated", "{report}");
    assert_eq!(second["id"], first["id"], "the same note, updated in place");
    let text = body(&second);
    assert!(text.starts_with(MARKER), "{text}");
    assert!(
        text.contains("❌ `wine-classifier` failed the quality gate"),
        "{text}"
    );
    assert!(text.contains("≥ 1.01"), "{text}");
    assert_eq!(gl.unsupported(), Vec::<String>::new());
}

#[test]
fn merge_request_pipelines_against_gitlab() {
    let Some(gcl) = replica_tools() else { return };
    let _serial = serial();
    let _t = timer("merge_request_pipelines_against_gitlab");
    let gl = Replica::start(Generation::Current);
    let vars = merge_request_vars(&gl);
    two_merge_request_pipelines(&gcl, &gl, &vars, &|| gl.versions("wine-classifier").len());
}

#[test]
fn merge_request_pipelines_on_mlflow() {
    let Some(srv) = servers() else { return };
    let _serial = serial();
    let _t = timer("merge_request_pipelines_on_mlflow");
    let gl = Replica::start(Generation::Current);
    let registered = super::unique("mr-model");
    let mut vars = merge_request_vars(&gl);
    vars.extend(
        [
            // Tracking on the suite's MLflow server; the notes go to GitLab's API.
            ("MLFLOW_TRACKING_URI", srv.mlflow.uri.as_str()),
            ("MLFLOW_TRACKING_TOKEN", "test-token"),
            ("MLOPS_MLFLOW_FLAVOUR", "mlflow"),
            ("MLOPS_EXPERIMENT", super::unique("mr-exp").as_str()),
            ("MLOPS_REGISTERED_MODEL", registered.as_str()),
            ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    two_merge_request_pipelines(&srv.gcl, &gl, &vars, &|| {
        srv.mlflow.versions(&registered).len()
    });
    assert_eq!(
        gl.experiments(),
        Vec::<String>::new(),
        "tracking stayed on MLflow"
    );
}
