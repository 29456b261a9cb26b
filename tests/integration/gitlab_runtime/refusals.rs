//! Tokens GitLab refuses and GitLab's own refusals: exit 2, the cause and the fix.

use std::path::Path;

use super::report;
use crate::gitlab::{
    Generation, JOB_TOKEN, OUTSIDER_TOKEN, READ_API_TOKEN, REPORTER_TOKEN, Replica, TOKEN,
};
use crate::harness::{self, transcript_of};
use crate::runtime::stage;

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
        let text = transcript_of(&o);
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
    assert_eq!(o.status.code(), Some(2), "{}", transcript_of(&o));
    assert!(
        transcript_of(&o).contains("no experiment may be named `[model]taken`"),
        "{}",
        transcript_of(&o)
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
    assert_eq!(o.status.code(), Some(2), "{}", transcript_of(&o));
    assert!(
        transcript_of(&o).contains("flavour = \"gitlab\""),
        "{}",
        transcript_of(&o)
    );

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
    assert_eq!(o.status.code(), Some(2), "{}", transcript_of(&o));
    assert!(
        transcript_of(&o).contains("Artifact file is too large"),
        "{}",
        transcript_of(&o)
    );
    let train = report(dir, "train.json");
    assert_eq!(train["run_status"], "FAILED");
    assert_eq!(
        gl.run(train["run_id"].as_str().expect("id"))["info"]["status"],
        "FAILED"
    );
}
