//! What every stage needs before it starts: the model's settings (from `mlops.toml` with
//! `--model`, or none when standalone), the CI environment, the report directory, and the
//! two guards against drift between the YAML and the binary: the version pin and the
//! structural fingerprint. The CLI reads the config file and hands the project in.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::compile::{CompileOptions, InternalError, LowerOptions, generate};
use crate::config::suggest::did_you_mean;
use crate::config::{Model, Project};
use crate::stage::Stage;

/// Options every `mlops run` stage takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Read this model's settings from the config file (flags still override them).
    #[arg(long, env = "MLOPS_MODEL")]
    pub model: Option<String>,
    /// The config file, with `--model`.
    #[arg(short, long, default_value = "mlops.toml", env = "MLOPS_CONFIG")]
    pub config: PathBuf,
    /// Where to write reports. Default: `mlops-reports/<model>/`, or `mlops-reports/`
    /// standalone.
    #[arg(long, env = "MLOPS_REPORT_DIR")]
    pub report_dir: Option<PathBuf>,
}

/// GitLab's predefined variables the runtime uses (empty when not in CI).
#[derive(Debug, Clone, Default)]
pub struct CiEnv {
    /// `CI_COMMIT_SHA`.
    pub commit_sha: Option<String>,
    /// `CI_COMMIT_REF_NAME`.
    pub branch: Option<String>,
    /// `CI_PIPELINE_ID`.
    pub pipeline_id: Option<String>,
    /// `CI_PIPELINE_URL`.
    pub pipeline_url: Option<String>,
    /// `CI_JOB_ID`.
    pub job_id: Option<String>,
    /// `CI_JOB_URL`.
    pub job_url: Option<String>,
    /// `CI_PROJECT_ID`.
    pub project_id: Option<String>,
    /// `CI_PROJECT_URL`.
    pub project_url: Option<String>,
    /// `CI_API_V4_URL`.
    pub api_v4_url: Option<String>,
    /// `CI_SERVER_URL`.
    pub server_url: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl CiEnv {
    /// Reads the environment.
    pub fn from_env() -> Self {
        Self {
            commit_sha: var("CI_COMMIT_SHA"),
            branch: var("CI_COMMIT_REF_NAME"),
            pipeline_id: var("CI_PIPELINE_ID"),
            pipeline_url: var("CI_PIPELINE_URL"),
            job_id: var("CI_JOB_ID"),
            job_url: var("CI_JOB_URL"),
            project_id: var("CI_PROJECT_ID"),
            project_url: var("CI_PROJECT_URL"),
            api_v4_url: var("CI_API_V4_URL"),
            server_url: var("CI_SERVER_URL"),
        }
    }
}

/// A stage's starting point.
#[derive(Debug, Clone)]
pub struct Context {
    /// The resolved project, with `--model`.
    pub project: Option<Project>,
    /// The model, with `--model`.
    pub model: Option<Model>,
    /// The directory that holds the config file: paths in `mlops.toml` are relative to it.
    pub config_dir: PathBuf,
    /// The report directory (not yet created).
    pub report_dir: PathBuf,
    /// The CI environment.
    pub ci: CiEnv,
}

/// Why a stage cannot start (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// `MLOPS_VERSION` pins another release.
    #[error(
        "this pipeline pins mlops {pinned}, but this is mlops {}",
        crate::VERSION
    )]
    VersionPin {
        /// The pinned version.
        pinned: String,
    },
    /// `--model` names no model of the config.
    #[error("no model `{name}` in `{config}`")]
    NoModel {
        /// The name asked for.
        name: String,
        /// The config file.
        config: String,
        /// The closest name, if one is close.
        suggestion: Option<String>,
        /// Every model name.
        models: Vec<String>,
    },
    /// `MLOPS_FINGERPRINT` differs from the config's structure.
    #[error("`{0}` changed the pipeline's structure since `.gitlab-ci.yml` was generated")]
    StructureChanged(String),
    /// The config could not be compiled to compute its fingerprint (a bug).
    #[error(transparent)]
    Compile(#[from] InternalError),
    /// No training run is known to the stage.
    #[error("no run to {0}")]
    NoRun(Stage),
}

impl ContextError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ContextError::VersionPin { pinned } => format!(
                "install mlops {pinned} in the job image, or set `mlops-version = \"{}\"` and run `mlops compile`",
                crate::VERSION
            ),
            ContextError::NoModel {
                suggestion: Some(s),
                ..
            } => format!("did you mean `{s}`?"),
            ContextError::NoModel { config, models, .. } => {
                format!("models in `{config}`: {}", models.join(", "))
            }
            ContextError::StructureChanged(_) => {
                "run `mlops compile` and commit the updated `.gitlab-ci.yml`".to_owned()
            }
            ContextError::Compile(_) => return None,
            ContextError::NoRun(_) => "pass --run-id, set MLFLOW_RUN_ID (the train job's dotenv does), or run `mlops run train` first".to_owned(),
        })
    }
}

impl Context {
    /// The context of a stage: standalone, or with `--model` the model of `project` (the
    /// loaded config). Checks the structural fingerprint first.
    pub fn new(common: &CommonArgs, project: Option<Project>) -> Result<Self, ContextError> {
        let ci = CiEnv::from_env();
        let config_dir = common
            .config
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let (Some(name), Some(project)) = (&common.model, project) else {
            return Ok(Self {
                project: None,
                model: None,
                config_dir,
                report_dir: common
                    .report_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("mlops-reports")),
                ci,
            });
        };
        check_fingerprint(&project, &common.config)?;
        let Some(model) = project.model(name).cloned() else {
            let models: Vec<String> = project.models.iter().map(|m| m.name.clone()).collect();
            return Err(ContextError::NoModel {
                name: name.clone(),
                config: display(&common.config),
                suggestion: did_you_mean(name, models.iter().map(String::as_str))
                    .map(str::to_owned),
                models,
            });
        };
        let report_dir = common
            .report_dir
            .clone()
            .unwrap_or_else(|| Path::new(&project.report_dir).join(&model.name));
        Ok(Self {
            project: Some(project),
            model: Some(model),
            config_dir,
            report_dir,
            ci,
        })
    }

    /// The training run `stage` works on: `flag` (`--run-id` or `MLFLOW_RUN_ID`, which the
    /// train job's dotenv sets), else the last `MLFLOW_RUN_ID` in the report directory's
    /// train dotenv (a local `mlops run train` wrote it).
    pub fn training_run(&self, flag: Option<&str>, stage: Stage) -> Result<String, ContextError> {
        if let Some(r) = flag.map(str::trim).filter(|r| !r.is_empty()) {
            return Ok(r.to_owned());
        }
        let dotenv = Stage::Train.reports().dotenv.unwrap_or_default();
        std::fs::read_to_string(self.report_dir.join(dotenv))
            .ok()
            .and_then(|text| {
                text.lines()
                    .filter_map(|l| l.strip_prefix("MLFLOW_RUN_ID="))
                    .next_back()
                    .map(|v| v.trim().to_owned())
            })
            .ok_or(ContextError::NoRun(stage))
    }
}

/// Generated jobs set `MLOPS_VERSION`; a different binary must not run them.
pub fn check_version_pin() -> Result<(), ContextError> {
    match var("MLOPS_VERSION") {
        Some(pinned) if pinned != crate::VERSION => Err(ContextError::VersionPin { pinned }),
        _ => Ok(()),
    }
}

/// A path as the compiler names the config (`/` separators, no leading `./`).
fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

/// Generated jobs set `MLOPS_FINGERPRINT`; a config whose structure changed since the YAML
/// was generated must be recompiled first.
fn check_fingerprint(project: &Project, config: &Path) -> Result<(), ContextError> {
    let Some(expected) = var("MLOPS_FINGERPRINT") else {
        return Ok(());
    };
    let opts = CompileOptions {
        lower: LowerOptions {
            config_path: display(config),
        },
    };
    if generate(project, &opts)?.fingerprint == expected {
        Ok(())
    } else {
        Err(ContextError::StructureChanged(display(config)))
    }
}
