//! GitLab's limits on the files the compiler writes, checked against real parts: the parsed
//! size estimate against Ruby's own `ObjectSpace.memsize_of` of Psych's parse (what
//! `Gitlab::Utils::DeepSize` adds up), and large configs compiled in child-pipeline mode to
//! shards that each pass GitLab's schema, its semantic rules and every limit.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::harness::{self, git};

/// `Gitlab::Utils::DeepSize` in Ruby: the same walk over a Psych-loaded document.
const DEEP_SIZE_RB: &str = r#"
require "yaml"; require "objspace"
def deep(o)
  s = ObjectSpace.memsize_of(o)
  if o.is_a?(Array) then o.each { |x| s += deep(x) }
  elsif o.is_a?(Hash) then o.each { |k, v| s += deep(k) + deep(v) } end
  s
end
print deep(YAML.safe_load(File.read(ARGV[0]), permitted_classes: [Symbol], permitted_symbols: [], aliases: true))
"#;

/// A config of `n` models shaped like `benches/compile.sh`'s.
pub fn many_models(dir: &Path, n: usize, extra: &str) {
    let mut t = format!(
        "mlops-version = \"{}\"\n{extra}\n[defaults]\nframework = \"sklearn\"\ntraining_script = \"scripts/train.py\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.85\nrequirements_file = \"requirements.txt\"\n",
        env!("CARGO_PKG_VERSION")
    );
    for i in 1..=n {
        let _ = write!(
            t,
            "\n[model.model-{i:04}]\ntraining_args = \"--data data/m{i}/train.csv --test-data data/m{i}/test.csv\"\ndata_path = \"data/m{i}/train.csv\"\nchanges = [\"data/m{i}/**\", \"scripts/train.py\"]\n"
        );
    }
    std::fs::write(dir.join("mlops.toml"), t).expect("write mlops.toml");
}

fn compile(dir: &Path, args: &[&str]) -> std::process::Output {
    harness::mlops()
        .current_dir(dir)
        .arg("compile")
        .args(args)
        .output()
        .expect("mlops runs")
}

#[test]
fn parsed_size_estimate_is_rubys() {
    let Some(ruby) = harness::require_tool("ruby") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let script = tmp.path().join("deep_size.rb");
    std::fs::write(&script, DEEP_SIZE_RB).expect("script");
    for n in [1, 37, 120] {
        let dir = tmp.path().join(format!("n{n}"));
        std::fs::create_dir_all(&dir).expect("dir");
        many_models(&dir, n, "");
        let o = compile(&dir, &["--stdout"]);
        let text = String::from_utf8(o.stdout).expect("utf-8");
        let file = dir.join("out.yml");
        std::fs::write(&file, &text).expect("write");
        let out = Command::new(&ruby)
            .arg(&script)
            .arg(&file)
            .output()
            .expect("ruby runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ruby_says: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a number");
        let doc = mlops::yaml::parse(&text).expect("our reader");
        let ours = mlops::gitlab::deep_size::deep_size(&doc, mlops::gitlab::deep_size::Ruby::V3_1);
        // The Ruby here is Debian's; its sizes are Ruby 3.1's unless a newer one is installed.
        let version = Command::new(&ruby)
            .arg("-e")
            .arg("print RUBY_VERSION")
            .output()
            .expect("ruby");
        let version = String::from_utf8_lossy(&version.stdout).into_owned();
        if version.starts_with("3.1") {
            assert_eq!(ours.bytes, ruby_says, "{n} models, Ruby {version}");
        }
        let upper = mlops::gitlab::deep_size::measure(&doc);
        assert!(
            upper.bytes >= ruby_says,
            "{n} models: {} < Ruby {version}'s {ruby_says}",
            upper.bytes
        );
    }
}

fn run_ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let o = harness::mlops()
        .current_dir(dir)
        .arg("compile")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("mlops runs");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "compile {args:?}: {err}");
    err
}

/// The number of child pipelines a parent triggers, as its generate job is told.
fn shards_of(parent: &str) -> usize {
    let doc = mlops::yaml::parse(parent).expect("parent YAML").to_json();
    let n: usize = doc["mlops-generate"]["variables"]["MLOPS_CHILD_PIPELINES"]
        .as_str()
        .expect("the count")
        .parse()
        .expect("a number");
    let triggers = mlops::gitlab::jobs(&doc)
        .iter()
        .filter(|(_, j)| j.get("trigger").is_some())
        .count();
    assert_eq!(triggers, n, "one trigger job per child");
    n
}

/// Runs the parent's generate job as CI does: its script, with its variables.
fn generate_children(dir: &Path, parent: &str) -> Vec<String> {
    let doc = mlops::yaml::parse(parent).expect("parent YAML").to_json();
    let job = &doc["mlops-generate"];
    let script = job["script"][0].as_str().expect("script");
    let args: Vec<&str> = script.split(' ').skip(2).collect();
    let n = job["variables"]["MLOPS_CHILD_PIPELINES"]
        .as_str()
        .expect("count");
    run_ok(dir, &args, &[("MLOPS_CHILD_PIPELINES", n)]);
    job["artifacts"]["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| {
            std::fs::read_to_string(dir.join(p.as_str().expect("path"))).expect("child written")
        })
        .collect()
}

#[test]
fn two_thousand_models_fit_every_limit_as_child_pipelines() {
    use mlops::gitlab::capacity::deployments;
    use mlops::gitlab::deep_size::measure;
    let tmp = tempfile::tempdir().expect("tempdir");
    many_models(tmp.path(), 2000, "");
    run_ok(tmp.path(), &["--child-pipeline"], &[]);
    let parent = std::fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).expect("parent");
    let n = shards_of(&parent);
    assert!((23..=60).contains(&n), "{n} child pipelines");
    let (code, text) = crate::harness::transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["lint", ".gitlab-ci.yml"]),
    );
    assert_eq!(code, 0, "{text}");

    let children = generate_children(tmp.path(), &parent);
    assert_eq!(children.len(), n);
    let mut seen = Vec::new();
    for (k, child) in children.iter().enumerate() {
        let root = mlops::yaml::parse(child).expect("child YAML");
        let json = root.to_json();
        assert!(mlops::gitlab::check_schema(&json).is_empty(), "child {k}");
        assert!(
            mlops::gitlab::check_semantics(&json).is_empty(),
            "child {k}: {:?}",
            mlops::gitlab::check_semantics(&json)
        );
        assert!(
            mlops::gitlab::capacity::check(&root, &json).is_empty(),
            "child {k}"
        );
        let size = measure(&root);
        assert!(
            size.bytes <= mlops::compile::children::CHILD_BYTES,
            "child {k}: {} bytes",
            size.bytes
        );
        assert!(deployments(&json) <= 450, "child {k}");
        for (name, _) in mlops::gitlab::jobs(&json) {
            if let Some(model) = name.strip_suffix(":register") {
                seen.push(model.to_owned());
            }
        }
    }
    // `mlops lint` of a child file says the same.
    let files: Vec<String> = (1..=n).map(|k| format!("mlops-child-{k}.yml")).collect();
    let (code, text) = crate::harness::transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .arg("lint")
            .args(&files),
    );
    assert_eq!(code, 0, "{text}");
    seen.sort();
    let want: Vec<String> = (1..=2000).map(|i| format!("model-{i:04}")).collect();
    assert_eq!(seen, want, "every model in exactly one child");

    // Deterministic: the same models land in the same children.
    let again = generate_children(tmp.path(), &parent);
    assert_eq!(again, children);
}

#[test]
fn one_file_over_the_limits_is_refused_with_the_way_out() {
    let tmp = tempfile::tempdir().expect("tempdir");
    many_models(tmp.path(), 200, "");
    let (code, text) =
        crate::harness::transcript(harness::mlops().current_dir(tmp.path()).args(["compile"]));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("GitLab refuses more than 2097152"), "{text}");
    assert!(text.contains("`mlops compile --child-pipeline`"), "{text}");
    assert!(!tmp.path().join(".gitlab-ci.yml").exists());
    // Between the old 1 MiB and today's 2 MiB: written, with a warning.
    let tmp = tempfile::tempdir().expect("tempdir");
    many_models(tmp.path(), 150, "");
    let err = run_ok(tmp.path(), &[], &[]);
    assert!(err.contains("warning:") && err.contains("1048576"), "{err}");
    // `mlops lint` says the same of a file written by hand.
    let (code, text) =
        crate::harness::transcript(harness::mlops().current_dir(tmp.path()).arg("lint"));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("refuse more than 1048576"), "{text}");
}

#[test]
fn check_recognises_a_parent_and_its_children() {
    let tmp = tempfile::tempdir().expect("tempdir");
    many_models(tmp.path(), 120, "");
    run_ok(tmp.path(), &["--child-pipeline", "--changed-only"], &[]);
    let parent = std::fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).expect("parent");
    let n = shards_of(&parent);
    assert!(n >= 2, "{n}");
    // Plain `--check` and plain `compile` see a parent and keep it one.
    let err = run_ok(tmp.path(), &["--check"], &[]);
    assert!(err.contains("is a parent pipeline"), "{err}");
    run_ok(tmp.path(), &[], &[]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).expect("parent"),
        parent
    );
    // More models need more children: the parent is out of date, and both `--check` and the
    // generate job name the command that fixes it.
    many_models(tmp.path(), 400, "");
    let (code, text) = crate::harness::transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["compile", "--check"]),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("run `mlops compile --child-pipeline --changed-only` to update it"),
        "{text}"
    );
    let (code, text) = crate::harness::transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["compile", "-o", "mlops-child.yml", "--changed-only"])
            .env("MLOPS_CHILD_PIPELINES", n.to_string()),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("triggers {n} child pipelines")),
        "{text}"
    );
    assert!(
        text.contains("run `mlops compile --child-pipeline --changed-only`"),
        "{text}"
    );
}

#[test]
fn child_pipelines_forces_the_count() {
    let tmp = tempfile::tempdir().expect("tempdir");
    many_models(tmp.path(), 6, "\n[pipeline]\nchild_pipelines = 3\n");
    // Plain `mlops compile` writes the parent: the setting asks for child mode.
    run_ok(tmp.path(), &[], &[]);
    let parent = std::fs::read_to_string(tmp.path().join(".gitlab-ci.yml")).expect("parent");
    assert_eq!(shards_of(&parent), 3);
    let children = generate_children(tmp.path(), &parent);
    assert_eq!(children.len(), 3);
    for child in &children {
        let json = mlops::yaml::parse(child).expect("yaml").to_json();
        assert!(
            !mlops::gitlab::jobs(&json).is_empty(),
            "never an empty pipeline"
        );
    }
    // Too few for the models: refused, with the number the limits need.
    many_models(tmp.path(), 400, "\n[pipeline]\nchild_pipelines = 2\n");
    let (code, text) = crate::harness::transcript(
        harness::mlops()
            .current_dir(tmp.path())
            .args(["compile", "--check"]),
    );
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("`pipeline.child_pipelines = 2` is too few"),
        "{text}"
    );
}

#[test]
fn changed_only_works_per_child() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    many_models(dir, 120, "");
    run_ok(dir, &["--child-pipeline", "--changed-only"], &[]);
    let parent = std::fs::read_to_string(dir.join(".gitlab-ci.yml")).expect("parent");
    let n = shards_of(&parent);
    assert!(n >= 2, "{n}");
    std::fs::create_dir_all(dir.join("data/m5")).expect("mkdir");
    std::fs::write(dir.join("data/m5/train.csv"), "a\n1\n").expect("write");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "one"]);
    let before = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("data/m5/train.csv"), "a\n2\n").expect("write");
    git(dir, &["commit", "-qam", "two"]);

    let err = run_ok(
        dir,
        &["-o", "mlops-child.yml", "--changed-only"],
        &[
            ("MLOPS_CHILD_PIPELINES", &n.to_string()),
            ("CI_COMMIT_BEFORE_SHA", &before),
        ],
    );
    assert!(err.contains("1 of 120 models changed"), "{err}");
    let mut with_model = 0;
    for k in 1..=n {
        let text =
            std::fs::read_to_string(dir.join(format!("mlops-child-{k}.yml"))).expect("child");
        let json = mlops::yaml::parse(&text).expect("yaml").to_json();
        let jobs: Vec<String> = mlops::gitlab::jobs(&json)
            .iter()
            .map(|(j, _)| (*j).to_owned())
            .collect();
        if jobs.iter().any(|j| j.starts_with("model-0005:")) {
            with_model += 1;
            assert_eq!(jobs.len(), 4, "only the changed model: {jobs:?}");
        } else {
            assert_eq!(jobs, ["mlops-no-model-changed"], "child {k}");
        }
    }
    assert_eq!(with_model, 1);
}
