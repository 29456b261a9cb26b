//! The framework images under `images/`. No container engine runs in the test environment, so
//! the Dockerfiles get a static check: hadolint (every rule, down to `info`), plus the rules
//! this project relies on: a shared multi-stage build of the binary, a non-root `USER`, exact
//! base-image versions, pinned pip installs, Python 3.12, and one image per framework image
//! name the compiler emits.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use mlops::config::raw::Framework;

use crate::harness;

const IMAGES: [&str; 7] = [
    "boosting",
    "pytorch",
    "pytorch-gpu",
    "sklearn",
    "slim",
    "tensorflow",
    "tensorflow-gpu",
];

/// One instruction: the keyword (upper case) and its arguments, continuation lines joined.
#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    keyword: String,
    args: String,
}

fn dockerfile(name: &str) -> PathBuf {
    harness::root().join("images").join(name).join("Dockerfile")
}

fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, args) = current.split_once(' ').unwrap_or((current.as_str(), ""));
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        });
        current.clear();
    }
    out
}

/// The stages: each starts at a `FROM`.
fn stages(ins: &[Instruction]) -> Vec<Vec<Instruction>> {
    let mut out: Vec<Vec<Instruction>> = Vec::new();
    for i in ins {
        if i.keyword == "FROM" {
            out.push(vec![]);
        }
        if let Some(stage) = out.last_mut() {
            stage.push(i.clone());
        }
    }
    out
}

/// `image:tag` with an exact version (at least `major.minor`), optionally `@sha256:<64 hex>`.
fn base_image_is_pinned(image: &str) -> Result<(), String> {
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let hex = d.strip_prefix("sha256:").ok_or("a digest must be sha256")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{d}` is not a sha256 digest"));
        }
    }
    let tag = name_tag
        .rsplit_once(':')
        .map(|(_, t)| t)
        .filter(|t| !t.contains('/'))
        .ok_or_else(|| format!("`{image}` has no tag"))?;
    let version: String = tag
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if version.split('.').filter(|p| !p.is_empty()).count() < 2 || tag == "latest" {
        return Err(format!(
            "`{image}`: the tag must start with an exact version"
        ));
    }
    Ok(())
}

/// The requirement arguments of every `pip install` in a `RUN`, options and their values
/// skipped.
fn pip_requirements(run: &str) -> Vec<String> {
    let mut out = Vec::new();
    for command in run.split("&&") {
        let words = shlex::split(command).unwrap_or_else(|| panic!("cannot split `{command}`"));
        let Some(at) = words
            .windows(2)
            .position(|w| w[0] == "pip" && w[1] == "install")
        else {
            continue;
        };
        let mut rest = words[at + 2..].iter();
        while let Some(w) = rest.next() {
            if [
                "--index-url",
                "--extra-index-url",
                "-i",
                "--constraint",
                "-c",
            ]
            .contains(&w.as_str())
            {
                rest.next();
            } else if w.starts_with('-') {
                assert!(
                    !["-r", "--requirement", "-e", "--editable"].contains(&w.as_str()),
                    "pin packages inline: `{command}`"
                );
            } else {
                out.push(w.clone());
            }
        }
    }
    out
}

fn pinned_name(req: &str) -> Option<String> {
    let (name, version) = req.split_once("==")?;
    let ok = !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !name.is_empty();
    ok.then(|| name.split('[').next().unwrap_or(name).to_ascii_lowercase())
}

#[test]
fn every_framework_image_the_compiler_names_has_a_dockerfile() {
    let present: BTreeSet<String> = std::fs::read_dir(harness::root().join("images"))
        .expect("images/")
        .filter_map(|e| {
            let e = e.expect("entry");
            e.path()
                .join("Dockerfile")
                .is_file()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    let expected: BTreeSet<String> = IMAGES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(present, expected);
    for framework in Framework::ALL {
        assert!(
            present.contains(framework.image()),
            "{framework:?} → {}",
            framework.image()
        );
    }
}

#[test]
fn hadolint_passes_every_dockerfile() {
    let Some(hadolint) = harness::require_tool("hadolint") else {
        return;
    };
    for name in IMAGES {
        let out = Command::new(&hadolint)
            .args(["--no-color", "--failure-threshold", "info"])
            .arg(dockerfile(name))
            .output()
            .expect("hadolint runs");
        assert!(
            out.status.success(),
            "hadolint {name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_dockerfiles_follow_the_image_rules() {
    let mut build_stages = Vec::new();
    for name in IMAGES {
        let text = std::fs::read_to_string(dockerfile(name)).expect("read Dockerfile");
        let ins = instructions(&text);
        let stages = stages(&ins);
        assert!(stages.len() >= 2, "{name}: multi-stage");

        // Stage 1 builds the binary with Rust; it is the same text in every image.
        let build = &stages[0];
        assert!(
            build[0].args.starts_with("rust:") && build[0].args.ends_with(" AS build"),
            "{name}: {:?}",
            build[0]
        );
        assert!(
            build
                .iter()
                .any(|i| i.keyword == "RUN"
                    && i.args.contains("cargo build --profile dist --locked")),
            "{name}"
        );
        build_stages.push(build.clone());

        for s in &stages {
            let image = s[0].args.split_whitespace().next().expect("FROM image");
            if let Err(e) = base_image_is_pinned(image) {
                panic!("{name}: {e}");
            }
        }

        // The final stage: the binary copied from the build stage, a numeric non-root user.
        let last = stages.last().expect("a final stage");
        assert!(
            last.iter().any(|i| i.keyword == "COPY"
                && i.args == "--from=build /usr/local/bin/mlops /usr/local/bin/mlops"),
            "{name}: copies the binary"
        );
        let user = last
            .iter()
            .rev()
            .find(|i| i.keyword == "USER")
            .unwrap_or_else(|| panic!("{name}: no USER"));
        let uid = user.args.split(':').next().unwrap_or_default();
        assert!(
            uid.parse::<u32>().is_ok_and(|u| u != 0),
            "{name}: USER {} must be a numeric non-root uid",
            user.args
        );
        assert!(
            last.iter()
                .any(|i| i.keyword == "RUN" && i.args.starts_with("mlops --version")),
            "{name}: the image checks its binary at build time"
        );

        let mut pinned = BTreeSet::new();
        for i in last.iter().filter(|i| i.keyword == "RUN") {
            for req in pip_requirements(&i.args) {
                pinned.insert(
                    pinned_name(&req)
                        .unwrap_or_else(|| panic!("{name}: `{req}` is not pinned with ==")),
                );
            }
        }
        let python = last[0].args.starts_with("python:3.12.");
        if name == "slim" {
            assert!(pinned.is_empty() && !python, "slim carries only the binary");
            assert!(
                last[0].args.starts_with("alpine:"),
                "slim keeps a shell for `script:`"
            );
            continue;
        }
        assert!(python, "{name}: Python 3.12 base, got {}", last[0].args);
        assert!(
            text.contains("sys.version_info[:2] == (3, 12)"),
            "{name}: asserts Python 3.12 at build time"
        );
        let family: &[&str] = match name {
            "sklearn" => &["scikit-learn", "matplotlib"],
            "boosting" => &["xgboost", "lightgbm", "scikit-learn"],
            "pytorch" | "pytorch-gpu" => &["torch"],
            "tensorflow" => &["tensorflow-cpu"],
            "tensorflow-gpu" => &["tensorflow"],
            other => panic!("unexpected image {other}"),
        };
        for pkg in ["mlflow-skinny", "pandas"].iter().chain(family) {
            assert!(
                pinned.contains(*pkg),
                "{name}: installs {pkg} pinned, got {pinned:?}"
            );
        }
        if name.ends_with("-gpu") {
            assert!(
                text.contains("/whl/cu12") || text.contains("[and-cuda]"),
                "{name}: CUDA 12 builds"
            );
        } else {
            assert!(
                !text.contains("/whl/cu") && !text.contains("[and-cuda]"),
                "{name}: no CUDA in CPU images"
            );
        }
    }
    let first = &build_stages[0];
    for (name, stage) in IMAGES.iter().zip(&build_stages) {
        assert_eq!(
            stage, first,
            "{name}: the build stage differs, so BuildKit cannot share it"
        );
    }
}

#[test]
fn hadolint_ignores_say_why() {
    for name in IMAGES {
        let text = std::fs::read_to_string(dockerfile(name)).expect("read Dockerfile");
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if line.contains("hadolint ignore") {
                let reason = n.checked_sub(1).map(|p| lines[p].trim());
                assert!(
                    reason.is_some_and(|r| r.starts_with('#') && !r.contains("hadolint")),
                    "{name}:{}: a `hadolint ignore` needs a reason comment above it",
                    n + 1
                );
            }
        }
    }
}

/// The build stage copies from the repository root; everything the crate embeds at compile
/// time must be inside what it copies, or the image build fails where no test can see it.
#[test]
fn the_build_stage_copies_what_the_crate_needs() {
    let root = harness::root();
    let text = std::fs::read_to_string(dockerfile("slim")).expect("read Dockerfile");
    let ins = instructions(&text);
    let build = &stages(&ins)[0];
    let mut copied = Vec::new();
    for i in build.iter().filter(|i| i.keyword == "COPY") {
        let words: Vec<&str> = i.args.split_whitespace().collect();
        let (dest, sources) = words.split_last().expect("COPY has a destination");
        assert!(!dest.is_empty());
        for s in sources {
            assert!(root.join(s).exists(), "COPY {s}: not in the repository");
            copied.push(PathBuf::from(s));
        }
    }
    for needed in ["Cargo.toml", "Cargo.lock", "src"] {
        assert!(
            copied.contains(&PathBuf::from(needed)),
            "the build copies {needed}"
        );
    }
    let mut embedded = Vec::new();
    collect_embeds(&root.join("src"), &mut embedded);
    assert!(
        !embedded.is_empty(),
        "the crate embeds its templates and schema"
    );
    for path in embedded {
        let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
        assert!(
            copied.iter().any(|c| rel.starts_with(c)),
            "{} is embedded but not copied",
            rel.display()
        );
    }
}

/// Paths named by `include_str!`/`include_bytes!` under `dir`, resolved like rustc does.
fn collect_embeds(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_embeds(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            for macro_name in ["include_str!(\"", "include_bytes!(\""] {
                for (at, _) in text.match_indices(macro_name) {
                    let rest = &text[at + macro_name.len()..];
                    let arg = &rest[..rest.find('"').expect("closing quote")];
                    let resolved = path.parent().expect("parent").join(arg);
                    out.push(normalize(&resolved));
                }
            }
        }
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn the_pin_checks_reject_what_they_should() {
    assert!(base_image_is_pinned("python:3.12.12-slim-trixie").is_ok());
    assert!(base_image_is_pinned(&format!("alpine:3.23@sha256:{}", "a".repeat(64))).is_ok());
    assert!(base_image_is_pinned("python:3.12").is_ok());
    assert!(base_image_is_pinned("python:3-slim").is_err());
    assert!(base_image_is_pinned("python:latest").is_err());
    assert!(base_image_is_pinned("python").is_err());
    assert!(base_image_is_pinned("registry.example.com:5000/python").is_err());
    assert!(base_image_is_pinned("alpine:3.23@sha256:PLACEHOLDER").is_err());
    assert_eq!(
        pip_requirements(
            "apt-get update && pip install --no-cache-dir --index-url https://x/y torch==2.9.1 'a[b]==1'"
        ),
        ["torch==2.9.1", "a[b]==1"]
    );
    assert_eq!(pinned_name("a[b]==1").as_deref(), Some("a"));
    assert_eq!(pinned_name("pandas>=2"), None);
    assert_eq!(pinned_name("pandas"), None);
}
