//! The compiler's spec: one snapshot per example (the whole generated file, under the
//! top-level `snapshots/`), schema and determinism checks, `--check`, and every kind of bad
//! input with its exit code and message.

use std::path::{Path, PathBuf};
use std::process::Output;

use mlops::compile::{CompileOptions, compile};
use mlops::config::{Source, load_project};

use crate::harness::{self, mlops, root, transcript_of};

fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("mlops.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Only this binary's version is masked, so other versions in messages stay visible.
static VERSION_RE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| regex_escape(env!("CARGO_PKG_VERSION")));

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => root().join("snapshots"),
            prepend_module_to_snapshot => false,
            filters => vec![(VERSION_RE.as_str(), "[VERSION]")],
        }, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

fn compile_dir(dir: &Path) -> mlops::compile::Compiled {
    let text = std::fs::read_to_string(dir.join("mlops.toml")).expect("read mlops.toml");
    let project = load_project(&Source::new("mlops.toml", text)).expect("example config is valid");
    compile(&project, &CompileOptions::default()).expect("example compiles")
}

#[test]
fn every_example_snapshot() {
    let dirs = examples();
    assert!(
        dirs.len() >= 4,
        "expected the four examples, found {dirs:?}"
    );
    for dir in dirs {
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let compiled = compile_dir(&dir);
        // The snapshot is the spec; it is also checked against GitLab's schema and rules.
        let json = serde_json::to_value(&compiled.pipeline).expect("json");
        let errors: Vec<_> = mlops::gitlab::check_schema(&json)
            .into_iter()
            .chain(mlops::gitlab::check_semantics(&json))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        snap!(name.as_str(), compiled.text);
    }
}

#[test]
fn committed_example_pipelines_are_in_sync() {
    for dir in examples() {
        let out = mlops()
            .args(["compile", "--check"])
            .current_dir(&dir)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}: {}\nfix: (cd {} && mlops compile)",
            dir.display(),
            transcript_of(&out),
            dir.display()
        );
    }
}

#[test]
fn output_is_deterministic() {
    for dir in examples() {
        let a = compile_dir(&dir).text;
        let b = compile_dir(&dir).text;
        assert_eq!(a, b);
        let out1 = mlops()
            .args(["compile", "--stdout"])
            .current_dir(&dir)
            .output()
            .expect("runs");
        let out2 = mlops()
            .args(["compile", "--stdout"])
            .current_dir(&dir)
            .output()
            .expect("runs");
        assert_eq!(out1.stdout, out2.stdout);
        assert_eq!(text(&out1.stdout), a);
    }
}

#[test]
fn schema_file_is_fresh() {
    let committed =
        std::fs::read_to_string(root().join("schema/mlops.schema.json")).unwrap_or_default();
    let generated = mlops::config::schema::schema_json();
    assert!(
        committed == generated,
        "schema/mlops.schema.json is stale\n{}\nfix: cargo run -q -- schema > schema/mlops.schema.json",
        mlops::compile::unified_diff("schema/mlops.schema.json", &committed, &generated)
    );
    let out = mlops().arg("schema").output().expect("runs");
    assert_eq!(text(&out.stdout), generated);
}

#[test]
fn vendored_gitlab_schema_is_unchanged() {
    let out = std::process::Command::new("sha256sum")
        .arg(root().join("schema/gitlab-ci.json"))
        .output()
        .expect("sha256sum runs");
    assert!(
        text(&out.stdout)
            .starts_with("dc80abdceeb26605fa2d6317e3c709a49fa39c60bd42284da4ccd1618d1cdf50"),
        "schema/gitlab-ci.json changed; see schema/GITLAB-CI-SCHEMA.md"
    );
}

#[test]
fn help_texts() {
    for args in [
        &["--help"][..],
        &["compile", "--help"],
        &["run", "--help"],
        &["schema", "--help"],
    ] {
        let out = mlops()
            .args(args)
            .env("COLUMNS", "100")
            .output()
            .expect("runs");
        assert!(out.status.success());
        let name = format!("help-{}", args.join("-").replace("--", ""));
        snap!(name.as_str(), text(&out.stdout));
    }
}

fn temp_project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mlops.toml"), config).expect("write");
    dir
}

const SEED: &str = r#"mlops-version = "0.1.0"

[model.wine-classifier]
framework = "sklearn"
training_script = "scripts/train.py"
training_args = "--data data/train.csv --test-data data/test.csv"
data_path = "data/train.csv"
metric_name = "accuracy"
min_threshold = 0.85
"#;

#[test]
fn check_reports_missing_stale_and_fresh() {
    let dir = temp_project(SEED);
    let check = || {
        mlops()
            .args(["compile", "--check"])
            .current_dir(dir.path())
            .output()
            .expect("runs")
    };

    let missing = check();
    assert_eq!(
        missing.status.code(),
        Some(1),
        "{}",
        transcript_of(&missing)
    );
    assert!(text(&missing.stderr).contains("`.gitlab-ci.yml` is missing"));
    assert!(text(&missing.stderr).contains("hint: run `mlops compile`"));
    assert!(text(&missing.stdout).starts_with("--- .gitlab-ci.yml (on disk)"));
    assert!(
        !dir.path().join(".gitlab-ci.yml").exists(),
        "--check must write nothing"
    );

    let created = mlops()
        .arg("compile")
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(
        created.status.code(),
        Some(0),
        "{}",
        transcript_of(&created)
    );
    assert!(text(&created.stderr).contains("created `.gitlab-ci.yml`"));
    assert_eq!(check().status.code(), Some(0));

    // CRLF line endings (a Windows checkout) are not a difference.
    let path = dir.path().join(".gitlab-ci.yml");
    let lf = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, lf.replace('\n', "\r\n")).expect("write");
    assert_eq!(check().status.code(), Some(0));

    // A structural change makes it stale; the diff names the changed line.
    std::fs::write(
        dir.path().join("mlops.toml"),
        SEED.replace(
            "[model.wine-classifier]",
            "[model.wine-classifier]\nas = \"wine\"",
        ),
    )
    .expect("write");
    let stale = check();
    assert_eq!(stale.status.code(), Some(1));
    assert!(
        text(&stale.stdout).contains("+\"wine:train\":")
            || text(&stale.stdout).contains("+wine:train:"),
        "{}",
        transcript_of(&stale)
    );
    assert!(text(&stale.stderr).contains("is out of date"));

    // A threshold is read at run time: no recompile needed.
    std::fs::write(dir.path().join("mlops.toml"), SEED.replace("0.85", "0.9")).expect("write");
    mlops()
        .arg("compile")
        .current_dir(dir.path())
        .output()
        .expect("runs");
    std::fs::write(dir.path().join("mlops.toml"), SEED.replace("0.85", "0.95")).expect("write");
    assert_eq!(check().status.code(), Some(0));
}

#[test]
fn fail_on_change_exits_one_when_it_writes() {
    let dir = temp_project(SEED);
    let run = || {
        mlops()
            .args(["compile", "--fail-on-change"])
            .current_dir(dir.path())
            .output()
            .expect("runs")
    };
    assert_eq!(
        run().status.code(),
        Some(1),
        "creating the file is a change"
    );
    assert_eq!(run().status.code(), Some(0), "in sync");
}

fn errors_of(config: &str) -> Output {
    let dir = temp_project(config);
    mlops()
        .arg("compile")
        .current_dir(dir.path())
        .output()
        .expect("runs")
}

#[test]
fn bad_configs_are_reported_all_at_once() {
    let cases: &[(&str, &str)] = &[
        (
            "unknown-keys-and-types",
            r#"mlops-version = "0.1.0"

[defaults]
framwork = "sklearn"

[model.wine]
framework = "sklaern"
training_script = "train.py"
data_path = 3
metric_name = "accuracy"
min_treshold = 0.85
training_args = 5

[model."bad name"]
training_script = "x.py"
"#,
        ),
        (
            "syntax",
            "mlops-version = \"0.1.0\"\n[model.a\nframework = \n",
        ),
        (
            "duplicate-model",
            "mlops-version = \"0.1.0\"\n[model.a]\nframework = \"sklearn\"\n[model.a]\nframework = \"sklearn\"\n",
        ),
        (
            "missing-keys",
            "mlops-version = \"0.1.0\"\n[model.a]\nframework = \"sklearn\"\nenable_drift = true\n",
        ),
        ("no-models", "mlops-version = \"0.1.0\"\n"),
        ("no-version", "[model.a]\nframework = \"sklearn\"\n"),
        ("version-pin", &SEED.replace("0.1.0", "9.9.9")),
        (
            "long-job-name",
            &SEED.replace(
                "framework =",
                &format!("as = \"{}\"\nframework =", "x".repeat(250)),
            ),
        ),
        (
            "duplicate-prefix",
            &format!(
                "{SEED}\n[model.other]\nas = \"wine-classifier\"\nframework = \"sklearn\"\ntraining_script = \"t.py\"\ndata_path = \"d.csv\"\nmetric_name = \"m\"\nmin_threshold = 1\n"
            ),
        ),
        (
            "unbalanced-quote",
            &SEED.replace("--data data/train.csv", "--data 'data/train.csv"),
        ),
        (
            "control-chars",
            &SEED.replace(
                "framework =",
                "tags = [\"gpu\\nx\"]\nchanges = [\"./src/**\"]\nframework =",
            ),
        ),
        ("not-finite", &SEED.replace("0.85", "nan")),
    ];
    for (name, config) in cases {
        let out = errors_of(config);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            transcript_of(&out)
        );
        snap!(format!("error-{name}").as_str(), transcript_of(&out));
    }
}

#[test]
fn missing_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mlops()
        .arg("compile")
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read `mlops.toml`"));
    assert!(text(&out.stderr).contains("hint: run `mlops init`"));
    let out = mlops()
        .args(["compile", "-c", "nope.toml"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`nope.toml`"));
}

#[test]
fn bad_usage_exits_two() {
    let out = mlops()
        .args(["compile", "--check", "--stdout"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = mlops().arg("nonsense").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn models_are_parallel_with_unique_jobs() {
    let compiled = compile_dir(&root().join("examples/multi-model"));
    let names: Vec<&String> = compiled.pipeline.jobs.keys().collect();
    // Four jobs per model, and wine's manual promote.
    assert_eq!(names.len(), 13);
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), 13);
    for prefix in ["wine", "iris", "cancer"] {
        let validate = &compiled.pipeline.jobs[&format!("{prefix}:validate")];
        assert_eq!(
            validate.needs.as_deref(),
            Some(&[][..]),
            "validate starts at once"
        );
        let register = &compiled.pipeline.jobs[&format!("{prefix}:register")];
        let needs: Vec<&str> = register
            .needs
            .iter()
            .flatten()
            .map(mlops::gitlab::ir::Need::job)
            .collect();
        assert_eq!(
            needs,
            [format!("{prefix}:train"), format!("{prefix}:evaluate")]
        );
        // Register is gated on the pipeline (default branch and tags, as the example's
        // `register_on` says), never on a dotenv result.
        let gates: Vec<Option<&str>> = register.rules.iter().map(|r| r.if_.as_deref()).collect();
        assert_eq!(
            gates,
            [
                Some(mlops::compile::lower::ON_DEFAULT_BRANCH),
                Some(mlops::compile::lower::ON_TAG)
            ]
        );
        assert_eq!(
            register.resource_group.as_deref(),
            Some(
                format!(
                    "mlops-register-{}",
                    register
                        .environment
                        .as_ref()
                        .unwrap()
                        .name
                        .trim_start_matches("models/")
                )
                .as_str()
            )
        );
    }
}

#[test]
fn no_job_uses_dotenv_variables_in_rules() {
    for dir in examples() {
        let compiled = compile_dir(&dir);
        // Rules see only variables that exist when GitLab creates the pipeline: predefined
        // `CI_*` ones. The gate itself is an exit code.
        let workflow = compiled.pipeline.workflow.iter().flat_map(|w| &w.rules);
        let jobs = compiled.pipeline.jobs.values().flat_map(|j| &j.rules);
        for rule in workflow.chain(jobs) {
            let Some(cond) = &rule.if_ else { continue };
            for var in cond.split('$').skip(1) {
                assert!(var.starts_with("CI_"), "{}: `{cond}`", dir.display());
            }
        }
        let _ = harness::root();
    }
}

const REF_BEGIN: &str = "<!-- begin: mlops.toml reference (generated; MLOPS_UPDATE_DOCS=1 cargo test --test integration configuration_reference) -->\n";
const REF_END: &str = "<!-- end: mlops.toml reference -->";
/// The page that embeds the generated `mlops.toml` reference.
const REF_DOC: &str = "docs/configuration.md";

#[test]
fn configuration_reference_is_fresh() {
    let path = root().join(REF_DOC);
    let doc = std::fs::read_to_string(&path).expect(REF_DOC);
    let generated = mlops::config::reference::markdown();
    let (Some(a), Some(b)) = (doc.find(REF_BEGIN), doc.find(REF_END)) else {
        panic!("{REF_DOC} lacks the reference markers");
    };
    let current = &doc[a + REF_BEGIN.len()..b];
    if current != generated {
        if std::env::var_os("MLOPS_UPDATE_DOCS").is_some() {
            let updated = format!("{}{REF_BEGIN}{generated}{}", &doc[..a], &doc[b..]);
            std::fs::write(&path, updated).expect(REF_DOC);
        } else {
            panic!(
                "the mlops.toml reference in {REF_DOC} is stale\n{}\nfix: MLOPS_UPDATE_DOCS=1 cargo test --test integration configuration_reference",
                mlops::compile::unified_diff(REF_DOC, current, &generated)
            );
        }
    }
}
