//! `mlops compile`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::report;
use crate::compile::child::{self, ParentOptions};
use crate::compile::children;
use crate::compile::verify::{Refused, verify};
use crate::compile::{
    CompileOptions, Compiled, InternalError, LowerOptions, finish, generate, unified_diff,
};
use crate::config::{self, Project, Source, display_path};
use crate::exit::Exit;

/// Arguments of `mlops compile`.
#[derive(Debug, Clone, Args)]
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
    /// What a parent's generate job runs: write the N child pipelines next to `-o`, and exit
    /// 1 with the command to run when `mlops.toml` now needs another number of them.
    #[arg(long, hide = true, value_name = "N", env = "MLOPS_CHILD_PIPELINES", conflicts_with_all = ["check", "stdout", "child_pipeline", "fail_on_change"])]
    pub shards: Option<usize>,
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
pub fn changed_files() -> Result<(String, Vec<String>), String> {
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

/// Why nothing can be compiled: the message is printed, the `Exit` is the code.
fn build(project: &Project, args: &CompileArgs, lower: LowerOptions) -> Result<Compiled, Exit> {
    let internal = |e: InternalError| {
        eprint!("{}", report::render(&e));
        Exit::Error
    };
    if args.child_pipeline {
        let shards = match children::plan(project, &lower) {
            Ok(plan) => plan.len(),
            Err(e) => {
                report::error(&e.to_string(), Some(plan_hint(&e)));
                return Err(Exit::Error);
            }
        };
        let config = lower.config_path.clone();
        let mut p = child::parent(
            project,
            &ParentOptions {
                lower,
                changed_only: args.changed_only,
                shards,
            },
        );
        return finish(&mut p, &config, "mlops compile --child-pipeline").map_err(internal);
    }
    build_single(project, args, lower).map_err(internal)
}

/// How to get past a [`children::PlanError`].
pub fn plan_hint(e: &children::PlanError) -> &'static str {
    match e {
        children::PlanError::TooBig(_) => {
            "a model's jobs must fit one child pipeline: shorten its `changes`, `tags` or `training_args`"
        }
        children::PlanError::TooFew { .. } => {
            "raise `child_pipelines` in [pipeline], or remove it to let mlops choose"
        }
    }
}

fn build_single(
    project: &Project,
    args: &CompileArgs,
    lower: LowerOptions,
) -> Result<Compiled, InternalError> {
    let config = lower.config_path.clone();
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
    let config_path = display_path(&args.config);
    // The path is written into the banner and into `variables:`, where GitLab expands `$`.
    let unusable = if config_path.chars().any(char::is_control) {
        Some("a control character")
    } else if config_path.contains('$') {
        Some("`$`, which GitLab would expand as a variable")
    } else {
        None
    };
    if let Some(what) = unusable {
        report::error(
            &format!("the config path {config_path:?} contains {what}"),
            Some("the path is written into the pipeline's banner and variables: rename the file"),
        );
        return Exit::Error;
    }
    let lower = LowerOptions { config_path };
    if let Some(n) = args.shards {
        return super::shards::run(&project, args, &lower, n);
    }
    let out = display_path(&args.output);
    let on_disk = if args.stdout {
        None
    } else {
        match std::fs::read_to_string(&args.output) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                report::error(&format!("cannot read `{out}`: {e}"), None);
                return Exit::Error;
            }
        }
    };
    // A parent stays a parent: `[pipeline] child_pipelines`, or a parent on disk (which plain
    // `mlops compile` would otherwise replace with the whole pipeline).
    let forced = project
        .config
        .pipeline
        .as_ref()
        .is_some_and(|p| p.child_pipelines.is_some());
    let parent_on_disk = on_disk.as_deref().and_then(parent_options);
    let mut args = args.clone();
    if !args.child_pipeline {
        if let Some(changed_only) = parent_on_disk {
            eprintln!(
                "`{out}` is a parent pipeline: compiling it as one (as `--child-pipeline`{}); delete it to go back to a single pipeline",
                if changed_only { " --changed-only" } else { "" }
            );
            args.child_pipeline = true;
            args.changed_only = changed_only;
        } else if forced {
            args.child_pipeline = true;
        }
    }
    let args = &args;
    let compiled = match build(&project, args, lower) {
        Ok(c) => c,
        Err(e) => return e,
    };
    // The text is checked as GitLab will read it before anything is printed or written. Only
    // `--check` of an unchanged file skips it: this version checked that exact text when it
    // wrote it.
    let checked = || verified(&compiled, &out);
    if args.stdout {
        if !checked() {
            return Exit::Error;
        }
        print!("{}", compiled.text);
        return Exit::Success;
    }
    let same = on_disk
        .as_deref()
        .is_some_and(|d| d.replace("\r\n", "\n") == compiled.text);
    if args.check {
        if same {
            eprintln!("`{out}` is up to date with `{}`", source.name);
            return Exit::Success;
        }
        if !checked() {
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
    if !checked() {
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

/// Whether `text` is a parent pipeline this tool wrote, and then whether its generate job
/// keeps only changed models.
pub fn parent_options(text: &str) -> Option<bool> {
    let generate = text.find(&format!("\n{}:\n", child::GENERATE_JOB))?;
    if !text
        .lines()
        .take(3)
        .any(|l| l.starts_with("# A parent pipeline"))
    {
        return None;
    }
    let script = text[generate..]
        .lines()
        .find(|l| l.contains("mlops compile"))?;
    Some(script.contains("--changed-only"))
}

/// [`verify`] of a compiled text, printing why it is refused and its warnings.
pub fn verified(compiled: &Compiled, out: &str) -> bool {
    match verify(&compiled.text, &compiled.pipeline) {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("warning: `{out}`: {}", w.message);
                if let Some(h) = &w.help {
                    eprintln!("hint: {h}");
                }
            }
            true
        }
        Err(Refused::Internal(e)) => {
            eprint!("{}", report::render(&e));
            false
        }
        Err(Refused::Limits(errors)) => {
            for e in errors {
                report::error(&format!("`{out}`: {}", e.message), e.help.as_deref());
            }
            false
        }
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
