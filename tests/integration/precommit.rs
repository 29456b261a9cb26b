//! The pre-commit hooks (`.pre-commit-hooks.yaml`) driven by the real pre-commit, through
//! `pre-commit try-repo <project root>`, in a temporary consumer repository
//! (`docs/development.md`). The `language: system` hooks (binary from the test build on `PATH`)
//! cover the behaviours; the `language: rust` hook, which builds the whole crate in release,
//! is run once, with a persistent `CARGO_TARGET_DIR` so CI builds it once.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{self, git};

/// A consumer repository with the wine example, committed; with the pipeline when `synced`.
fn consumer(synced: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    harness::copy_dir(
        &harness::root().join("examples/wine-classifier"),
        tmp.path(),
    );
    // The example may ship its own pipeline; the consumer starts without one.
    let _ = std::fs::remove_file(tmp.path().join(".gitlab-ci.yml"));
    if synced {
        let out = harness::mlops()
            .current_dir(tmp.path())
            .arg("compile")
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    harness::git_repo(tmp.path());
    tmp
}

fn pre_commit() -> Option<PathBuf> {
    harness::require_tool("pre-commit")
}

/// `pre-commit try-repo <root> HOOK --all-files --verbose` in `dir`.
fn try_repo(pc: &Path, dir: &Path, hook: &str, extra_env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(pc);
    cmd.args(["try-repo"])
        .arg(harness::root())
        .args([hook, "--all-files", "--verbose", "--color", "never"])
        .current_dir(dir)
        .env("PATH", harness::test_path())
        .env("PRE_COMMIT_HOME", harness::harness_dir().join("pre-commit"))
        .env_remove("PRE_COMMIT")
        .env("NO_COLOR", "1");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    if !hook.ends_with("-system") {
        // A `language: rust` hook builds the crate. Without `--ref`, try-repo snapshots the
        // working tree's tracked changes but not new untracked files, which breaks the build
        // of a tree with work in progress; the committed HEAD always builds.
        cmd.args(["--ref", "HEAD"]);
    }
    let out = cmd.output().expect("pre-commit runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn generated(dir: &Path) -> String {
    let out = harness::mlops()
        .current_dir(dir)
        .args(["compile", "--stdout"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read(dir: &Path, f: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(f)).ok()
}

#[test]
fn system_hook_passes_when_synced() {
    let Some(pc) = pre_commit() else { return };
    let repo = consumer(true);
    let (code, text) = try_repo(&pc, repo.path(), "mlops-compile-system", &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("`.gitlab-ci.yml` is up to date"), "{text}");
    let (code, text) = try_repo(&pc, repo.path(), "mlops-check-system", &[]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn system_hook_fails_and_fixes_a_stale_file() {
    let Some(pc) = pre_commit() else { return };
    let repo = consumer(true);
    let stale = read(repo.path(), ".gitlab-ci.yml")
        .expect("exists")
        .replace("interruptible: true", "interruptible: false");
    std::fs::write(repo.path().join(".gitlab-ci.yml"), &stale).expect("write");
    git(repo.path(), &["commit", "-qam", "stale"]);

    let (code, text) = try_repo(&pc, repo.path(), "mlops-check-system", &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("is out of date") && text.contains("hint: run `mlops compile`"),
        "{text}"
    );
    assert_eq!(
        read(repo.path(), ".gitlab-ci.yml").as_deref(),
        Some(stale.as_str()),
        "check never writes"
    );

    let (code, text) = try_repo(&pc, repo.path(), "mlops-compile-system", &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("updated `.gitlab-ci.yml`"), "{text}");
    assert_eq!(
        read(repo.path(), ".gitlab-ci.yml"),
        Some(generated(repo.path()))
    );
    let (code, text) = try_repo(&pc, repo.path(), "mlops-compile-system", &[]);
    assert_eq!(code, 0, "second run passes: {text}");
}

#[test]
fn system_hook_fails_when_it_creates_the_file() {
    let Some(pc) = pre_commit() else { return };
    let repo = consumer(false);
    assert!(read(repo.path(), ".gitlab-ci.yml").is_none());
    let (code, text) = try_repo(&pc, repo.path(), "mlops-check-system", &[]);
    assert_eq!(code, 1, "a missing file is a difference: {text}");
    assert!(text.contains("`.gitlab-ci.yml` is missing"), "{text}");
    let (code, text) = try_repo(&pc, repo.path(), "mlops-compile-system", &[]);
    assert_eq!(
        code, 1,
        "creating an untracked file must fail the hook: {text}"
    );
    assert!(text.contains("created `.gitlab-ci.yml`"), "{text}");
    assert_eq!(
        read(repo.path(), ".gitlab-ci.yml"),
        Some(generated(repo.path()))
    );
}

#[test]
fn system_hook_reads_the_staged_config() {
    let Some(pc) = pre_commit() else { return };
    let repo = consumer(true);
    let original = read(repo.path(), "mlops.toml").expect("config");
    // Stage a second model, then take it out of the working tree again.
    let staged = format!(
        "{original}\n[model.wine-b]\nas = \"wine-b\"\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\ndata_path = \"data/train.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.5\n"
    );
    std::fs::write(repo.path().join("mlops.toml"), &staged).expect("write");
    git(repo.path(), &["add", "mlops.toml"]);
    std::fs::write(repo.path().join("mlops.toml"), &original).expect("write");

    let (code, text) = try_repo(&pc, repo.path(), "mlops-compile-system", &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("reading the staged `mlops.toml` from the git index"),
        "{text}"
    );
    let ci = read(repo.path(), ".gitlab-ci.yml").expect("written");
    assert!(
        ci.contains("\"wine-b:train\":"),
        "the pipeline follows the staged config:\n{ci}"
    );
    assert_eq!(
        read(repo.path(), "mlops.toml").as_deref(),
        Some(original.as_str()),
        "the working tree is untouched"
    );

    // Outside pre-commit the working tree is what counts.
    let out = harness::mlops()
        .current_dir(repo.path())
        .args(["compile", "--stdout"])
        .output()
        .expect("runs");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"wine-b:train\":"));
}

/// The `language: rust` hook, built by pre-commit with `cargo install` (release, the whole
/// crate). `CARGO_TARGET_DIR` is persistent, so only the first run in a CI job compiles
/// everything; `try-repo` installs afresh on each call, so this is the only call. The test
/// checks that the hook builds and behaves, not how fast the binary is: the release profile
/// is built without optimisation here (`CARGO_PROFILE_RELEASE_OPT_LEVEL=0`), which roughly
/// halves the cold build that dominates the CI budget. Users get the normal release profile.
#[test]
fn rust_hook_builds_and_runs() {
    let Some(pc) = pre_commit() else { return };
    if Command::new("cargo").arg("--version").output().is_err() {
        harness::missing::<()>("cargo (for the `language: rust` hook)");
        return;
    }
    let target = harness::root().join("target/precommit-build");
    let target = target.to_string_lossy();
    let repo = consumer(false);
    let (code, text) = try_repo(
        &pc,
        repo.path(),
        "mlops-compile",
        &[
            ("CARGO_TARGET_DIR", &target),
            ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0"),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256"),
        ],
    );
    assert_eq!(code, 1, "created the file, so the hook fails: {text}");
    assert!(text.contains("created `.gitlab-ci.yml`"), "{text}");
    assert_eq!(
        read(repo.path(), ".gitlab-ci.yml"),
        Some(generated(repo.path()))
    );
}
