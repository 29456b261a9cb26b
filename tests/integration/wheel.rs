//! The Python wheel (`pyproject.toml`, maturin `bindings = "bin"`): it is built from this
//! tree, installed into a fresh venv with uv, and the installed `mlops` must run and compile
//! an example exactly as the binary under test does.
//!
//! The wheel is built with the dev profile so maturin reuses the binary `cargo test` already
//! compiled; the release wheel is built by the project's CI (`.gitlab-ci.yml`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::harness;

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Cargo's per-test variables describe this test crate, not the build maturin starts.
fn without_cargo_test_env(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR" {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn build_wheel(out_dir: &Path) -> Option<PathBuf> {
    let maturin = harness::require_tool("maturin")?;
    run(without_cargo_test_env(
        Command::new(maturin)
            .args([
                "build",
                "--profile",
                "dev",
                "--offline",
                "--compatibility",
                "linux",
                "--out",
            ])
            .arg(out_dir)
            .current_dir(harness::root()),
    ));
    let wheels: Vec<PathBuf> = std::fs::read_dir(out_dir)
        .expect("read wheel dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "one wheel: {wheels:?}");
    wheels.into_iter().next()
}

#[test]
fn the_wheel_installs_a_working_mlops() {
    let started = Instant::now();
    let uv = harness::harness_dir().join("boot/bin/uv");
    if !uv.is_file() {
        harness::missing::<()>("uv (target/harness/boot/bin/uv)");
        return;
    }
    let Some(python) = harness::python() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(wheel) = build_wheel(&tmp.path().join("dist")) else {
        return;
    };
    let built = started.elapsed();

    // The file name carries the PyPI name and the crate version (PEP 427 normalises `-`).
    let name = wheel
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let prefix = format!("{}-{}-", mlops::PYPI_NAME.replace('-', "_"), mlops::VERSION);
    assert!(name.starts_with(&prefix), "{name} starts with {prefix}");

    let venv = tmp.path().join("venv");
    run(Command::new(&uv)
        .arg("venv")
        .arg("-q")
        .arg("--python")
        .arg(&python)
        .arg(&venv));
    run(Command::new(&uv)
        .args(["pip", "install", "-q", "--offline", "--python"])
        .arg(venv.join("bin/python"))
        .arg(&wheel));
    let installed = venv.join("bin/mlops");
    assert!(
        installed.is_file(),
        "the wheel puts `mlops` in the venv's bin"
    );

    let version = run(Command::new(&installed).arg("--version"));
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.contains(mlops::VERSION), "{version}");

    // The installed binary compiles an example byte for byte like the binary under test.
    let project = tmp.path().join("wine-classifier");
    harness::copy_dir(&harness::root().join("examples/wine-classifier"), &project);
    let from_wheel = run(Command::new(&installed)
        .args(["compile", "--stdout"])
        .current_dir(&project)
        .env("NO_COLOR", "1"));
    let from_cargo = run(harness::mlops()
        .args(["compile", "--stdout"])
        .current_dir(&project));
    assert!(!from_wheel.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&from_wheel.stdout),
        String::from_utf8_lossy(&from_cargo.stdout)
    );
    eprintln!(
        "wheel: built in {:.1} s, whole test {:.1} s",
        built.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
