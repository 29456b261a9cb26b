//! Hostile input and output without any server: control characters in data, files that are
//! not regular files, a header-only CSV, and a closed stdout.

use std::process::Stdio;

use crate::harness::{self, transcript_of};

fn validate(dir: &std::path::Path, data: &str) -> std::process::Output {
    harness::mlops()
        .current_dir(dir)
        .args(["run", "validate", "--data", data])
        .output()
        .expect("mlops runs")
}

#[test]
fn control_characters_in_a_header_are_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("d.csv"), "a,\u{1b}[31mred\u{9b}2J\n1,2\n").expect("write");
    let o = validate(tmp.path(), "d.csv");
    let all = transcript_of(&o);
    assert!(matches!(o.status.code(), Some(0..=2)), "{all}");
    assert!(
        !all.contains('\u{1b}') && !all.contains('\u{9b}'),
        "{all:?}"
    );
    assert!(all.contains("\\x1b[31mred"), "{all}");
}

#[test]
fn a_header_without_rows_fails_the_data_check() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("d.csv"), "a,b\n").expect("write");
    let o = validate(tmp.path(), "d.csv");
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("no data rows"), "{all}");
}

#[test]
fn devices_and_fifos_are_not_regular_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fifo = tmp.path().join("pipe.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut paths = vec!["/dev/urandom".to_owned(), "/proc/self/status".to_owned()];
    if made.is_ok_and(|s| s.success()) {
        paths.push(fifo.display().to_string());
    }
    for p in paths {
        let o = validate(tmp.path(), &p);
        let all = transcript_of(&o);
        assert_eq!(o.status.code(), Some(2), "{p}: {all}");
        assert!(all.contains("not a regular file"), "{p}: {all}");
        assert!(!all.contains("empty"), "{p}: {all}");
    }
}

#[test]
fn a_closed_stdout_is_no_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("mlops.toml"),
        format!(
            "mlops-version = \"{}\"\n\n[model.m]\nframework = \"sklearn\"\ntraining_script = \"t.py\"\ndata_path = \"d.csv\"\nmetric_name = \"acc\"\nmin_threshold = 0.5\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .expect("write");
    for args in [
        &["completions", "bash"][..],
        &["schema"][..],
        &["compile", "--stdout"][..],
        &["graph"][..],
    ] {
        let mut child = harness::mlops()
            .current_dir(tmp.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mlops runs");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("waits");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_ne!(o.status.code(), Some(101), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn mlflow_variables_are_read_as_mlflow_reads_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = harness::mlops()
        .current_dir(tmp.path())
        .args([
            "run",
            "evaluate",
            "--run-id",
            "r",
            "--metric",
            "m",
            "--threshold",
            "1",
        ])
        .args(["--tracking-uri", "http://127.0.0.1:9"])
        .env("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.5")
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        .output()
        .expect("mlops runs");
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("`MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR` must be a whole number"),
        "{all}"
    );
}
