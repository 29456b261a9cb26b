//! `[runtime]`: how the `mlops` binary gets into a job. Each install mode is compiled and its
//! `default: before_script` asserted line by line; the `url` mode's lines are then run for
//! real with `bash -e` against a loopback HTTP server, so a wrong `sha256` must stop the job.
//! Also the version pin: a binary whose version differs from the YAML's `MLOPS_VERSION`
//! refuses to run.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::JoinHandle;

use serde_json::Value;

use crate::harness;

/// A copy of the wine-classifier example with `runtime` appended to its `mlops.toml`.
fn project_with(runtime: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    harness::copy_dir(
        &harness::root().join("examples/wine-classifier"),
        dir.path(),
    );
    let config = dir.path().join("mlops.toml");
    let mut text = std::fs::read_to_string(&config).expect("read mlops.toml");
    text.push('\n');
    text.push_str(runtime);
    std::fs::write(&config, text).expect("write mlops.toml");
    dir
}

fn compile_stdout(dir: &Path) -> Output {
    harness::mlops()
        .args(["compile", "--stdout"])
        .current_dir(dir)
        .output()
        .expect("mlops runs")
}

/// The generated `default: before_script` (empty when the key is absent).
fn before_script(runtime: &str) -> Vec<String> {
    let dir = project_with(runtime);
    let out = compile_stdout(dir.path());
    assert!(
        out.status.success(),
        "compile failed for {runtime:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).expect("UTF-8 YAML");
    let doc = mlops::yaml::parse(&yaml)
        .expect("the YAML reads back")
        .to_json();
    match doc.pointer("/default/before_script") {
        None => vec![],
        Some(Value::Array(lines)) => lines
            .iter()
            .map(|l| {
                l.as_str()
                    .expect("before_script lines are strings")
                    .to_owned()
            })
            .collect(),
        Some(other) => panic!("before_script is not a list: {other}"),
    }
}

#[test]
fn image_mode_installs_nothing() {
    assert_eq!(before_script(""), Vec::<String>::new());
    assert_eq!(
        before_script("[runtime]\ninstall = \"image\"\n"),
        Vec::<String>::new()
    );
}

#[test]
fn preinstalled_mode_only_checks_the_binary() {
    assert_eq!(
        before_script("[runtime]\ninstall = \"preinstalled\"\n"),
        ["mlops --version"]
    );
}

#[test]
fn pip_mode_pins_the_wheel_with_double_equals() {
    let lines = before_script("[runtime]\ninstall = \"pip\"\n");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let pin = format!("{}=={}", mlops::PYPI_NAME, mlops::VERSION);
    let words = shlex::split(&lines[0]).expect("a shell line");
    assert_eq!(words, ["python3", "-m", "pip", "install", pin.as_str()]);
}

#[test]
fn url_mode_without_sha256_is_a_config_error() {
    let dir =
        project_with("[runtime]\ninstall = \"url\"\nurl = \"https://example.invalid/mlops\"\n");
    let out = compile_stdout(dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sha256"), "{err}");
}

/// Serves `body` over HTTP/1.0 on loopback to `requests` clients, then stops.
fn serve(body: Vec<u8>, requests: usize) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/mlops", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut paths = Vec::new();
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("request line");
            paths.push(
                request_line
                    .split(' ')
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned(),
            );
            let mut line = String::new();
            while reader.read_line(&mut line).expect("header") > 2 {
                line.clear();
            }
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).expect("write head");
            stream.write_all(&body).expect("write body");
        }
        paths
    });
    (url, handle)
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned()
}

/// Runs the `before_script` lines in order, as GitLab does, in a fresh `CI_PROJECT_DIR`, followed
/// by `mlops --version` to show which binary the job would now run.
fn run_lines(lines: &[String]) -> (Output, tempfile::TempDir) {
    let project_dir = tempfile::tempdir().expect("tempdir");
    let mut script = lines.join("\n");
    script.push_str("\ncommand -v mlops\nmlops --version\n");
    // A PATH without the binary under test, so the only `mlops` is the downloaded one.
    let path = std::env::var("PATH").unwrap_or_default();
    let out = Command::new("bash")
        .arg("-e")
        .arg("-c")
        .arg(script)
        .current_dir(project_dir.path())
        .env("CI_PROJECT_DIR", project_dir.path())
        .env("PATH", path)
        .output()
        .expect("bash runs");
    (out, project_dir)
}

#[test]
fn url_mode_downloads_verifies_and_refuses_a_wrong_sha256() {
    if Command::new("curl").arg("--version").output().is_err() {
        harness::missing::<()>("`curl`");
        return;
    }
    let binary: PathBuf = harness::bin();
    let right = sha256_of(&binary);
    let wrong = "0".repeat(64);
    assert_ne!(right, wrong);
    let (url, server) = serve(std::fs::read(&binary).expect("read binary"), 2);

    let config =
        |sha: &str| format!("[runtime]\ninstall = \"url\"\nurl = \"{url}\"\nsha256 = \"{sha}\"\n");
    let good_lines = before_script(&config(&right));
    let bad_lines = before_script(&config(&wrong));
    assert!(
        good_lines.iter().any(|l| l.contains(&right)),
        "the pinned sha256 is in the YAML: {good_lines:?}"
    );
    assert!(
        good_lines
            .iter()
            .any(|l| l.starts_with("curl ") && l.contains(&url))
    );

    // Wrong digest: the job stops at the check, and the file never becomes runnable.
    let (out, dir) = run_lines(&bad_lines);
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a wrong sha256 must fail: {log}");
    assert!(
        log.contains(".mlops/bin/mlops: FAILED"),
        "sha256sum names the failure: {log}"
    );
    let downloaded = dir.path().join(".mlops/bin/mlops");
    assert!(downloaded.is_file(), "the download itself happened");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(mlops::VERSION));

    // Right digest: the binary is installed and is the one on PATH.
    let (out, dir) = run_lines(&good_lines);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "right sha256 must pass: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = dir.path().join(".mlops/bin/mlops");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.ends_with("/.mlops/bin/mlops: OK")),
        "{stdout}"
    );
    let [.., which, version] = lines.as_slice() else {
        panic!("{stdout}")
    };
    assert_eq!(*which, installed.to_string_lossy());
    assert!(version.contains(mlops::VERSION), "{stdout}");

    let paths = server.join().expect("server thread");
    assert_eq!(paths, ["/mlops", "/mlops"]);
}

#[test]
fn a_binary_of_another_version_refuses_the_pipeline() {
    let dir = project_with("");
    let out = harness::mlops()
        .args(["run", "validate", "--model", "wine-classifier"])
        .current_dir(dir.path())
        .env("MLOPS_VERSION", "9.9.9")
        .output()
        .expect("mlops runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("9.9.9"),
        "names the pinned version: {stderr}"
    );
    assert!(
        stderr.contains(mlops::VERSION),
        "names its own version: {stderr}"
    );

    // The matching pin passes the check (whatever the stage then does).
    let out = harness::mlops()
        .args(["run", "validate", "--model", "wine-classifier"])
        .current_dir(dir.path())
        .env("MLOPS_VERSION", mlops::VERSION)
        .output()
        .expect("mlops runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("9.9.9") && !stderr.contains("pins mlops"),
        "{stderr}"
    );
}

// --- The project's own `.gitlab-ci.yml` and the CI/CD component `templates/mlops.yml`. ---

/// GitLab's schema and semantic checks, as `mlops compile` applies them to its own output.
fn assert_gitlab_accepts(what: &str, doc: &Value) {
    let mut findings = mlops::gitlab::check_schema(doc);
    findings.extend(mlops::gitlab::check_semantics(doc));
    assert!(findings.is_empty(), "{what}: {findings:#?}");
}

/// A scratch git repository holding `files` (path, content), with an `origin`, as
/// gitlab-ci-local needs.
fn ci_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    std::fs::write(dir.path().join(".gitignore"), ".gitlab-ci-local/\n").expect("write");
    harness::git_repo(dir.path());
    harness::track_origin_main(dir.path());
    dir
}

fn gitlab_ci_local(repo: &Path, args: &[&str]) -> Option<Output> {
    let gcl = harness::require_tool("gitlab-ci-local")?;
    Some(
        Command::new(gcl)
            .args(args)
            .current_dir(repo)
            .env("PATH", harness::test_path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("gitlab-ci-local runs"),
    )
}

/// The jobs that would run (`when` other than `never`).
fn job_names(list_json: &[u8]) -> Vec<String> {
    let jobs: Value = serde_json::from_slice(list_json).expect("--list-json is JSON");
    jobs.as_array()
        .expect("a list")
        .iter()
        .filter(|j| j["when"] != "never")
        .map(|j| j["name"].as_str().expect("name").to_owned())
        .collect()
}

#[test]
fn the_project_pipeline_passes_gitlab_checks_and_releases_only_on_tags() {
    let text = std::fs::read_to_string(harness::root().join(".gitlab-ci.yml")).expect("read");
    let doc = mlops::yaml::parse(&text).expect("YAML").to_json();
    assert_gitlab_accepts(".gitlab-ci.yml", &doc);
    let release = doc
        .pointer("/release/release/tag_name")
        .and_then(Value::as_str);
    assert_eq!(
        release,
        Some("$CI_COMMIT_TAG"),
        "the release job uses the `release` keyword"
    );

    let repo = ci_repo(&[(".gitlab-ci.yml", &text)]);
    let Some(preview) = gitlab_ci_local(repo.path(), &["--preview"]) else {
        return;
    };
    assert!(
        preview.status.success(),
        "{}",
        String::from_utf8_lossy(&preview.stderr)
    );

    let branch = gitlab_ci_local(repo.path(), &["--list-json"]).expect("gitlab-ci-local");
    assert!(
        branch.status.success(),
        "{}",
        String::from_utf8_lossy(&branch.stderr)
    );
    let on_branch = job_names(&branch.stdout);
    for job in ["test", "build:binary", "build:wheel"] {
        assert!(
            on_branch.iter().any(|j| j == job),
            "{job} runs on every push: {on_branch:?}"
        );
    }
    for job in [
        "release",
        "publish:generic",
        "publish:pypi",
        "check:version",
    ] {
        assert!(
            !on_branch.iter().any(|j| j == job),
            "{job} only on tags: {on_branch:?}"
        );
    }
    assert!(!on_branch.iter().any(|j| j.starts_with("images:push")));

    let tag = gitlab_ci_local(
        repo.path(),
        &[
            "--list-json",
            "--variable",
            &format!("CI_COMMIT_TAG={}", mlops::VERSION),
        ],
    )
    .expect("gitlab-ci-local");
    assert!(
        tag.status.success(),
        "{}",
        String::from_utf8_lossy(&tag.stderr)
    );
    let on_tag = job_names(&tag.stdout);
    for job in [
        "release",
        "publish:generic",
        "publish:pypi",
        "check:version",
        "test",
    ] {
        assert!(
            on_tag.iter().any(|j| j == job),
            "{job} runs on a SemVer tag: {on_tag:?}"
        );
    }
    assert_eq!(
        on_tag
            .iter()
            .filter(|j| j.starts_with("images:push"))
            .count(),
        7,
        "{on_tag:?}"
    );

    let not_semver = gitlab_ci_local(
        repo.path(),
        &["--list-json", "--variable", "CI_COMMIT_TAG=nightly"],
    )
    .expect("gitlab-ci-local");
    assert!(!job_names(&not_semver.stdout).iter().any(|j| j == "release"));
}

/// The component's `spec` header and its body, with every `$[[ inputs.x ]]` replaced by
/// `inputs[x]` or the input's default, as GitLab interpolates an include.
fn interpolate_component(text: &str, inputs: &[(&str, &str)]) -> (Value, String) {
    let (header, body) = text.split_once("\n---\n").expect("a spec header, then ---");
    let spec = mlops::yaml::parse(header).expect("header YAML").to_json();
    let mut out = body.to_owned();
    let declared = spec
        .pointer("/spec/inputs")
        .and_then(Value::as_object)
        .expect("spec:inputs");
    for (name, input) in declared {
        let value = inputs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| (*v).to_owned())
            .or_else(|| match &input["default"] {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                // Booleans and numbers interpolate as their YAML text.
                other => Some(other.to_string()),
            })
            .unwrap_or_else(|| panic!("input {name} has no default"));
        out = out.replace(&format!("$[[ inputs.{name} ]]"), &value);
    }
    assert!(
        !out.contains("$[["),
        "every interpolation names a declared input:\n{out}"
    );
    (spec, out)
}

#[test]
fn the_component_declares_valid_inputs_and_expands_to_a_valid_pipeline() {
    let text = std::fs::read_to_string(harness::root().join("templates/mlops.yml")).expect("read");
    let (spec, body) = interpolate_component(&text, &[]);
    let inputs = spec
        .pointer("/spec/inputs")
        .and_then(Value::as_object)
        .expect("inputs");
    for (name, input) in inputs {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{name}"
        );
        let description = input["description"].as_str().unwrap_or_default();
        assert!(
            !description.is_empty() && description.len() <= 1024,
            "{name}: description"
        );
        if let Some(options) = input["options"].as_array() {
            assert!(
                options.contains(&input["default"]),
                "{name}: the default is an option"
            );
        }
    }
    let image = inputs["image"]["default"].as_str().expect("image default");
    assert!(
        image.ends_with(&format!("/slim:{}", mlops::VERSION)),
        "the default image pins this version: {image}"
    );
    let doc = mlops::yaml::parse(&body).expect("body YAML").to_json();
    assert_gitlab_accepts("templates/mlops.yml", &doc);
    assert_eq!(
        doc.pointer("/mlops:pipeline/trigger/include/0/job")
            .and_then(Value::as_str),
        Some("mlops:generate")
    );
    // A component avoids global keywords (GitLab's `doc/ci/components/_index.md`).
    for key in ["default", "variables", "stages", "workflow"] {
        assert!(doc.get(key).is_none(), "the component sets global `{key}`");
    }
}

/// gitlab-ci-local includes the component with inputs and runs its generate job with the
/// binary under test: the artifact it leaves is what `mlops compile` writes.
#[test]
fn the_component_generate_job_compiles_the_config() {
    let component =
        std::fs::read_to_string(harness::root().join("templates/mlops.yml")).expect("read");
    let example = harness::root().join("examples/wine-classifier");
    let config = std::fs::read_to_string(example.join("mlops.toml")).expect("read");
    let consumer = "include:\n  - local: templates/mlops.yml\n    inputs:\n      config: ml/mlops.toml\n      job_prefix: ml\n";
    let repo = ci_repo(&[
        (".gitlab-ci.yml", consumer),
        ("templates/mlops.yml", &component),
        ("ml/mlops.toml", &config),
    ]);
    harness::copy_dir(&example.join("scripts"), &repo.path().join("scripts"));
    harness::copy_dir(&example.join("data"), &repo.path().join("data"));

    let Some(out) = gitlab_ci_local(
        repo.path(),
        &[
            "--force-shell-executor",
            "--shell-isolation",
            "--no-artifacts-to-source",
            "ml:generate",
        ],
    ) else {
        return;
    };
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    // The exported artifacts, under a directory named after the job (escaped by gitlab-ci-local).
    let artifacts: Vec<PathBuf> = std::fs::read_dir(repo.path().join(".gitlab-ci-local/artifacts"))
        .expect("artifacts dir")
        .map(|e| e.expect("entry").path().join(".mlops/ml.gitlab-ci.yml"))
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(artifacts.len(), 1, "one artifact: {artifacts:?}\n{log}");
    let produced = std::fs::read_to_string(&artifacts[0]).expect("read artifact");
    let expected = harness::mlops()
        .args(["compile", "--config", "ml/mlops.toml", "--stdout"])
        .current_dir(repo.path())
        .output()
        .expect("mlops runs");
    assert!(expected.status.success());
    assert_eq!(produced, String::from_utf8_lossy(&expected.stdout));
}
