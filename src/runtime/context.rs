//! What every stage needs before it starts: the model's settings (from `mlops.toml` with
//! `--model`, or none when standalone), the CI environment, the report directory, and the
//! two guards against drift between the YAML and the binary: the version pin and the
//! structural fingerprint.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::compile::{read_source, resolve_source};
use crate::cli::report;
use crate::compile::{CompileOptions, LowerOptions, generate};
use crate::config::suggest::did_you_mean;
use crate::config::{Model, Project, display_path as display};
use crate::exit::Exit;

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
    /// The report directory (not yet created).
    pub report_dir: PathBuf,
    /// The CI environment.
    pub ci: CiEnv,
}

impl Context {
    /// Loads the config when `--model` is given, and checks the pin and the fingerprint.
    /// Errors are printed; the returned [`Exit`] is the code to stop with.
    pub fn load(common: &CommonArgs) -> Result<Self, Exit> {
        check_version_pin()?;
        let ci = CiEnv::from_env();
        let Some(name) = &common.model else {
            return Ok(Self {
                project: None,
                model: None,
                report_dir: common
                    .report_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("mlops-reports")),
                ci,
            });
        };
        let source = read_source(&common.config)?;
        let project = resolve_source(&source)?;
        check_fingerprint(&project, &common.config)?;
        let Some(model) = project.model(name).cloned() else {
            let names: Vec<&str> = project.models.iter().map(|m| m.name.as_str()).collect();
            let hint = match did_you_mean(name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("models in `{}`: {}", source.name, names.join(", ")),
            };
            report::error(
                &format!("no model `{name}` in `{}`", source.name),
                Some(&hint),
            );
            return Err(Exit::Error);
        };
        let report_dir = common
            .report_dir
            .clone()
            .unwrap_or_else(|| Path::new(&project.report_dir).join(&model.name));
        Ok(Self {
            project: Some(project),
            model: Some(model),
            report_dir,
            ci,
        })
    }
}

/// Generated jobs set `MLOPS_VERSION`; a different binary must not run them.
fn check_version_pin() -> Result<(), Exit> {
    match var("MLOPS_VERSION") {
        Some(pin) if pin != crate::VERSION => {
            report::error(
                &format!(
                    "this pipeline pins mlops {pin}, but this is mlops {}",
                    crate::VERSION
                ),
                Some(&format!(
                    "install mlops {pin} in the job image, or set `mlops-version = \"{}\"` and run `mlops compile`",
                    crate::VERSION
                )),
            );
            Err(Exit::Error)
        }
        _ => Ok(()),
    }
}

/// Generated jobs set `MLOPS_FINGERPRINT`; a config whose structure changed since the YAML
/// was generated must be recompiled first.
fn check_fingerprint(project: &Project, config: &Path) -> Result<(), Exit> {
    let Some(expected) = var("MLOPS_FINGERPRINT") else {
        return Ok(());
    };
    let opts = CompileOptions {
        lower: LowerOptions {
            config_path: display(config),
        },
    };
    let compiled = generate(project, &opts).map_err(|e| {
        eprint!("{}", report::render(&e));
        Exit::Error
    })?;
    if compiled.fingerprint == expected {
        Ok(())
    } else {
        report::error(
            &format!(
                "`{}` changed the pipeline's structure since `.gitlab-ci.yml` was generated",
                display(config)
            ),
            Some("run `mlops compile` and commit the updated `.gitlab-ci.yml`"),
        );
        Err(Exit::Error)
    }
}
