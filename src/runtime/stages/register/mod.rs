//! `mlops run register`: the registered model, one version per run (a retried job finds the
//! version it made), version tags, and the alias: real on MLflow, emulated on GitLab
//! ([`crate::runtime::mlflow::alias`]). Writes `register.env`, `register.json` and
//! `register.annotations.json`.

mod settings;
mod version;

use clap::Args;
use indexmap::IndexMap;
use serde::Serialize;

use self::settings::Settings;
use crate::artifacts::annotations::Link;
use crate::artifacts::{self, StageFiles};
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::error::Error;
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::alias::VersionRef;
use crate::runtime::mlflow::packages;
use crate::runtime::mlflow::types::{Run, Tag};
use crate::runtime::mlflow::{self as mlf, Client, Flavour};
use crate::stage::Stage;

/// Arguments of `mlops run register`.
#[derive(Debug, Clone, Args)]
pub struct RegisterArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
    /// The run to register. Default: `MLFLOW_RUN_ID`, or the report directory's `train.env`.
    #[arg(long, env = "MLFLOW_RUN_ID")]
    pub run_id: Option<String>,
    /// The registered model name. Default: the model name.
    #[arg(long, env = "MLOPS_REGISTERED_MODEL")]
    pub name: Option<String>,
    /// The alias to set (instead of `alias`, default `staging`).
    #[arg(long, env = "MLOPS_ALIAS")]
    pub alias: Option<String>,
    /// Metrics to record as version tags (default: `metric_name`).
    #[arg(long = "metric", env = "MLOPS_METRIC_NAME", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// The tracking URI (instead of `MLFLOW_TRACKING_URI` / `[mlflow] tracking_uri`).
    #[arg(long)]
    pub tracking_uri: Option<String>,
}

/// Why registration could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// Neither `--name` nor a model.
    #[error("no registered model name")]
    NoName,
    /// The run is not on the server.
    #[error("run `{0}` does not exist")]
    RunNotFound(String),
    /// The run stored no model: a version would point at nothing.
    #[error("run `{run_id}` has no model: {missing}; no version was registered")]
    NoModel {
        /// The run.
        run_id: String,
        /// What was looked for.
        missing: &'static str,
    },
}

impl RegisterError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            RegisterError::NoName => "pass --name NAME, or --model NAME",
            RegisterError::RunNotFound(_) => "check MLFLOW_RUN_ID and the tracking URI",
            RegisterError::NoModel { .. } => {
                "the training script must log a model (autolog of a supported framework, mlflow.<flavor>.log_model(), or files in $MLOPS_MODEL_DIR on GitLab); see the train job's log"
            }
        }
    }

    /// 1 when the run has no model (a check that failed), else 2.
    pub fn exit(&self) -> crate::exit::Exit {
        match self {
            RegisterError::NoModel { .. } => crate::exit::Exit::Failure,
            _ => crate::exit::Exit::Error,
        }
    }
}

/// `register.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterReport {
    /// Always `registered`.
    pub status: &'static str,
    /// Whether this job created the version (a retry finds it).
    pub created: bool,
    /// The registered model.
    pub model: String,
    /// The version (SemVer on GitLab).
    pub version: String,
    /// The version's id (GitLab's integer id).
    pub version_id: String,
    /// The alias.
    pub alias: String,
    /// Whether the alias is emulated with tags (GitLab).
    pub alias_emulated: bool,
    /// The registered run.
    pub run_id: String,
    /// The model source URI.
    pub source: String,
    /// The version tags.
    pub tags: IndexMap<String, String>,
    /// A browser link to the version.
    pub url: String,
    /// `mlflow` or `gitlab`.
    pub flavour: &'static str,
    /// The model files copied to the version (GitLab).
    pub model_files: Option<Vec<String>>,
}

/// Runs the stage: settings, the version and its alias, the model files, then the reports.
pub fn register(args: &RegisterArgs, ctx: &Context) -> Result<(), Error> {
    let settings = Settings::resolve(args, ctx.model.as_ref())?;
    let run_id = ctx.training_run(args.run_id.as_deref(), Stage::Register)?;
    let client = mlf::connect(ctx, args.tracking_uri.as_deref())?;
    let section = Section::start(
        "mlops_register",
        &format!("Register: {}", settings.name),
        false,
    );
    let run = match client.get_run(&run_id) {
        Ok(r) => r,
        Err(e) if e.is_not_found() => return Err(RegisterError::RunNotFound(run_id).into()),
        Err(e) => return Err(e.into()),
    };
    check_model(&client, &run, &run_id)?;
    client.ensure_registered_model(&settings.name, "Registered by mlops")?;
    let tags = version::version_tags(&ctx.ci, &run, &settings.metrics);
    let (version, created) = register_version(&client, &settings, &run, &run_id, &tags)?;
    let gitlab = client.flavour() == Flavour::Gitlab;
    let model_files = if gitlab {
        Some(copy_model_files(&client, &run, &run_id, &version)?)
    } else {
        None
    };
    drop(section);

    let url = mlf::version_url(&client, &ctx.ci, &settings.name, &version.id);
    let report = RegisterReport {
        status: "registered",
        created,
        model: settings.name.clone(),
        version: version.version.clone(),
        version_id: version.id.clone(),
        alias: settings.alias.clone(),
        alias_emulated: gitlab,
        run_id: run_id.clone(),
        source: version::source(&run).uri(),
        tags: tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect(),
        url: url.clone(),
        flavour: client.flavour().as_str(),
        model_files,
    };
    let mut dotenv = vec![
        ("MODEL_VERSION", version.version.as_str()),
        ("MODEL_NAME", settings.name.as_str()),
        ("MODEL_ALIAS", settings.alias.as_str()),
    ];
    if gitlab {
        dotenv.push(("MODEL_VERSION_ID", version.id.as_str()));
    }
    let files = StageFiles {
        dotenv,
        annotations: (
            "model",
            vec![Link {
                label: format!("{} version {}", settings.name, version.version),
                url,
            }],
        ),
        ..StageFiles::default()
    };
    artifacts::write_stage(&ctx.report_dir, Stage::Register, &report, &files)?;
    Ok(())
}

/// Finds or creates the run's version, then sets its tags and alias (on GitLab both were set
/// with the version).
/// Refuses a run that stored no model: on MLflow a logged model among its outputs or a
/// `model` artifact directory; on GitLab the files train uploaded (run tag
/// [`packages::FILES_TAG`]).
fn check_model(client: &Client, run: &Run, run_id: &str) -> Result<(), Error> {
    let (present, missing) = match client.flavour() {
        Flavour::Gitlab => (
            mlf::types::tag(&run.data.tags, packages::FILES_TAG)
                .and_then(packages::parse_files_tag)
                .is_some_and(|f| !f.is_empty()),
            "no model files were uploaded (run tag `mlops.model_files`)",
        ),
        Flavour::Mlflow => (
            run.outputs
                .as_ref()
                .is_some_and(|o| !o.model_outputs.is_empty())
                || client.has_artifacts(run_id, "model")?,
            "no logged model in its outputs and no `model` artifact",
        ),
    };
    if present {
        Ok(())
    } else {
        Err(RegisterError::NoModel {
            run_id: run_id.to_owned(),
            missing,
        }
        .into())
    }
}

fn register_version(
    client: &Client,
    settings: &Settings,
    run: &Run,
    run_id: &str,
    tags: &[Tag],
) -> Result<(VersionRef, bool), Error> {
    let name = &settings.name;
    let (version, created) = version::find_or_create(client, name, &settings.alias, run, tags)?;
    if created {
        log::info(&format!(
            "created version {} of `{name}` from run {run_id}",
            version.version
        ));
    } else {
        log::info(&format!(
            "run {run_id} already has version {} of `{name}`; nothing to create",
            version.version
        ));
    }
    if client.flavour() == Flavour::Mlflow {
        // Tags again, for a version an earlier attempt created before it could set them.
        for t in tags {
            client.set_model_version_tag(name, &version.id, &t.key, &t.value)?;
        }
        client.set_alias(name, &settings.alias, &version.id)?;
    }
    log::info(&format!(
        "alias `{}` → version {}",
        settings.alias, version.version
    ));
    Ok((version, created))
}

/// GitLab keeps a version's files in its own package: copies the run's model there.
fn copy_model_files(
    client: &Client,
    run: &Run,
    run_id: &str,
    version: &VersionRef,
) -> Result<Vec<String>, Error> {
    let files = packages::copy_run_files_to_version(client, run, &version.id)?;
    if files.is_empty() {
        log::warn(&format!(
            "run {run_id} has no model files (run tag `{}`): version {} has none either",
            packages::FILES_TAG,
            version.version
        ));
    } else {
        log::info(&format!(
            "copied {} model file(s) from the run to version {}: {}",
            files.len(),
            version.version,
            files.join(", ")
        ));
    }
    Ok(files)
}
