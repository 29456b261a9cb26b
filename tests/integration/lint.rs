//! `mlops lint`: snapshots of its verdict on good and bad CI files (`tests/fixtures/lint`),
//! every example's generated pipeline being clean, and the `--help` of the UX commands
//! (`compile --help` is snapshotted with the compiler's tests).

use crate::harness::{self, transcript};

fn fixtures() -> std::path::PathBuf {
    harness::root().join("tests/fixtures/lint")
}

fn lint(file: &str) -> (i32, String) {
    transcript(
        harness::mlops()
            .current_dir(fixtures())
            .args(["lint", file]),
    )
}

#[test]
fn lint_fixtures_snapshots() {
    let expected = [
        ("before.gitlab-ci.yml", 1),
        ("good.gitlab-ci.yml", 0),
        ("cycle.yml", 1),
        ("broken-yaml.yml", 2),
        ("expose.yml", 1),
    ];
    for (file, code) in expected {
        let (got, text) = lint(file);
        assert_eq!(got, code, "{text}");
        insta::with_settings!({snapshot_path => "../../snapshots/lint", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(file, text);
        });
    }
}

#[test]
fn dotenv_in_rules_is_an_error_with_position() {
    let (code, text) = lint("before.gitlab-ci.yml");
    assert_eq!(code, 1);
    assert!(
        text.contains("error: before.gitlab-ci.yml:62:7: job `register-model` tests `$EVAL_PASSED` in `rules:if`"),
        "{text}"
    );
    assert!(
        text.contains("before.gitlab-ci.yml:11:3: variable `PYTHON_VERSION` is written `3.10`"),
        "{text}"
    );
}

#[test]
fn several_files_and_a_missing_one() {
    let (code, text) = transcript(harness::mlops().current_dir(fixtures()).args([
        "lint",
        "good.gitlab-ci.yml",
        "nope.yml",
    ]));
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("good.gitlab-ci.yml: no problems found"),
        "{text}"
    );
    assert!(text.contains("error: cannot read `nope.yml`"), "{text}");
}

#[test]
fn every_example_pipeline_is_clean() {
    let examples = harness::root().join("examples");
    let mut names: Vec<_> = std::fs::read_dir(&examples)
        .expect("examples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("mlops.toml").is_file())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for dir in names {
        let tmp = tempfile::tempdir().expect("tempdir");
        harness::copy_dir(&dir, tmp.path());
        let out = harness::mlops()
            .current_dir(tmp.path())
            .arg("compile")
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).arg("lint"));
        assert_eq!(code, 0, "{}: {text}", dir.display());
        assert!(
            text.contains(".gitlab-ci.yml: no problems found"),
            "{}: {text}",
            dir.display()
        );
    }
}

#[test]
fn help_snapshots() {
    for cmd in [&["init"][..], &["lint"], &["graph"], &["completions"]] {
        let out = harness::mlops()
            .args(cmd)
            .arg("--help")
            .env("COLUMNS", "100")
            .output()
            .expect("runs");
        assert!(out.status.success());
        let name = format!("help-{}", cmd.join("-"));
        insta::with_settings!({snapshot_path => "../../snapshots/lint", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, String::from_utf8_lossy(&out.stdout));
        });
    }
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_mlops()"),
        ("zsh", "#compdef mlops"),
        ("fish", "complete -c mlops"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = harness::mlops()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {text}");
        for sub in ["init", "lint", "graph", "compile"] {
            assert!(text.contains(sub), "{shell} completions lack `{sub}`");
        }
    }
    let out = harness::mlops()
        .args(["completions", "tcsh"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

/// The CLI reads YAML through the same reader `lint` uses; a file that is a list, not a
/// mapping, is an error with a position, not a crash.
#[test]
fn non_mapping_document() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("list.yml"), "- a\n- b\n").expect("write");
    let (code, text) = transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["lint", "list.yml"]),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("error: list.yml:1:1: a CI file must be a mapping"),
        "{text}"
    );
}
