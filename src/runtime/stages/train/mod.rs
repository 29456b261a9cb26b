//! `mlops run train`: an MLflow run around the user's training script.
//!
//! Setup creates the experiment and the run (tagged with the CI context) and pulls DVC data;
//! training runs the script through the Python bootstrap with autolog on; teardown sets the
//! final status itself (MLflow's `atexit` would say FINISHED even after a crash), pushes DVC
//! outputs and writes `train.env`, `train.json` and `train.annotations.json`.

mod script;
mod settings;

use std::path::Path;

use clap::Args;
use serde::Serialize;

use self::settings::Settings;
use crate::artifacts::annotations::Link;
use crate::artifacts::{self, StageFiles};
use crate::config::raw::Framework;
use crate::exit::Exit;
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::dvc;
use crate::runtime::error::Error;
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::packages::{self, LayoutError, Packages, Scratch};
use crate::runtime::mlflow::tracking::RunStatus;
use crate::runtime::mlflow::types::RunInfo;
use crate::runtime::mlflow::{self as mlf, Client, Flavour};
use crate::runtime::process::{self, Ended};
use crate::stage::Stage;

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
    /// The longest the script may run (instead of `train_timeout`): seconds, or with `s`,
    /// `m` or `h` (`90m`).
    #[arg(long, env = "MLOPS_TRAIN_TIMEOUT")]
    pub timeout: Option<String>,
}

/// Why training could not run or did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainError {
    /// Neither `--script` nor a model.
    #[error("no training script")]
    NoScript,
    /// `--args` is not shell words.
    #[error("`--args` has an unclosed quote")]
    UnclosedQuote,
    /// `--framework` names no framework.
    #[error("unknown framework `{0}`")]
    UnknownFramework(String),
    /// The script is not a file.
    #[error("the training script `{0}` does not exist")]
    ScriptMissing(String),
    /// The model directory could not be created.
    #[error("cannot create `{path}`: {detail}")]
    ModelDir {
        /// The directory.
        path: String,
        /// The I/O error.
        detail: String,
    },
    /// The saved model breaks GitLab's package rules.
    #[error("the saved model cannot go to GitLab: {0}")]
    ModelLayout(LayoutError),
    /// The file list does not fit in a run tag.
    #[error("{0}")]
    FilesTag(LayoutError),
    /// The bootstrap template did not render (a bug).
    #[error("internal error rendering the Python bootstrap: {0}")]
    Bootstrap(String),
    /// No Python.
    #[error("Python (`{0}`) was not found")]
    PythonNotFound(String),
    /// Python could not be started.
    #[error("could not start `{python}`: {detail}")]
    PythonStart {
        /// The interpreter.
        python: String,
        /// The I/O error.
        detail: String,
    },
    /// The script exited non-zero or crashed on a signal.
    #[error("the training script failed ({0:?})")]
    ScriptFailed(Ended),
    /// A signal stopped training.
    #[error("training was stopped by a signal; the MLflow run is marked KILLED")]
    Killed(i32),
    /// The script outlived its timeout.
    #[error("the training script ran longer than `train_timeout` and was stopped")]
    TimedOut,
    /// `train_timeout` is not a duration.
    #[error("`train_timeout` is `{0}`, not a duration")]
    BadTimeout(String),
}

impl TrainError {
    /// The script's own code when it failed, 128+n for a signal, 1 for a timeout (a limit
    /// exceeded, which a retry would exceed again), else 2.
    pub fn exit(&self) -> Exit {
        match self {
            TrainError::ScriptFailed(Ended::Exited(c)) => Exit::Code(u8::try_from(*c).unwrap_or(1)),
            TrainError::ScriptFailed(Ended::Signalled(s) | Ended::Interrupted(s))
            | TrainError::Killed(s) => Exit::signalled(*s),
            TrainError::TimedOut | TrainError::ScriptFailed(Ended::TimedOut) => Exit::Failure,
            _ => Exit::Error,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            TrainError::NoScript => {
                "pass --script FILE, or --model NAME to read it from mlops.toml".to_owned()
            }
            TrainError::UnclosedQuote => "quote arguments like a POSIX shell would".to_owned(),
            TrainError::UnknownFramework(_) => {
                let names: Vec<&str> = Framework::ALL.iter().map(|x| x.as_str()).collect();
                format!("use one of: {}", names.join(", "))
            }
            TrainError::ScriptMissing(_) => {
                "paths are relative to the directory mlops runs in (the repository root in CI)"
                    .to_owned()
            }
            TrainError::ModelDir { .. } => {
                "mlops keeps the saved model in the system temp directory (TMPDIR)".to_owned()
            }
            TrainError::ModelLayout(_) => {
                "rename the files, or save fewer (GitLab's model package rules)".to_owned()
            }
            TrainError::FilesTag(_) => "pack the model into fewer files (an archive)".to_owned(),
            TrainError::PythonNotFound(_) => {
                "install Python 3 with mlflow in the job image, or set MLOPS_PYTHON".to_owned()
            }
            TrainError::ScriptFailed(_) => {
                "see its output above; the MLflow run is marked FAILED".to_owned()
            }
            TrainError::TimedOut => {
                "the MLflow run is marked KILLED; raise `train_timeout` (or MLOPS_TRAIN_TIMEOUT) or make the script faster".to_owned()
            }
            TrainError::BadTimeout(_) => {
                "use seconds, or a number with `s`, `m` or `h`: `3600`, `90m`, `2h`".to_owned()
            }
            TrainError::Bootstrap(_)
            | TrainError::PythonStart { .. }
            | TrainError::Killed(_) => return None,
        };
        Some(hint)
    }
}

/// `train.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// `passed`, `failed` or `killed`.
    pub status: &'static str,
    /// The MLflow run.
    pub run_id: String,
    /// Its status on the server: `FINISHED`, `FAILED` or `KILLED`, or `RUNNING` when it could
    /// not be set.
    pub run_status: &'static str,
    /// The experiment.
    pub experiment_id: String,
    /// Its name.
    pub experiment_name: String,
    /// A browser link to the run.
    pub run_url: String,
    /// The tracking URI, credentials masked.
    pub tracking_uri: String,
    /// `mlflow` or `gitlab`.
    pub flavour: &'static str,
    /// The training script.
    pub script: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The autolog framework.
    pub framework: Option<&'static str>,
    /// The script's exit code, when it exited.
    pub exit_code: Option<i32>,
    /// How long the script ran, in seconds (ms precision).
    pub duration_seconds: Option<f64>,
    /// The DVC paths pulled and pushed, when DVC is on.
    pub dvc: Option<DvcSummary>,
    /// The model files uploaded to the run (GitLab).
    pub model_files: Option<Vec<String>>,
    /// The stage's exit code.
    pub exit: u8,
}

/// `dvc` in `train.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DvcSummary {
    /// Pulled before training.
    pub pulled: Vec<String>,
    /// Pushed after training.
    pub pushed: Vec<String>,
}

/// The run a training happens in.
struct Started {
    experiment_id: String,
    info: RunInfo,
    run_url: String,
    pulled: Vec<String>,
}

/// How the run ended: its status, what was stored, and every problem on the way.
struct Finished {
    status: RunStatus,
    /// Whether the server holds `status`; if not, the run is still RUNNING there.
    recorded: bool,
    exit_code: Option<i32>,
    duration_seconds: Option<f64>,
    model_files: Vec<String>,
    pushed: Vec<String>,
    errors: Vec<Error>,
}

/// Runs the stage: setup, the script, teardown, then the reports.
pub fn train(args: &TrainArgs, ctx: &Context) -> Result<(), Error> {
    let client = mlf::connect(ctx, args.tracking_uri.as_deref())?;
    let settings = Settings::resolve(
        args,
        ctx.model.as_ref(),
        config_timeout(ctx).as_deref(),
        client.flavour(),
    )?;
    if !Path::new(&settings.script).is_file() {
        return Err(TrainError::ScriptMissing(settings.script).into());
    }
    let model_dir = (client.flavour() == Flavour::Gitlab).then(|| Scratch::new("model"));
    if let Some(dir) = &model_dir {
        // The script may write its own files there.
        std::fs::create_dir_all(dir.path()).map_err(|e| TrainError::ModelDir {
            path: dir.path().display().to_string(),
            detail: e.to_string(),
        })?;
    }
    process::install_signal_handlers();
    let started = setup(&client, ctx, &settings)?;
    let outcome = {
        let _training = Section::start(
            "mlops_train_script",
            &format!("Training: {}", settings.script),
            false,
        );
        script::run_script(
            &client,
            &settings,
            &started.experiment_id,
            &started.info.run_id,
            model_dir.as_ref(),
        )
    };
    let _teardown = Section::start(
        "mlops_train_teardown",
        "Teardown: run status and reports",
        false,
    );
    let mut end = teardown(&client, &settings, &started, outcome, model_dir.as_ref());
    let report = summary(&client, &settings, &started, &end, model_dir.is_some());
    let files = StageFiles {
        dotenv: vec![
            ("MLFLOW_RUN_ID", &started.info.run_id),
            ("MLFLOW_EXPERIMENT_ID", &started.experiment_id),
        ],
        annotations: (
            "mlflow",
            vec![Link {
                label: format!("MLflow run {}", started.info.run_id),
                url: started.run_url.clone(),
            }],
        ),
        ..StageFiles::default()
    };
    if let Err(e) = artifacts::write_stage(&ctx.report_dir, Stage::Train, &report, &files) {
        end.errors.push(e.into());
    }
    Error::all(end.errors)
}

/// The model's `train_timeout`, or the one in `[defaults]`.
fn config_timeout(ctx: &Context) -> Option<String> {
    let (project, model) = (ctx.project.as_ref()?, ctx.model.as_ref()?);
    let config = &project.config;
    config
        .model
        .get(&model.name)
        .and_then(|m| m.train_timeout.clone())
        .or_else(|| config.defaults.as_ref()?.train_timeout.clone())
}

/// `train.json`.
fn summary(
    client: &Client,
    settings: &Settings,
    started: &Started,
    end: &Finished,
    gitlab_model: bool,
) -> TrainReport {
    TrainReport {
        status: match end.status {
            RunStatus::Finished => "passed",
            RunStatus::Failed => "failed",
            RunStatus::Killed => "killed",
        },
        run_id: started.info.run_id.clone(),
        run_status: if end.recorded {
            end.status.as_str()
        } else {
            "RUNNING"
        },
        experiment_id: started.experiment_id.clone(),
        experiment_name: settings.experiment.clone(),
        run_url: started.run_url.clone(),
        tracking_uri: client.connection().display_uri(),
        flavour: client.flavour().as_str(),
        script: settings.script.clone(),
        args: settings.args.clone(),
        framework: settings.framework.map(Framework::as_str),
        exit_code: end.exit_code,
        duration_seconds: end.duration_seconds,
        dvc: settings.dvc.as_ref().map(|_| DvcSummary {
            pulled: started.pulled.clone(),
            pushed: end.pushed.clone(),
        }),
        model_files: gitlab_model.then(|| end.model_files.clone()),
        exit: end.errors.first().map_or(Exit::Success, Error::exit).code(),
    }
}

/// Pulls the DVC data, then creates the experiment and the run.
fn setup(client: &Client, ctx: &Context, settings: &Settings) -> Result<Started, Error> {
    let _setup = Section::start("mlops_train_setup", "Setup: data and MLflow run", false);
    let pulled = match &settings.dvc {
        Some(cfg) => dvc::pull(cfg)?,
        None => Vec::new(),
    };
    log::info(&format!(
        "MLflow: {} ({})",
        client.connection().display_uri(),
        client.flavour().as_str()
    ));
    let experiment = client.get_or_create_experiment(&settings.experiment)?;
    let run_name = match (&ctx.ci.pipeline_id, &ctx.ci.job_id) {
        (Some(p), Some(j)) => Some(format!("pipeline-{p}-job-{j}")),
        _ => None,
    };
    let tags = script::ci_tags(
        &ctx.ci,
        ctx.model.as_ref().map(|m| m.name.as_str()),
        &settings.script,
    );
    let info = client.create_run(&experiment.experiment_id, run_name.as_deref(), &tags)?;
    let run_url = mlf::run_url(client, &ctx.ci, &experiment.experiment_id, &info.run_id);
    log::info(&format!(
        "experiment `{}` ({}), run {}",
        settings.experiment, experiment.experiment_id, info.run_id
    ));
    log::info(&format!("run: {run_url}"));
    Ok(Started {
        experiment_id: experiment.experiment_id,
        info,
        run_url,
        pulled,
    })
}

/// Decides the run's status from the script's outcome and the storing of its outputs, and
/// sets it. The run is FINISHED only once its outputs are stored: the model files (GitLab)
/// and the DVC push. A failure there fails the run; a signal meanwhile kills it.
fn teardown(
    client: &Client,
    settings: &Settings,
    started: &Started,
    outcome: Result<process::Outcome, TrainError>,
    model_dir: Option<&Scratch>,
) -> Finished {
    let (exit_code, duration_seconds) = match &outcome {
        Ok(o) => (
            match o.ended {
                Ended::Exited(c) => Some(c),
                _ => None,
            },
            Some((o.duration.as_secs_f64() * 1000.0).round() / 1000.0),
        ),
        Err(_) => (None, None),
    };
    let (mut status, first) = match outcome {
        Ok(o) => match o.ended {
            Ended::Exited(0) => (RunStatus::Finished, None),
            Ended::Exited(_) | Ended::Signalled(_) => {
                (RunStatus::Failed, Some(TrainError::ScriptFailed(o.ended)))
            }
            Ended::Interrupted(s) => (RunStatus::Killed, Some(TrainError::Killed(s))),
            Ended::TimedOut => (RunStatus::Killed, Some(TrainError::TimedOut)),
        },
        Err(e) => (RunStatus::Failed, Some(e)),
    };
    let mut errors: Vec<Error> = first.into_iter().map(Error::from).collect();
    let mut model_files = Vec::new();
    if let (RunStatus::Finished, Some(dir)) = (status, model_dir) {
        match upload_model(client, &started.info, dir.path()) {
            Ok(files) => model_files = files,
            Err(e) => {
                status = RunStatus::Failed;
                errors.push(e);
            }
        }
    }
    let mut pushed = Vec::new();
    if status == RunStatus::Finished {
        if let Some(cfg) = settings.dvc.as_ref().filter(|d| d.push) {
            match dvc::push(cfg) {
                Ok(p) => pushed = p,
                Err(e) => {
                    status = RunStatus::Failed;
                    errors.push(e.into());
                }
            }
        }
    }
    if let Some(sig) = process::received_signal() {
        if status != RunStatus::Killed {
            status = RunStatus::Killed;
            errors.insert(0, TrainError::Killed(sig).into());
        }
    }
    let run_id = &started.info.run_id;
    let recorded = match client.finish_run(run_id, status) {
        Ok(()) => {
            log::info(&format!("run {run_id} is {}", status.as_str()));
            true
        }
        Err(e) => {
            log::warn(&format!(
                "run {run_id} could not be marked {}; the server still shows it RUNNING",
                status.as_str()
            ));
            // An unavailable server is why the rest failed too (the script's MLflow calls):
            // exit 75 so the job is retried, unless a signal stopped the stage.
            let stopped = process::received_signal().is_some();
            if e.is_unavailable() && !stopped {
                errors.insert(0, e.into());
            } else {
                errors.push(e.into());
            }
            false
        }
    };
    Finished {
        status,
        recorded,
        exit_code,
        duration_seconds,
        model_files,
        pushed,
        errors,
    }
}

/// Uploads what the script saved into `dir` to the run's package on GitLab and lists it in
/// the run tag [`packages::FILES_TAG`]; returns the files.
fn upload_model(client: &Client, info: &RunInfo, dir: &Path) -> Result<Vec<String>, Error> {
    let files = packages::model_files(dir).map_err(TrainError::ModelLayout)?;
    if files.is_empty() {
        log::warn(
            "no model was saved: GitLab receives no model files (autolog saves the model of a supported framework; a script can call mlflow.<flavor>.log_model() or write files into $MLOPS_MODEL_DIR)",
        );
        return Ok(files);
    }
    let tag = packages::files_tag(&files).map_err(TrainError::FilesTag)?;
    let (api, owner) = Packages::of_run(client, info)?;
    api.upload(&owner, dir, &files)?;
    client.set_run_tag(&info.run_id, packages::FILES_TAG, &tag)?;
    log::info(&format!(
        "uploaded {} model file(s) to the run ({owner}): {}",
        files.len(),
        files.join(", ")
    ));
    Ok(files)
}
