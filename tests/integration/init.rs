//! `mlops init`: scaffolding, refusing to overwrite, `--force`, and `--pre-commit` editing an
//! existing config as text.

use crate::harness::{self, transcript};

#[test]
fn scaffolds_a_config_that_compiles_and_checks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).args([
        "init",
        "--model",
        "churn",
        "--framework",
        "xgboost",
    ]));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("created `mlops.toml`") && text.contains("created `.gitlab-ci.yml`"),
        "{text}"
    );
    let config = std::fs::read_to_string(tmp.path().join("mlops.toml")).expect("mlops.toml");
    assert!(
        config.starts_with(&format!("#:schema {}\n", mlops::SCHEMA_URL)),
        "{config}"
    );
    assert!(config.contains(&format!("mlops-version = \"{}\"", mlops::VERSION)));
    let project = mlops::config::load_project(&mlops::config::Source::new("mlops.toml", config))
        .expect("loads");
    assert_eq!(project.models[0].name, "churn");
    // The pipeline written is exactly what `compile` makes, and lint finds it clean.
    let (code, text) = transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["compile", "--check"]),
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).arg("lint"));
    assert_eq!(code, 0, "{text}");
}

#[test]
fn refuses_to_overwrite_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("mlops.toml"), "# mine\n").expect("write");
    let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).arg("init"));
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("error: `mlops.toml` already exists; not overwriting"),
        "{text}"
    );
    assert!(text.contains("hint: pass `--force`"), "{text}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("mlops.toml")).expect("read"),
        "# mine\n"
    );
    assert!(
        !tmp.path().join(".gitlab-ci.yml").exists(),
        "nothing is half-written"
    );

    let (code, text) = transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["init", "--force"]),
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("updated `mlops.toml`"), "{text}");
    assert!(
        std::fs::read_to_string(tmp.path().join("mlops.toml"))
            .expect("read")
            .contains("[model.model]")
    );
}

#[test]
fn unknown_framework_suggests() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).args([
        "init",
        "--framework",
        "pytorh",
    ]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("hint: did you mean `pytorch`?"), "{text}");
    assert!(!tmp.path().join("mlops.toml").exists());
}

#[test]
fn pre_commit_creates_or_appends_keeping_content() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, text) = transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["init", "--pre-commit"]),
    );
    assert_eq!(code, 0, "{text}");
    let created =
        std::fs::read_to_string(tmp.path().join(".pre-commit-config.yaml")).expect("created");
    assert_eq!(
        created,
        format!(
            "repos:\n  - repo: https://gitlab.com/mlops-rs/mlops\n    rev: v{}\n    hooks:\n      - id: mlops-compile\n",
            mlops::VERSION
        )
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let before = "\
# Team hooks. Do not reorder.
default_language_version:
  python: python3.11
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v5.0.0   # pinned
    hooks:
      - id: end-of-file-fixer
      - id: check-yaml
  - repo: local
    hooks:
      - id: pytest
        name: pytest
        entry: pytest -q
        language: system
        pass_filenames: false

# CI settings for pre-commit.ci
ci:
  autoupdate_schedule: monthly
";
    std::fs::write(tmp.path().join(".pre-commit-config.yaml"), before).expect("write");
    let (code, text) = transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["init", "--pre-commit"]),
    );
    assert_eq!(code, 0, "{text}");
    let after = std::fs::read_to_string(tmp.path().join(".pre-commit-config.yaml")).expect("read");
    let entry = format!(
        "  - repo: https://gitlab.com/mlops-rs/mlops\n    rev: v{}\n    hooks:\n      - id: mlops-compile\n",
        mlops::VERSION
    );
    let cut = before.find("\n\n# CI settings").expect("marker") + 1;
    assert_eq!(
        after,
        format!("{}{entry}{}", &before[..cut], &before[cut..])
    );

    // A second run (with --force for the other files) does not add the hook twice.
    let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).args([
        "init",
        "--pre-commit",
        "--force",
    ]));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("already runs `mlops-compile`"), "{text}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".pre-commit-config.yaml")).expect("read"),
        after
    );
}

#[test]
fn pre_commit_config_that_cannot_be_edited_is_left_alone() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let flow = "repos: [{repo: local, hooks: []}]\n";
    std::fs::write(tmp.path().join(".pre-commit-config.yaml"), flow).expect("write");
    let (code, text) = transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["init", "--pre-commit"]),
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("flow style"), "{text}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".pre-commit-config.yaml")).expect("read"),
        flow
    );
    assert!(
        !tmp.path().join("mlops.toml").exists(),
        "a refusal writes nothing"
    );
}
