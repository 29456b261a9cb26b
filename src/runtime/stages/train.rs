//! `mlops run train`: an MLflow run around the user's training script.
//!
//! Setup creates the experiment and the run (tagged with the CI context) and pulls DVC data;
//! training runs the script through the Python bootstrap with autolog on; teardown sets the
//! final status itself (MLflow's `atexit` would say FINISHED even after a crash), pushes DVC
//! outputs and writes `train.env`, `train.json` and `train.annotations.json`.

use std::ffi::OsString;
use std::path::Path;

use clap::Args;
use serde_json::json;

use crate::cli::report;
use crate::config::model::Framework;
use crate::config::resolve::Dvc;
use crate::exit::Exit;
use crate::artifacts::{annotations, dotenv, write_file, write_json};
use crate::runtime::context::{CiEnv, CommonArgs, Context};
use crate::runtime::dvc;
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::packages::{self, Packages, Scratch};
use crate::runtime::mlflow::tracking::RunStatus;
use crate::runtime::mlflow::types::{RunInfo, Tag};
use crate::runtime::mlflow::{self as mlf, Client, Flavour};
use crate::runtime::process::{self, Ended, Spawn};

/// Arguments of `mlops run train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
    /// The training script (standalone, or instead of `training_script`).
    #[arg(long, env = "MLOPS_TRAINING_SCRIPT")]
    pub script: Option<String>,
    /// The script's arguments, split like a POSIX shell (instead of `training_args`).
    #[arg(long, env = "MLOPS_TRAINING_ARGS", allow_hyphen_values = true)]
    pub args: Option<String>,
    /// The framework whose MLflow autolog to enable: sklearn, pytorch, tensorflow, xgboost,
    /// lightgbm. Standalone without it, no autolog.
    #[arg(long, env = "MLOPS_FRAMEWORK")]
    pub framework: Option<String>,
    /// The MLflow experiment. Default: `experiment_name`, or the model name (on GitLab
    /// `<model>-training`).
    #[arg(long, env = "MLOPS_EXPERIMENT")]
    pub experiment: Option<String>,
    /// The tracking URI (instead of `MLFLOW_TRACKING_URI` / `[mlflow] tracking_uri`).
    #[arg(long)]
    pub tracking_uri: Option<String>,
}

struct Plan {
    script: String,
    args: Vec<String>,
    framework: Option<Framework>,
    experiment: String,
    dvc: Option<Dvc>,
}

fn plan(args: &TrainArgs, ctx: &Context, flavour: Flavour) -> Result<Plan, Exit> {
    let model = ctx.model.as_ref();
    let script = args
        .script
        .clone()
        .or_else(|| model.map(|m| m.training_script.clone()));
    let Some(script) = script else {
        report::error(
            "no training script",
            Some("pass --script FILE, or --model NAME to read it from mlops.toml"),
        );
        return Err(Exit::Error);
    };
    let script_args = match &args.args {
        Some(line) => shlex::split(line).ok_or_else(|| {
            report::error(
                "`--args` has an unclosed quote",
                Some("quote arguments like a POSIX shell would"),
            );
            Exit::Error
        })?,
        None => model.map(|m| m.training_args.clone()).unwrap_or_default(),
    };
    let framework = match &args.framework {
        Some(f) => Some(
            Framework::ALL
                .into_iter()
                .find(|x| x.as_str() == f.trim())
                .ok_or_else(|| {
                    let names: Vec<&str> = Framework::ALL.iter().map(|x| x.as_str()).collect();
                    report::error(
                        &format!("unknown framework `{f}`"),
                        Some(&format!("use one of: {}", names.join(", "))),
                    );
                    Exit::Error
                })?,
        ),
        None => model.map(|m| m.framework),
    };
    let experiment = args
        .experiment
        .clone()
        .or_else(|| model.and_then(|m| m.experiment_name.clone()))
        .or_else(|| model.map(|m| default_experiment(&m.name, flavour)))
        .or_else(|| {
            Path::new(&script)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "mlops".to_owned());
    if !Path::new(&script).is_file() {
        report::error(
            &format!("the training script `{script}` does not exist"),
            Some("paths are relative to the directory mlops runs in (the repository root in CI)"),
        );
        return Err(Exit::Error);
    }
    Ok(Plan {
        script,
        args: script_args,
        framework,
        experiment,
        dvc: model.and_then(|m| m.dvc.clone()),
    })
}

/// The experiment of a model without `experiment_name`: its name, except on GitLab, where it
/// is `<model>-training`. GitLab files each registered model's versions as runs of its own
/// experiment `[model]<name>` (`app/services/ml/create_model_service.rb`); the suffix keeps
/// the training runs apart from those, under a name that says what they are. (Earlier
/// releases gave a wrong reason, a name clash with the model, which GitLab does not have;
/// the default stayed, so projects keep their runs in one experiment.)
pub fn default_experiment(model: &str, flavour: Flavour) -> String {
    match flavour {
        Flavour::Mlflow => model.to_owned(),
        Flavour::Gitlab => format!("{model}-training"),
    }
}

/// Run tags from the CI context; only what exists.
fn ci_tags(ci: &CiEnv, model: Option<&str>, script: &str) -> Vec<Tag> {
    let mut tags = vec![
        Tag::new("mlflow.source.name", script),
        Tag::new("mlops.version", crate::VERSION),
    ];
    let pairs = [
        ("mlflow.source.git.commit", &ci.commit_sha),
        ("mlops.commit_sha", &ci.commit_sha),
        ("mlflow.source.git.branch", &ci.branch),
        ("mlops.branch", &ci.branch),
        ("mlops.pipeline_id", &ci.pipeline_id),
        ("mlops.pipeline_url", &ci.pipeline_url),
        ("mlops.job_id", &ci.job_id),
        ("mlops.job_url", &ci.job_url),
        // GitLab links the run (candidate) to this CI job.
        ("gitlab.CI_JOB_ID", &ci.job_id),
    ];
    for (k, v) in pairs {
        if let Some(v) = v {
            tags.push(Tag::new(k, v.clone()));
        }
    }
    if let Some(m) = model {
        tags.push(Tag::new("mlops.model", m));
    }
    tags
}

fn python() -> OsString {
    std::env::var_os("MLOPS_PYTHON")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Runs the stage.
pub fn run(args: &TrainArgs) -> Exit {
    let ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let client = match mlf::connect(&ctx, args.tracking_uri.as_deref()) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let plan = match plan(args, &ctx, client.flavour()) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let model_dir = (client.flavour() == Flavour::Gitlab).then(|| Scratch::new("model"));
    if let Some(dir) = &model_dir {
        // The script may write its own files there.
        if let Err(e) = std::fs::create_dir_all(dir.path()) {
            report::error(
                &format!("cannot create `{}`: {e}", dir.path().display()),
                Some("mlops keeps the saved model in the system temp directory (TMPDIR)"),
            );
            return Exit::Error;
        }
    }
    process::install_signal_handlers();

    let setup = Section::start("mlops_train_setup", "Setup: data and MLflow run", false);
    let mut pulled = Vec::new();
    if let Some(cfg) = &plan.dvc {
        match dvc::pull(cfg) {
            Ok(p) => pulled = p,
            Err(e) => return e,
        }
    }
    log::info(&format!(
        "MLflow: {} ({})",
        client.connection().display_uri(),
        client.flavour().as_str()
    ));
    let experiment = match client.get_or_create_experiment(&plan.experiment) {
        Ok(e) => e,
        Err(e) => return e.report(),
    };
    let run_name = match (&ctx.ci.pipeline_id, &ctx.ci.job_id) {
        (Some(p), Some(j)) => Some(format!("pipeline-{p}-job-{j}")),
        _ => None,
    };
    let tags = ci_tags(
        &ctx.ci,
        ctx.model.as_ref().map(|m| m.name.as_str()),
        &plan.script,
    );
    let info = match client.create_run(&experiment.experiment_id, run_name.as_deref(), &tags) {
        Ok(i) => i,
        Err(e) => return e.report(),
    };
    let run_url = mlf::run_url(&client, &ctx.ci, &experiment.experiment_id, &info.run_id);
    log::info(&format!(
        "experiment `{}` ({}), run {}",
        plan.experiment, experiment.experiment_id, info.run_id
    ));
    log::info(&format!("run: {run_url}"));
    drop(setup);

    let training = Section::start(
        "mlops_train_script",
        &format!("Training: {}", plan.script),
        false,
    );
    let outcome = train(
        &client,
        &plan,
        &experiment.experiment_id,
        &info.run_id,
        model_dir.as_ref(),
    );
    drop(training);

    let _teardown = Section::start(
        "mlops_train_teardown",
        "Teardown: run status and reports",
        false,
    );
    let (status, exit, exit_code) = match &outcome {
        Ok(o) => match o.ended {
            Ended::Exited(0) => (RunStatus::Finished, Exit::Success, Some(0)),
            Ended::Exited(c) => (
                RunStatus::Failed,
                Exit::Code(u8::try_from(c).unwrap_or(1)),
                Some(c),
            ),
            Ended::Signalled(s) => (
                RunStatus::Failed,
                Exit::Code(128u8.saturating_add(s as u8)),
                None,
            ),
            Ended::Interrupted(s) => (
                RunStatus::Killed,
                Exit::Code(128u8.saturating_add(s as u8)),
                None,
            ),
            Ended::TimedOut => (RunStatus::Killed, Exit::TempFail, None),
        },
        Err(e) => (RunStatus::Failed, *e, None),
    };
    // The run is FINISHED only once its outputs are stored: the model files (GitLab) and the
    // DVC push. A failure there fails the run; a signal meanwhile kills it.
    let (mut status, mut exit) = (status, exit);
    let mut model_files = Vec::new();
    if let (RunStatus::Finished, Some(dir)) = (status, &model_dir) {
        match upload_model(&client, &info, dir.path()) {
            Ok(files) => model_files = files,
            Err(e) => (status, exit) = (RunStatus::Failed, e),
        }
    }
    let mut pushed = Vec::new();
    if status == RunStatus::Finished {
        if let Some(cfg) = plan.dvc.as_ref().filter(|d| d.push) {
            match dvc::push(cfg) {
                Ok(p) => pushed = p,
                Err(e) => (status, exit) = (RunStatus::Failed, e),
            }
        }
    }
    if let Some(sig) = process::received_signal() {
        if status != RunStatus::Killed {
            status = RunStatus::Killed;
            exit = Exit::Code(128u8.saturating_add(u8::try_from(sig).unwrap_or(0)));
        }
    }
    match &outcome {
        Ok(o)
            if matches!(o.ended, Ended::Exited(c) if c != 0)
                || matches!(o.ended, Ended::Signalled(_)) =>
        {
            report::error(
                &format!("the training script failed ({:?})", o.ended),
                Some("see its output above; the MLflow run is marked FAILED"),
            );
        }
        _ if status == RunStatus::Killed => {
            log::warn("training was stopped by a signal; the MLflow run is marked KILLED");
        }
        _ => {}
    }
    if let Err(e) = client.finish_run(&info.run_id, status) {
        let code = e.report();
        if exit == Exit::Success {
            exit = code;
        }
    } else {
        log::info(&format!("run {} is {}", info.run_id, status.as_str()));
    }

    let dir = &ctx.report_dir;
    let env = dotenv::render(&[
        ("MLFLOW_RUN_ID", &info.run_id),
        ("MLFLOW_EXPERIMENT_ID", &experiment.experiment_id),
    ]);
    let summary = json!({
        "status": match status { RunStatus::Finished => "passed", RunStatus::Failed => "failed", RunStatus::Killed => "killed" },
        "run_id": info.run_id,
        "run_status": status.as_str(),
        "experiment_id": experiment.experiment_id,
        "experiment_name": plan.experiment,
        "run_url": run_url,
        "tracking_uri": client.connection().display_uri(),
        "flavour": client.flavour().as_str(),
        "script": plan.script,
        "args": plan.args,
        "framework": plan.framework.map(Framework::as_str),
        "exit_code": exit_code,
        "duration_seconds": outcome.as_ref().map(|o| (o.duration.as_secs_f64() * 1000.0).round() / 1000.0).ok(),
        "dvc": plan.dvc.as_ref().map(|_| json!({ "pulled": pulled, "pushed": pushed })),
        "model_files": model_dir.as_ref().map(|_| &model_files),
        "exit": exit.code(),
    });
    let links = [annotations::Link {
        label: format!("MLflow run {}", info.run_id),
        url: run_url.clone(),
    }];
    let written = env
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|text| write_file(&dir.join("train.env"), &text))
        .and_then(|()| write_json(&dir.join("train.json"), &summary))
        .and_then(|()| {
            write_file(
                &dir.join("train.annotations.json"),
                &annotations::render("mlflow", &links),
            )
        });
    if let Err(e) = written {
        report::error(
            &format!("could not write the reports to `{}`: {e}", dir.display()),
            None,
        );
        if exit == Exit::Success {
            exit = Exit::Error;
        }
    }
    exit
}

/// Uploads what the script saved into `dir` to the run's package on GitLab and lists it in
/// the run tag [`packages::FILES_TAG`]; returns the files.
fn upload_model(client: &Client, info: &RunInfo, dir: &Path) -> Result<Vec<String>, Exit> {
    let files = packages::model_files(dir).map_err(|e| {
        report::error(
            &format!("the saved model cannot go to GitLab: {e}"),
            Some("rename the files, or save fewer (GitLab's model package rules)"),
        );
        Exit::Error
    })?;
    if files.is_empty() {
        log::warn(
            "no model was saved: GitLab receives no model files (autolog saves the model of a supported framework; a script can call mlflow.<flavor>.log_model() or write files into $MLOPS_MODEL_DIR)",
        );
        return Ok(files);
    }
    let tag = packages::files_tag(&files).map_err(|e| {
        report::error(
            &e.to_string(),
            Some("pack the model into fewer files (an archive)"),
        );
        Exit::Error
    })?;
    let (api, owner) = Packages::of_run(client, info).map_err(|e| e.report())?;
    api.upload(&owner, dir, &files)
        .and_then(|()| client.set_run_tag(&info.run_id, packages::FILES_TAG, &tag))
        .map_err(|e| e.report())?;
    log::info(&format!(
        "uploaded {} model file(s) to the run ({owner}): {}",
        files.len(),
        files.join(", ")
    ));
    Ok(files)
}

fn bootstrap(framework: Option<Framework>, gitlab: bool) -> Result<String, minijinja::Error> {
    let ctx = minijinja::context! {
        framework => framework.map(Framework::as_str),
        gitlab => gitlab,
    };
    crate::templates::render("bootstrap.py", ctx)
}

fn train(
    client: &Client,
    plan: &Plan,
    experiment_id: &str,
    run_id: &str,
    model_dir: Option<&Scratch>,
) -> Result<process::Outcome, Exit> {
    let bootstrap = bootstrap(plan.framework, model_dir.is_some()).map_err(|e| {
        report::error(
            &format!("internal error rendering the Python bootstrap: {e}"),
            None,
        );
        Exit::Error
    })?;
    let mut argv: Vec<OsString> = vec!["-c".into(), bootstrap.into(), plan.script.clone().into()];
    argv.extend(plan.args.iter().map(OsString::from));
    let mut env = client.connection().child_env();
    env.push(("MLFLOW_RUN_ID".into(), run_id.to_owned()));
    env.push(("MLFLOW_EXPERIMENT_ID".into(), experiment_id.to_owned()));
    env.push(("PYTHONUNBUFFERED".into(), "1".into()));
    if let Some(dir) = model_dir {
        env.push((
            "MLOPS_MODEL_DIR".into(),
            dir.path().to_string_lossy().into_owned(),
        ));
    }
    let spec = Spawn {
        program: python().into(),
        args: argv,
        env,
        prefix: "│ ".into(),
        timeout: None,
    };
    process::run(&spec).map_err(|e| {
        let py = python().to_string_lossy().into_owned();
        if e.kind() == std::io::ErrorKind::NotFound {
            report::error(
                &format!("Python (`{py}`) was not found"),
                Some("install Python 3 with mlflow in the job image, or set MLOPS_PYTHON"),
            );
        } else {
            report::error(&format!("could not start `{py}`: {e}"), None);
        }
        Exit::Error
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_renders_for_every_framework_and_flavour() {
        for gitlab in [false, true] {
            let plain = bootstrap(None, gitlab).unwrap();
            assert!(plain.contains("runpy.run_path"));
            assert_eq!(plain.contains("MLOPS_MODEL_DIR\"]"), gitlab);
            for f in Framework::ALL {
                let text = bootstrap(Some(f), gitlab).unwrap();
                assert!(text.contains(&format!("mlflow.{}.autolog", f.as_str())));
                assert_eq!(text.contains("\"log_datasets\": False"), gitlab);
                assert_eq!(text.contains("_save_instead_of_log(_flavor)"), gitlab);
            }
        }
    }
}
