//! `mlops compile`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::report;
use crate::compile::child::{self, ParentOptions};
use crate::compile::{
    CompileOptions, Compiled, InternalError, LowerOptions, check_gitlab_schema, finish, generate,
    unified_diff,
};
use crate::config::{self, Project, Source, display_path};
use crate::exit::Exit;

/// Arguments of `mlops compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The config file.
    #[arg(short, long, default_value = "mlops.toml", env = "MLOPS_CONFIG")]
    pub config: PathBuf,
    /// The pipeline file to write.
    #[arg(short, long, default_value = ".gitlab-ci.yml")]
    pub output: PathBuf,
    /// Write nothing; print a diff and exit 1 when the file differs or is missing.
    #[arg(long, conflicts_with = "stdout")]
    pub check: bool,
    /// Print the pipeline to stdout instead of writing it.
    #[arg(long)]
    pub stdout: bool,
    /// Exit 1 when the file was written or created (for pre-commit hooks).
    #[arg(long, conflicts_with_all = ["check", "stdout"])]
    pub fail_on_change: bool,
    /// Write a small fixed parent pipeline instead: a job compiles `mlops.toml` in CI and
    /// a trigger job runs the result as a child pipeline.
    #[arg(long)]
    pub child_pipeline: bool,
    /// Keep only the models whose files changed since `CI_MERGE_REQUEST_DIFF_BASE_SHA` or
    /// `CI_COMMIT_BEFORE_SHA` (all models when unknown). With `--child-pipeline`, the
    /// generate job does this.
    #[arg(long, env = "MLOPS_CHANGED_ONLY")]
    pub changed_only: bool,
}

/// [`config::read_source`], printing why the file cannot be read; the `Exit` is the code to
/// stop with. `graph`, `init` and the runtime's `--model` read their config through here.
pub fn read_source(path: &Path) -> Result<Source, Exit> {
    config::read_source(path).map_err(|e| {
        report::error(&e.to_string(), e.hint());
        Exit::Error
    })
}

/// [`config::load_project`], printing every problem; the `Exit` is the code to stop with.
pub fn resolve_source(source: &Source) -> Result<Project, Exit> {
    config::load_project(source).map_err(|e| {
        report::print_config_error(&e);
        Exit::Error
    })
}

/// Reads the config. Under pre-commit (`PRE_COMMIT=1`) the staged version is what is being
/// committed, so it is read from the git index when it differs from the working tree; the
/// log says which one was read.
pub fn read_config(path: &Path) -> Result<Source, Exit> {
    if std::env::var("PRE_COMMIT").as_deref() != Ok("1") || path.is_absolute() {
        return read_source(path);
    }
    let name = display_path(path);
    let staged = std::process::Command::new("git")
        .args(["show", &format!(":./{name}")])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    let working = read_source(path);
    match (staged, working) {
        (Some(staged), Ok(w)) if staged.replace("\r\n", "\n") == w.text.replace("\r\n", "\n") => {
            eprintln!("reading `{name}` (the staged and working-tree versions are the same)");
            Ok(w)
        }
        (Some(staged), _) => {
            eprintln!("reading the staged `{name}` from the git index (the working tree differs)");
            Ok(Source::new(name, staged))
        }
        (None, w) => {
            if w.is_ok() {
                eprintln!("reading `{name}` from the working tree (it is not in the git index)");
            }
            w
        }
    }
}

/// The base commit of `--changed-only`, from GitLab's variables (the all-zero SHA of a new
/// branch means there is none).
fn base_commit() -> Option<(&'static str, String)> {
    ["CI_MERGE_REQUEST_DIFF_BASE_SHA", "CI_COMMIT_BEFORE_SHA"]
        .into_iter()
        .find_map(|var| {
            let v = std::env::var(var).ok()?.trim().to_owned();
            let hex = (7..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit());
            (hex && !v.chars().all(|c| c == '0')).then_some((var, v))
        })
}

/// `git diff --name-only BASE HEAD`, or why it is unavailable.
fn changed_files() -> Result<(String, Vec<String>), String> {
    let (var, base) = base_commit().ok_or_else(|| {
        "neither `CI_MERGE_REQUEST_DIFF_BASE_SHA` nor `CI_COMMIT_BEFORE_SHA` names a commit"
            .to_owned()
    })?;
    let out = std::process::Command::new("git")
        .args(["diff", "--name-only", &base, "HEAD", "--"])
        .output()
        .map_err(|e| format!("cannot run `git`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`git diff {base} HEAD` failed ({}); is the clone too shallow? (`GIT_DEPTH`)",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let files = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    Ok((format!("{base} (`{var}`)"), files))
}

fn build(
    project: &Project,
    args: &CompileArgs,
    lower: LowerOptions,
) -> Result<Compiled, InternalError> {
    let config = lower.config_path.clone();
    if args.child_pipeline {
        let mut p = child::parent(
            project,
            &ParentOptions {
                lower,
                changed_only: args.changed_only,
            },
        );
        return finish(&mut p, &config, "mlops compile --child-pipeline");
    }
    if !args.changed_only {
        return generate(project, &CompileOptions { lower });
    }
    match changed_files() {
        Err(why) => {
            eprintln!("--changed-only: {why}; keeping all models");
            generate(project, &CompileOptions { lower })
        }
        Ok((base, files)) => {
            let keep = child::changed_models(project, &files, &config);
            let mut p = if keep.is_empty() {
                eprintln!("--changed-only: no model changed since {base}");
                child::no_change_pipeline(project, &lower, &base)
            } else {
                eprintln!(
                    "--changed-only: models changed since {base}: {}",
                    keep.join(", ")
                );
                child::filtered_pipeline(project, &lower, &keep)
            };
            finish(&mut p, &config, "mlops compile --changed-only")
        }
    }
}

/// Runs `mlops compile`.
pub fn run(args: &CompileArgs) -> Exit {
    let source = match read_config(&args.config) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let project = match resolve_source(&source) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let lower = LowerOptions {
        config_path: display_path(&args.config),
    };
    let compiled = match build(&project, args, lower) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{}", report::render(&e));
            return Exit::Error;
        }
    };
    let out = display_path(&args.output);
    // GitLab's schema is checked before anything is printed or written. Only `--check` of an
    // unchanged file skips it: this version checked that exact text when it wrote it.
    let schema_checked = || match check_gitlab_schema(&compiled.pipeline) {
        Ok(()) => true,
        Err(e) => {
            eprint!("{}", report::render(&e));
            false
        }
    };
    if args.stdout {
        if !schema_checked() {
            return Exit::Error;
        }
        print!("{}", compiled.text);
        return Exit::Success;
    }
    let on_disk = match std::fs::read_to_string(&args.output) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            report::error(&format!("cannot read `{out}`: {e}"), None);
            return Exit::Error;
        }
    };
    let same = on_disk
        .as_deref()
        .is_some_and(|d| d.replace("\r\n", "\n") == compiled.text);
    if args.check {
        if same {
            eprintln!("`{out}` is up to date with `{}`", source.name);
            return Exit::Success;
        }
        if !schema_checked() {
            return Exit::Error;
        }
        print!(
            "{}",
            unified_diff(&out, on_disk.as_deref().unwrap_or(""), &compiled.text)
        );
        let what = if on_disk.is_none() {
            "is missing"
        } else {
            "is out of date"
        };
        report::error(
            &format!("`{out}` {what}"),
            Some(&format!("run `{}` to update it", fix_command(args))),
        );
        return Exit::Failure;
    }
    if same {
        eprintln!("`{out}` is up to date");
        return Exit::Success;
    }
    if !schema_checked() {
        return Exit::Error;
    }
    if let Err(e) = crate::atomic::write(&args.output, &compiled.text) {
        report::error(&format!("cannot write `{out}`: {e}"), None);
        return Exit::Error;
    }
    let verb = if on_disk.is_none() {
        "created"
    } else {
        "updated"
    };
    eprintln!("{verb} `{out}` ({} jobs)", compiled.pipeline.jobs.len());
    if args.fail_on_change {
        eprintln!("the pipeline changed: review and stage `{out}`");
        Exit::Failure
    } else {
        Exit::Success
    }
}

fn fix_command(args: &CompileArgs) -> String {
    let mut cmd = "mlops compile".to_owned();
    if args.child_pipeline {
        cmd.push_str(" --child-pipeline");
    }
    if args.changed_only {
        cmd.push_str(" --changed-only");
    }
    if args.config != Path::new("mlops.toml") {
        let _ = write!(
            cmd,
            " -c {}",
            crate::compile::lower::quote(&display_path(&args.config))
        );
    }
    if args.output != Path::new(".gitlab-ci.yml") {
        let _ = write!(
            cmd,
            " -o {}",
            crate::compile::lower::quote(&display_path(&args.output))
        );
    }
    cmd
}
