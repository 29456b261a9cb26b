//! git in a test repository, with a fixed identity and `main` as the first branch, as
//! gitlab-ci-local and pre-commit need.

use std::path::Path;
use std::process::Command;

/// `git <args>` in `dir`; fails the test when git fails; returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=mlops-test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `git init` + one commit of everything in `dir`.
pub fn git_repo(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "fixture"]);
}

/// Makes HEAD the default branch of a remote `origin`, as in a clone: `rules:changes`
/// compares with `origin/main` (see "The end-to-end suite" in `docs/development.md`).
pub fn track_origin_main(dir: &Path) {
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.com/grp/proj.git",
        ],
    );
    git(dir, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    git(
        dir,
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    );
}
