//! Finding or creating the run's model version: one version per run, so a retried job finds
//! the version it made, including after a lost `model-versions/create`.

use crate::runtime::context::CiEnv;
use crate::runtime::log;
use crate::runtime::mlflow::alias::{self, GITLAB_VERSION_TAG, RUN_TAG, VersionRef};
use crate::runtime::mlflow::registry::Source;
use crate::runtime::mlflow::types::{Run, Tag};
use crate::runtime::mlflow::{self as mlf, Client, Flavour, MlflowError};

/// How many times register re-checks and re-creates after a lost `model-versions/create`.
const CREATE_ATTEMPTS: u32 = 4;

/// How much longer than the request timeout to look for a late version.
const LATE_MARGIN: std::time::Duration = std::time::Duration::from_secs(10);

/// The version tags: the run, this mlops, the CI context and the values of `metrics`.
pub(super) fn version_tags(ci: &CiEnv, run: &Run, metrics: &[String]) -> Vec<Tag> {
    let mut tags = vec![
        Tag::new(RUN_TAG, run.info.id()),
        Tag::new("mlops.version", crate::VERSION),
    ];
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
        // The table the new version copies includes the promotions made since the latest
        // version was registered.
        Flavour::Gitlab => {
            let latest = alias::latest_with_promotions(client, name)?;
            let ours = latest
                .clone()
                .filter(|v| v.run_id.as_deref() == Some(run_id));
            Ok((ours, latest))
        }
    }
}

pub(super) fn source(run: &Run) -> Source {
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

/// Looks for the run's version while a request that got no answer may still complete on the
/// server: for the client's request timeout plus [`LATE_MARGIN`], since a server stops
/// working on a request at its own timeout at the latest (GitLab's 60 s, MLflow's gunicorn
/// 120 s, the client's default 120 s). A signal ends the wait.
fn late_version(
    client: &Client,
    name: &str,
    run_id: &str,
) -> Result<Option<VersionRef>, MlflowError> {
    let window = client.connection().retry.timeout + LATE_MARGIN;
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(250);
    loop {
        if let (Some(v), _) = existing(client, name, run_id)? {
            return Ok(Some(v));
        }
        let left = window.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(None);
        }
        if let Some(signal) = mlf::client::sleep_unless_signalled(pause.min(left)) {
            return Err(MlflowError::Interrupted {
                endpoint: "model-versions/create".into(),
                signal,
            });
        }
        pause = (pause * 2).min(std::time::Duration::from_secs(10));
    }
}

/// After a create that followed a lost answer: says so when the run now has two versions
/// (the first request completed after the wait). On GitLab the run is known by the version
/// tag, so the two newest versions are compared.
fn report_duplicates(
    client: &Client,
    name: &str,
    run_id: &str,
    created: &VersionRef,
) -> Result<(), MlflowError> {
    let others: Vec<String> = match client.flavour() {
        Flavour::Mlflow => client
            .versions_of_run(name, run_id)?
            .into_iter()
            .map(|v| v.version)
            .filter(|v| *v != created.version)
            .collect(),
        Flavour::Gitlab => Vec::new(),
    };
    if !others.is_empty() {
        log::warn(&format!(
            "run {run_id} now has more than one version of `{name}`: {} (kept) and {}; a request whose answer was lost completed after mlops stopped waiting; delete the extra version",
            created.version,
            others.join(", ")
        ));
    }
    Ok(())
}

/// Finds or creates the run's version; returns it and whether it was created now.
pub(super) fn find_or_create(
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
            Ok(v) => {
                let v = VersionRef::from_version(&v, flavour);
                if attempt > 1 {
                    report_duplicates(client, name, run_id, &v)?;
                }
                return Ok((v, true));
            }
            Err(e @ MlflowError::Unavailable { .. }) => {
                log::warn(&format!(
                    "{e}; checking whether the version was created before trying again"
                ));
                if let Some(v) = late_version(client, name, run_id)? {
                    log::info(&format!(
                        "the unanswered request created version {}",
                        v.version
                    ));
                    return Ok((v, true));
                }
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
