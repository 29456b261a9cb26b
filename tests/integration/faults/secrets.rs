//! Secrets in what the training script prints: MLflow's "View run at" line with the
//! credentials in the URI, an error echoing `Authorization: Bearer <token>`, and the Basic
//! and URL-encoded forms. None may reach the log or a report file.

use crate::gitlab::{Generation, Replica, TOKEN};
use crate::harness::{self, transcript_of};
use crate::runtime::stage;

/// Standard base64, as HTTP Basic sends `user:password`.
fn base64(s: &str) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, b)| a | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ABC[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

fn all_reports(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir.join("mlops-reports"))
        .expect("reports")
        .flatten()
    {
        text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    text
}

#[test]
fn script_output_never_shows_a_secret_in_any_form() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let basic = base64(&format!("someone:{TOKEN}"));
    let colon = base64(&format!(":{TOKEN}"));
    let script = format!(
        r#"import os, sys, urllib.parse
t = os.environ["MLFLOW_TRACKING_TOKEN"]
print("View run at http://user:" + t + "@mlflow.example/#/runs/1")
print("autolog failed: headers {{'Authorization': 'Bearer " + t + "'}}", file=sys.stderr)
print("quoted " + urllib.parse.quote(t, safe="") + " basic Basic {colon} and {basic}")
print("AWS " + os.environ["AWS_SECRET_ACCESS_KEY"] + " " + urllib.parse.quote(os.environ["AWS_SECRET_ACCESS_KEY"], safe=""))
"#
    );
    std::fs::write(dir.join("train.py"), script).expect("script");
    let aws = "aws/secret+KEY-42";
    let env = [
        ("MLFLOW_TRACKING_TOKEN", TOKEN),
        ("AWS_SECRET_ACCESS_KEY", aws),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1"),
    ];
    let o = stage(
        dir,
        &gl.uri,
        &["train", "--script", "train.py", "--experiment", "leaky"],
        &env,
    );
    let all = transcript_of(&o) + &all_reports(dir);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("View run at http://[MASKED]@mlflow.example"),
        "{all}"
    );
    for leak in [
        TOKEN,
        basic.trim_end_matches('='),
        colon.trim_end_matches('='),
        aws,
        "aws%2Fsecret%2BKEY-42",
    ] {
        assert!(!all.contains(leak), "`{leak}` leaked: {all}");
    }
}
