//! `mlops run register`: the registered model, one version per run (a retried job finds the
//! version it made), version tags, and the alias: real on MLflow, emulated on GitLab
//! ([`crate::runtime::mlflow::alias`]). Writes `register.env`, `register.json` and
//! `register.annotations.json`.

use clap::Args;
use serde_json::json;

use crate::cli::report;
use crate::exit::Exit;
use crate::artifacts::{annotations, dotenv, write_file, write_json};
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::alias::{self, GITLAB_VERSION_TAG, RUN_TAG, VersionRef};
use crate::runtime::mlflow::packages;
use crate::runtime::mlflow::registry::Source;
use crate::runtime::mlflow::types::{Run, Tag};
use crate::runtime::mlflow::{self as mlf, Client, Flavour, MlflowError};

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

/// How many times register re-checks and re-creates after a lost `model-versions/create`.
const CREATE_ATTEMPTS: u32 = 4;

fn version_tags(ctx: &Context, run: &Run, metrics: &[String]) -> Vec<Tag> {
    let mut tags = vec![
        Tag::new(RUN_TAG, run.info.id()),
        Tag::new("mlops.version", crate::VERSION),
    ];
    let ci = &ctx.ci;
    for (k, v) in [
        ("mlops.commit_sha", &ci.commit_sha),
        ("mlops.pipeline_id", &ci.pipeline_id),
        ("mlops.job_url", &ci.job_url),
    ] {
        if let Some(v) = v {
            tags.push(Tag::new(k, v.clone()));
        }
    }
    for m in metrics {
        if let Some(v) = run.metric(m) {
            tags.push(Tag::new(format!("mlops.metric.{m}"), format!("{v}")));
        }
    }
    tags
}

/// What exists before an attempt: the version this run already has, if a previous attempt
/// made one, and on GitLab the latest version (whose SemVer and alias table the new version
/// continues).
fn existing(
    client: &Client,
    name: &str,
    run_id: &str,
) -> Result<(Option<VersionRef>, Option<VersionRef>), MlflowError> {
    let flavour = client.flavour();
    match flavour {
        Flavour::Mlflow => Ok((
            client
                .versions_of_run(name, run_id)?
                .iter()
                .max_by_key(|v| v.version.parse::<u64>().unwrap_or(0))
                .map(|v| VersionRef::from_version(v, flavour)),
            None,
        )),
        // No search on GitLab, and a version's `run_id` is its own candidate: the run is
        // known by the `mlops.run_id` tag. Register jobs are serialized per model
        // (resource_group), so a retry's own version is the latest one.
        Flavour::Gitlab => {
            let latest = client
                .latest_version(name)?
                .map(|v| VersionRef::from_version(&v, flavour));
            let ours = latest
                .clone()
                .filter(|v| v.run_id.as_deref() == Some(run_id));
            Ok((ours, latest))
        }
    }
}

fn source(run: &Run) -> Source {
    let run_id = run.info.id().to_owned();
    // MLflow 3 autolog stores the model as a logged model, not under the run's artifacts.
    match run.outputs.as_ref().and_then(|o| o.model_outputs.last()) {
        Some(m) => Source::LoggedModel {
            run_id,
            model_id: m.model_id.clone(),
        },
        None => Source::Run(run_id),
    }
}

/// Finds or creates the run's version; returns it and whether it was created now.
fn register(
    client: &Client,
    name: &str,
    alias_name: &str,
    run: &Run,
    tags: &[Tag],
) -> Result<(VersionRef, bool), MlflowError> {
    let run_id = run.info.id();
    let flavour = client.flavour();
    let mut last_err = None;
    for attempt in 1..=CREATE_ATTEMPTS {
        let (ours, latest) = existing(client, name, run_id)?;
        if let Some(v) = ours {
            return Ok((v, attempt > 1));
        }
        let mut tags = tags.to_vec();
        let source = match flavour {
            Flavour::Mlflow => Some(source(run)),
            Flavour::Gitlab => {
                let semver = alias::next_semver(latest.as_ref().map(|l| l.version.as_str()));
                tags.push(Tag::new(GITLAB_VERSION_TAG, semver.clone()));
                tags.extend(alias::table_for_new_version(
                    latest.as_ref(),
                    alias_name,
                    &semver,
                ));
                None
            }
        };
        let description = format!("Registered by mlops from run {run_id}");
        match client.create_model_version(name, source.as_ref(), &tags, &description) {
            Ok(v) => return Ok((VersionRef::from_version(&v, flavour), true)),
            Err(e @ MlflowError::Unavailable { .. }) => {
                log::warn(&format!(
                    "{e}; checking whether the version was created before trying again"
                ));
                std::thread::sleep(
                    client
                        .connection()
                        .retry
                        .delay(attempt + 1, &mut mlf::retry::Jitter::from_time_and_pid()),
                );
                last_err = Some(e);
            }
            // GitLab: the SemVer was taken meanwhile (`Version has already been taken`); look
            // again, which also finds a version a lost answer created.
            Err(e)
                if flavour == Flavour::Gitlab
                    && e.error_code() == Some("INVALID_PARAMETER_VALUE")
                    && e.to_string().contains("already been taken") =>
            {
                log::warn(&format!("{e}; looking at the latest version again"));
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| MlflowError::Unavailable {
        uri: client.connection().display_uri(),
        attempts: CREATE_ATTEMPTS,
        detail: "model-versions/create".into(),
    }))
}

/// Runs the stage.
pub fn run(args: &RegisterArgs) -> Exit {
    let ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let model = ctx.model.as_ref();
    let Some(name) = args.name.clone().or_else(|| model.map(|m| m.name.clone())) else {
        report::error(
            "no registered model name",
            Some("pass --name NAME, or --model NAME"),
        );
        return Exit::Error;
    };
    let alias_name = args
        .alias
        .clone()
        .or_else(|| model.map(|m| m.alias.clone()))
        .unwrap_or_else(|| "staging".into());
    let metrics = if args.metrics.is_empty() {
        model
            .map(|m| vec![m.metric_name.clone()])
            .unwrap_or_default()
    } else {
        args.metrics.clone()
    };
    let run_id = match super::evaluate::run_id(args.run_id.as_deref(), &ctx) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let client = match mlf::connect(&ctx, args.tracking_uri.as_deref()) {
        Ok(c) => c,
        Err(e) => return e,
    };

    let section = Section::start("mlops_register", &format!("Register: {name}"), false);
    let run = match client.get_run(&run_id) {
        Ok(r) => r,
        Err(e) if e.is_not_found() => {
            report::error(
                &format!("run `{run_id}` does not exist"),
                Some("check MLFLOW_RUN_ID and the tracking URI"),
            );
            return Exit::Error;
        }
        Err(e) => return e.report(),
    };
    if let Err(e) = client.ensure_registered_model(&name, "Registered by mlops") {
        return e.report();
    }
    let tags = version_tags(&ctx, &run, &metrics);
    let (version, created) = match register(&client, &name, &alias_name, &run, &tags) {
        Ok(v) => v,
        Err(e) => return e.report(),
    };
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
        for t in &tags {
            if let Err(e) = client.set_model_version_tag(&name, &version.id, &t.key, &t.value) {
                return e.report();
            }
        }
        if let Err(e) = client.set_alias(&name, &alias_name, &version.id) {
            return e.report();
        }
    }
    log::info(&format!(
        "alias `{alias_name}` → version {}",
        version.version
    ));
    let mut model_files = Vec::new();
    if client.flavour() == Flavour::Gitlab {
        // GitLab keeps a version's files in its own package: copy the run's model there.
        match packages::copy_run_files_to_version(&client, &run, &version.id) {
            Ok(files) if files.is_empty() => log::warn(&format!(
                "run {run_id} has no model files (run tag `{}`): version {} has none either",
                packages::FILES_TAG,
                version.version
            )),
            Ok(files) => {
                log::info(&format!(
                    "copied {} model file(s) from the run to version {}: {}",
                    files.len(),
                    version.version,
                    files.join(", ")
                ));
                model_files = files;
            }
            Err(e) => return e.report(),
        }
    }
    drop(section);

    let url = mlf::version_url(&client, &ctx.ci, &name, &version.id);
    let dir = &ctx.report_dir;
    let summary = json!({
        "status": "registered",
        "created": created,
        "model": name,
        "version": version.version,
        "version_id": version.id,
        "alias": alias_name,
        "alias_emulated": client.flavour() == Flavour::Gitlab,
        "run_id": run_id,
        "source": source(&run).uri(),
        "tags": tags.iter().map(|t| (t.key.clone(), json!(t.value))).collect::<serde_json::Map<_, _>>(),
        "url": url,
        "flavour": client.flavour().as_str(),
        "model_files": (client.flavour() == Flavour::Gitlab).then_some(&model_files),
    });
    let mut env = vec![
        ("MODEL_VERSION", version.version.as_str()),
        ("MODEL_NAME", name.as_str()),
        ("MODEL_ALIAS", alias_name.as_str()),
    ];
    if client.flavour() == Flavour::Gitlab {
        env.push(("MODEL_VERSION_ID", version.id.as_str()));
    }
    let links = [annotations::Link {
        label: format!("{name} version {}", version.version),
        url,
    }];
    let written = dotenv::render(&env)
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|t| write_file(&dir.join("register.env"), &t))
        .and_then(|()| write_json(&dir.join("register.json"), &summary))
        .and_then(|()| {
            write_file(
                &dir.join("register.annotations.json"),
                &annotations::render("model", &links),
            )
        });
    if let Err(e) = written {
        report::error(
            &format!("could not write the reports to `{}`: {e}", dir.display()),
            None,
        );
        return Exit::Error;
    }
    Exit::Success
}
