//! evaluate's merge-request note: `mlops run evaluate` with the CI variables of a
//! merge-request pipeline, notes going to the replica's notes API; the tracking server is the
//! replica or a real MLflow server. One note per model, updated in place; a notice and no
//! request without a merge request or a token; refusals and outages are warnings that leave
//! the gate and the exit code alone and never show the token.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use super::report;
use crate::gitlab::{Generation, OUTSIDER_TOKEN, READ_API_TOKEN, REPORTER_TOKEN, Replica, TOKEN};
use crate::harness::{self, transcript_of, unique};
use crate::runtime::stage;

const IID: &str = "7";

/// A copy of the wine example with one model `model`, and its validate report.
fn project(dir: &Path, model: &str) {
    harness::copy_dir(&harness::root().join("examples/wine-classifier"), dir);
    std::fs::write(
        dir.join("mlops.toml"),
        format!(
            "mlops-version = \"{}\"\n\n[model.{model}]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.8\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .expect("write mlops.toml");
    let o = stage(
        dir,
        "http://127.0.0.1:9",
        &["validate", "--model", model],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
}

/// The variables of a merge-request pipeline's evaluate job, without a token.
fn mr_env(gl: &Replica, pipeline: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("CI_PIPELINE_SOURCE", "merge_request_event".to_owned()),
        ("CI_MERGE_REQUEST_IID", IID.to_owned()),
        ("CI_API_V4_URL", gl.api_v4.clone()),
        ("CI_PROJECT_ID", "1".to_owned()),
        ("CI_PIPELINE_ID", pipeline.to_owned()),
        (
            "CI_COMMIT_SHA",
            "0123456789abcdef0123456789abcdef01234567".to_owned(),
        ),
        ("CI_JOB_ID", "501".to_owned()),
        (
            "CI_JOB_URL",
            "https://gitlab.example/g/p/-/jobs/501".to_owned(),
        ),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1".to_owned()),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0".to_owned()),
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", "5".to_owned()),
    ]
}

fn run(dir: &Path, uri: &str, args: &[&str], env: &[(&str, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    stage(dir, uri, args, &env)
}

fn with(
    mut env: Vec<(&'static str, String)>,
    k: &'static str,
    v: &str,
) -> Vec<(&'static str, String)> {
    env.retain(|(n, _)| *n != k);
    env.push((k, v.to_owned()));
    env
}

/// Every file under `dir` and the process output, for leak checks.
fn everything(dir: &Path, o: &Output) -> String {
    let mut all = transcript_of(o);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                all.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    all
}

fn body(note: &Value) -> &str {
    note["body"].as_str().expect("body")
}

/// The first pipeline creates one note with the marker, the gate table and the data checks;
/// the second updates that note (a new body, still one note of ours), found past the first
/// page of notes and among a note of another user that quotes the marker. The note never
/// changes the gate: the second pipeline's gate fails, and evaluate exits 1.
#[test]
fn one_note_per_model_created_then_updated() {
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let model = unique("mr-wine");
    project(dir, &model);
    // The first pipeline has no report page: not validate's, and evaluate's is switched off.
    std::fs::remove_file(dir.join(format!("mlops-reports/{model}/report.html")))
        .expect("validate wrote a report page");
    let run_id = gl.seed_run("mr", &[("accuracy", 0.9)]);
    // A colleague quotes the marker before any pipeline ran, and 120 notes by people follow:
    // ours is not the colleague's, and lands on the second page of 100.
    let marker = format!(
        "<!-- mlops:evaluate-note model={} -->",
        model.replace('-', "%2D")
    );
    let quote = gl.seed_note(7, REPORTER_TOKEN, &format!("{marker}\nquoting the bot"));
    for i in 0..120 {
        gl.seed_note(7, REPORTER_TOKEN, &format!("review comment {i}"));
    }
    let env = with(mr_env(&gl, "1001"), "MLOPS_ACCESS_TOKEN", TOKEN);
    let args = ["evaluate", "--model", &model, "--run-id", &run_id];
    let o = run(
        dir,
        &gl.uri,
        &args,
        &with(env.clone(), "MLOPS_NO_HTML", "true"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let r = report(dir, &format!("{model}/evaluate.json"));
    assert_eq!(r["note"]["status"], "created", "{}", transcript_of(&o));
    let id = r["note"]["id"].as_u64().expect("id");
    let ours: Vec<Value> = gl
        .notes(7)
        .into_iter()
        .filter(|n| n["author"]["id"] == gl.user_id(TOKEN))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["id"], id);
    let first = body(&ours[0]).to_owned();
    assert!(first.starts_with(&marker), "{first}");
    for part in [
        "### ✅ `",
        "| gate | metric | value | threshold | production | delta | verdict |",
        "| threshold | `accuracy` | 0.9 | ≥ 0.8 | — | +0.1 | ✅ pass |",
        "**Data checks: ✅ passed** (",
        "| nulls | ✅ 0 null cells",
        "[job](https://gitlab.example/g/p/-/jobs/501)",
        "pipeline `1001`",
    ] {
        assert!(first.contains(part), "`{part}` in:\n{first}");
    }
    assert!(transcript_of(&o).contains(&format!("merge-request note: created note {id} on !7")));

    assert!(!first.contains("[report]"), "no report page yet: {first}");
    // The report page appears (another job's artifact); the next pipeline's gate fails.
    std::fs::write(
        dir.join(format!("mlops-reports/{model}/report.html")),
        "<html></html>",
    )
    .expect("report page");
    let before = gl.notes(7).len();
    let env = with(
        with(env, "CI_PIPELINE_ID", "1002"),
        "MLOPS_MIN_THRESHOLD",
        "0.95",
    );
    let o = run(dir, &gl.uri, &args, &env);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the gate decides: {}",
        transcript_of(&o)
    );
    let r = report(dir, &format!("{model}/evaluate.json"));
    assert_eq!(
        (r["status"].as_str(), r["exit"].as_u64()),
        (Some("fail"), Some(1))
    );
    assert_eq!(
        (r["note"]["status"].as_str(), r["note"]["id"].as_u64()),
        (Some("updated"), Some(id))
    );
    let notes = gl.notes(7);
    assert_eq!(notes.len(), before, "no second note");
    let updated = notes.iter().find(|n| n["id"] == id).expect("our note");
    let second = body(updated);
    assert_ne!(second, first);
    assert!(
        second.contains("### ❌ `")
            && second.contains("❌ fail")
            && second.contains("pipeline `1002`"),
        "{second}"
    );
    let kept = notes.iter().find(|n| n["id"] == quote).expect("the quote");
    assert!(body(kept).ends_with("quoting the bot"), "the quote stays");
    assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
}

/// No merge request, or no token: no note, a one-line notice, and no request for one.
#[test]
fn no_note_outside_merge_requests_or_without_a_token() {
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    project(dir, "wine");
    let run_id = gl.seed_run("branch", &[("accuracy", 0.9)]);
    let args = ["evaluate", "--model", "wine", "--run-id", &run_id];
    // A branch pipeline.
    let env: Vec<_> = with(mr_env(&gl, "2001"), "MLOPS_ACCESS_TOKEN", TOKEN)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("CI_MERGE_REQUEST") && *k != "CI_PIPELINE_SOURCE")
        .collect();
    let seeded = gl.requests().len();
    let o = run(dir, &gl.uri, &args, &env);
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let notice: Vec<String> = transcript_of(&o)
        .lines()
        .filter(|l| l.contains("merge-request note"))
        .map(str::to_owned)
        .collect();
    assert_eq!(notice.len(), 1, "{}", transcript_of(&o));
    assert!(
        notice[0].contains("not a merge-request pipeline"),
        "{notice:?}"
    );
    assert_eq!(
        report(dir, "wine/evaluate.json")["note"]["status"],
        "skipped"
    );
    assert!(gl.notes(7).is_empty());
    assert!(
        gl.requests()[seeded..]
            .iter()
            .all(|r| r.contains("/ml/mlflow/")),
        "only MLflow calls: {:?}",
        &gl.requests()[seeded..]
    );

    // A merge request, a real MLflow server, and no GitLab token: MLflow's own token is never
    // sent to GitLab.
    let Some(uri) = harness::mlflow_uri() else {
        return;
    };
    let run_id = crate::runtime::seed_run(&uri, &unique("mr-plain"), &[("accuracy", 0.9)]);
    let before = gl.requests().len();
    let env = with(
        with(
            mr_env(&gl, "2002"),
            "MLFLOW_TRACKING_TOKEN",
            "mlflow-server-secret",
        ),
        "MLOPS_MLFLOW_FLAVOUR",
        "mlflow",
    );
    let o = run(
        dir,
        &uri,
        &["evaluate", "--model", "wine", "--run-id", &run_id],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert!(
        transcript_of(&o).contains("merge-request note: none, no access token"),
        "{}",
        transcript_of(&o)
    );
    assert_eq!(
        report(dir, "wine/evaluate.json")["note"]["status"],
        "skipped"
    );
    assert_eq!(
        gl.requests().len(),
        before,
        "no request: {:?}",
        &gl.requests()[before..]
    );
}

/// The tracking server is a real MLflow server, the note goes to GitLab's API with
/// `MLOPS_ACCESS_TOKEN`, and links to the run in MLflow's UI.
#[test]
fn note_with_a_plain_mlflow_tracking_server() {
    let Some(uri) = harness::mlflow_uri() else {
        return;
    };
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    project(dir, "wine");
    let run_id = crate::runtime::seed_run(&uri, &unique("mr-mlflow"), &[("accuracy", 0.9)]);
    let env = with(
        with(mr_env(&gl, "3001"), "MLOPS_ACCESS_TOKEN", TOKEN),
        "MLOPS_MLFLOW_FLAVOUR",
        "mlflow",
    );
    let o = run(
        dir,
        &uri,
        &["evaluate", "--model", "wine", "--run-id", &run_id],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert_eq!(
        report(dir, "wine/evaluate.json")["note"]["status"],
        "created"
    );
    let notes = gl.notes(7);
    assert_eq!(notes.len(), 1);
    let b = body(&notes[0]);
    assert!(
        b.contains(&format!("[MLflow run]({uri}/#/experiments/"))
            && b.contains(&format!("/runs/{run_id})")),
        "{b}"
    );
}

/// Refusals (403, 404), a lost answer and an unreachable GitLab: a warning, the gate's own
/// exit code and verdict, `note.status = failed` (or one note after the lost answer), and no
/// token anywhere in the output or the reports.
#[test]
fn failures_to_post_are_warnings() {
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    project(dir, "wine");
    let run_id = gl.seed_run("refused", &[("accuracy", 0.9)]);
    let args = ["evaluate", "--model", "wine", "--run-id", &run_id];
    let base = with(mr_env(&gl, "4001"), "MLFLOW_TRACKING_TOKEN", TOKEN);
    let cases: [(&str, &str, &str, &str); 4] = [
        (READ_API_TOKEN, IID, "HTTP 403", "lacks the `api` scope"),
        (
            OUTSIDER_TOKEN,
            IID,
            "404 Project Not Found",
            "cannot see it",
        ),
        (TOKEN, "999", "404 Not found", "does not exist"),
        (
            TOKEN,
            IID,
            "unavailable after 2 attempts",
            "could not be reached",
        ),
    ];
    for (i, (token, iid, cause, fix)) in cases.into_iter().enumerate() {
        let mut env = with(
            with(base.clone(), "MLOPS_ACCESS_TOKEN", token),
            "CI_MERGE_REQUEST_IID",
            iid,
        );
        if i == 3 {
            env = with(env, "CI_API_V4_URL", "http://127.0.0.1:9/api/v4");
        }
        let o = run(dir, &gl.uri, &args, &env);
        let text = transcript_of(&o);
        assert_eq!(o.status.code(), Some(0), "{token}: {text}");
        let r = report(dir, "wine/evaluate.json");
        assert_eq!(
            (r["status"].as_str(), r["note"]["status"].as_str()),
            (Some("pass"), Some("failed")),
            "{text}"
        );
        assert!(
            r["note"]["reason"]
                .as_str()
                .is_some_and(|m| m.contains(cause)),
            "{}",
            r["note"]
        );
        assert!(
            text.contains("merge-request note not posted")
                && text.contains(cause)
                && text.contains(fix),
            "{text}"
        );
        let all = everything(dir, &o);
        for secret in [TOKEN, READ_API_TOKEN, OUTSIDER_TOKEN] {
            assert!(!all.contains(secret), "{secret} leaked:\n{all}");
        }
    }
    assert!(gl.notes(7).is_empty());

    // The answer to the create is lost: evaluate finds the note it made, no second one.
    gl.lose_answer("POST merge_requests/7/notes");
    let o = run(
        dir,
        &gl.uri,
        &args,
        &with(base, "MLOPS_ACCESS_TOKEN", TOKEN),
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    assert_eq!(
        report(dir, "wine/evaluate.json")["note"]["status"],
        "created",
        "{}",
        transcript_of(&o)
    );
    assert_eq!(gl.notes(7).len(), 1, "{}", transcript_of(&o));
}

/// A model, metric and column name with `|`, HTML and a line break stay inside code spans:
/// the table keeps its columns, nothing renders as HTML, and the marker stays one comment.
#[test]
fn hostile_names_are_escaped() {
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let metric = "acc|<b>x</b>";
    let column = "col|<script>alert(1)</script>\nnext";
    std::fs::write(
        dir.join("evil.csv"),
        format!("a,\"{column}\"\n1,\n2,\n3,4\n"),
    )
    .expect("csv");
    let o = stage(
        dir,
        "http://127.0.0.1:9",
        &["validate", "--data", "evil.csv"],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "nulls over the limit: {}",
        transcript_of(&o)
    );
    let run_id = gl.seed_run("evil", &[(metric, 0.9)]);
    let model = "evil|<script>alert(1)</script>\n--> @all";
    let env = with(
        with(mr_env(&gl, "5001"), "MLOPS_ACCESS_TOKEN", TOKEN),
        "MLOPS_REGISTERED_MODEL",
        model,
    );
    let o = run(
        dir,
        &gl.uri,
        &[
            "evaluate",
            "--run-id",
            &run_id,
            "--metric",
            metric,
            "--threshold",
            "0.5",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
    let notes = gl.notes(7);
    assert_eq!(notes.len(), 1, "{}", transcript_of(&o));
    let b = body(&notes[0]);
    let first = b.lines().next().expect("marker");
    assert_eq!(
        first,
        "<!-- mlops:evaluate-note model=evil%7C%3Cscript%3Ealert%281%29%3C%2Fscript%3E%0A%2D%2D%3E%20%40all -->"
    );
    assert!(
        first.ends_with(" -->") && first.matches("-->").count() == 1,
        "{first}"
    );
    assert!(b.contains("| threshold | `acc\\|<b>x</b>` | 0.9 |"), "{b}");
    assert!(b.contains("`col\\|<script>alert(1)</script> next`"), "{b}");
    for line in b.lines() {
        assert!(
            !line.starts_with("next") && !line.starts_with("--> @all"),
            "a name broke the line: {b}"
        );
        if line.starts_with("| threshold") {
            assert_eq!(line.matches(" | ").count(), 6, "seven cells: {line}");
        }
        // Outside code spans there is no HTML but the marker and the footer's <sub>.
        let outside: String = line.split('`').step_by(2).collect();
        assert!(
            !outside.contains("<script") && !outside.contains("<b>"),
            "{line}"
        );
    }
}

/// GitLab answering 503 and 429 (with `Retry-After`) and a create whose answer is cut: the
/// calls are retried per `MLFLOW_HTTP_REQUEST_*`, and the merge request still has one note.
#[test]
fn notes_calls_are_retried() {
    use crate::faults::proxy::{Fault, Proxy, Rule};
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    project(dir, "wine");
    let run_id = gl.seed_run("retried", &[("accuracy", 0.9)]);
    let proxy = Proxy::start(
        &gl.api_v4,
        vec![
            Rule::new("GET", "/user", Fault::Status(503, None), Some(1)),
            Rule::new("GET", "/notes", Fault::Status(429, Some(1)), Some(1)),
            Rule::new("POST", "/notes", Fault::DropMidAnswer, Some(1)),
        ],
    );
    let env = with(
        with(
            with(mr_env(&gl, "6001"), "MLOPS_ACCESS_TOKEN", TOKEN),
            "CI_API_V4_URL",
            &proxy.uri,
        ),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "2",
    );
    let args = ["evaluate", "--model", "wine", "--run-id", &run_id];
    let o = run(dir, &gl.uri, &args, &env);
    let text = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert_eq!(
        report(dir, "wine/evaluate.json")["note"]["status"],
        "created",
        "{text}"
    );
    assert_eq!(gl.notes(7).len(), 1, "{text}\n{:?}", proxy.log());
    assert_eq!(proxy.count("GET", "/user"), 2, "{:?}", proxy.log());
    assert_eq!(
        proxy.count("POST", "/notes"),
        1,
        "found, not posted again: {:?}",
        proxy.log()
    );
    assert!(
        text.contains("checking whether the note was created"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}
