//! `mlops run promote`: points the production alias (`[compare] alias`, default
//! `production`) at the version this pipeline registered (`register.env`), or at `--version`.
//! A real alias on MLflow; on GitLab a promotion record on the latest version's own run
//! ([`crate::runtime::mlflow::alias`]). The previous holder of the alias is recorded, so a
//! re-run of an older pipeline's promote job is a rollback. Promoting the version that already
//! holds the alias is success. Writes `promote.json`, `promote.env` and
//! `promote.annotations.json`.

mod settings;

use clap::Args;
use serde::Serialize;

use self::settings::Settings;
use crate::artifacts::annotations::Link;
use crate::artifacts::{self, StageFiles};
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::error::Error;
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::alias::{self, VersionRef};
use crate::runtime::mlflow::{self as mlf, Client, Flavour};
use crate::stage::Stage;

/// Arguments of `mlops run promote`.
#[derive(Debug, Clone, Args)]
pub struct PromoteArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
    /// The version to promote (MLflow's number, or the SemVer on GitLab). Default: the
    /// version in the report directory's `register.env`, which this pipeline's register job
    /// wrote.
    #[arg(long, env = "MLOPS_PROMOTE_VERSION")]
    pub version: Option<String>,
    /// The registered model name. Default: the model name.
    #[arg(long, env = "MLOPS_REGISTERED_MODEL")]
    pub name: Option<String>,
    /// The alias to move (instead of `[compare] alias`, default `production`).
    #[arg(long, env = "MLOPS_PRODUCTION_ALIAS")]
    pub alias: Option<String>,
    /// The tracking URI (instead of `MLFLOW_TRACKING_URI` / `[mlflow] tracking_uri`).
    #[arg(long)]
    pub tracking_uri: Option<String>,
}

/// Why promotion could not start or finish; production is unchanged in every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromoteError {
    /// Neither `--name` nor a model.
    #[error("no registered model name")]
    NoName,
    /// This pipeline registered nothing.
    #[error(
        "no version was registered in this pipeline: `{path}` is missing or has no MODEL_VERSION"
    )]
    NoRegisteredVersion {
        /// The dotenv file looked at.
        path: String,
    },
    /// `register.env` names another registered model.
    #[error("`{path}` registered a version of `{registered}`, not of `{name}`")]
    OtherModel {
        /// The dotenv file.
        path: String,
        /// The model it names.
        registered: String,
        /// The model being promoted.
        name: String,
    },
    /// The version is not on the server.
    #[error("version `{version}` of `{model}` does not exist")]
    VersionNotFound {
        /// The registered model.
        model: String,
        /// The version asked for.
        version: String,
    },
    /// GitLab: the latest version has no run to record the promotion on.
    #[error(
        "cannot record the promotion: the latest version {latest} of `{model}` has no run of its own"
    )]
    NoRecordRun {
        /// The registered model.
        model: String,
        /// Its latest version.
        latest: String,
    },
    /// The alias does not point at the version after it was set.
    #[error("alias `{alias}` of `{model}` points at {found} after promoting version {version}")]
    NotMoved {
        /// The registered model.
        model: String,
        /// The alias.
        alias: String,
        /// The version promoted.
        version: String,
        /// What the alias resolves to now.
        found: String,
    },
}

impl PromoteError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            PromoteError::NoName => "pass --name NAME, or --model NAME",
            PromoteError::NoRegisteredVersion { .. } => {
                "promote runs after register in the same pipeline (`needs` register); to promote a version by hand, pass --version V"
            }
            PromoteError::OtherModel { .. } => {
                "promote the model register registered (MLOPS_REGISTERED_MODEL must be the same in both jobs), or pass --version V"
            }
            PromoteError::VersionNotFound { .. } => {
                "on MLflow a version is a number (`3`), on GitLab its SemVer (`3.0.0`); see the model registry"
            }
            PromoteError::NoRecordRun { .. } => {
                "the latest version was not created by `mlops run register`; register a version with mlops, then promote"
            }
            PromoteError::NotMoved { .. } => {
                "another job moved the alias meanwhile; run the promote job again"
            }
        }
    }

    /// 2 (bad input) for all but a lost race, which is a temporary failure (75).
    pub fn exit(&self) -> crate::exit::Exit {
        match self {
            PromoteError::NotMoved { .. } => crate::exit::Exit::TempFail,
            _ => crate::exit::Exit::Error,
        }
    }
}

/// A version as `promote.json` records it.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// The version users see (MLflow's number, GitLab's SemVer).
    pub version: String,
    /// The API's version id.
    pub version_id: String,
    /// The training run it came from, if known.
    pub run_id: Option<String>,
}

impl From<&VersionRef> for Holder {
    fn from(v: &VersionRef) -> Self {
        Holder {
            version: v.version.clone(),
            version_id: v.id.clone(),
            run_id: v.run_id.clone(),
        }
    }
}

/// `promote.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PromoteReport {
    /// `promoted`, or `unchanged` when the version already held the alias.
    pub status: &'static str,
    /// The registered model.
    pub model: String,
    /// The alias moved.
    pub alias: String,
    /// The version that holds the alias now.
    pub version: Holder,
    /// The version that held it before (the previous champion), or `null`.
    pub previous: Option<Holder>,
    /// Where the version came from: `register.env` or `--version`.
    pub source: &'static str,
    /// Whether the alias is emulated (GitLab).
    pub alias_emulated: bool,
    /// A browser link to the version.
    pub url: String,
    /// `mlflow` or `gitlab`.
    pub flavour: &'static str,
}

/// Runs the stage: settings, the version, the previous holder, the move, a check, the reports.
pub fn promote(args: &PromoteArgs, ctx: &Context) -> Result<(), Error> {
    let settings = Settings::resolve(args, ctx.model.as_ref(), &ctx.report_dir)?;
    let client = mlf::connect(ctx, args.tracking_uri.as_deref())?;
    let (name, alias_name) = (&settings.name, &settings.alias);
    let section = Section::start(
        "mlops_promote",
        &format!("Promote: {name}@{alias_name} → {}", settings.version),
        false,
    );
    let flavour = client.flavour();
    let not_found = || PromoteError::VersionNotFound {
        model: name.clone(),
        version: settings.version.clone(),
    };
    // MLflow refuses a version that is not a number (`INVALID_PARAMETER_VALUE`), GitLab
    // answers 404 for a SemVer it does not have: both are a version that does not exist.
    let target = match client.get_model_version(name, &settings.version) {
        Ok(Some(v)) => VersionRef::from_version(&v, flavour),
        Ok(None) => return Err(not_found().into()),
        Err(e) if e.error_code() == Some("INVALID_PARAMETER_VALUE") => {
            return Err(not_found().into());
        }
        Err(e) => return Err(e.into()),
    };
    let previous = alias::resolve(&client, name, alias_name)?;
    let unchanged = previous.as_ref().is_some_and(|p| p.id == target.id);
    if unchanged {
        log::info(&format!(
            "alias `{alias_name}` already points at version {}: nothing to move",
            target.version
        ));
    } else {
        move_alias(&client, name, alias_name, &target)?;
        let now = alias::resolve(&client, name, alias_name)?;
        if now.as_ref().map(|v| &v.id) != Some(&target.id) {
            return Err(PromoteError::NotMoved {
                model: name.clone(),
                alias: alias_name.clone(),
                version: target.version.clone(),
                found: now.map_or_else(|| "nothing".to_owned(), |v| v.version),
            }
            .into());
        }
        log::info(&format!(
            "alias `{alias_name}` → version {} (was {})",
            target.version,
            previous
                .as_ref()
                .map_or_else(|| "unset".to_owned(), |p| format!("version {}", p.version))
        ));
    }
    drop(section);
    write_reports(
        ctx,
        &client,
        &settings,
        &target,
        previous.as_ref(),
        unchanged,
    )
}

/// MLflow: `registered-models/alias`. GitLab: the next promotion record on the latest
/// version's own run.
fn move_alias(
    client: &Client,
    name: &str,
    alias_name: &str,
    target: &VersionRef,
) -> Result<(), Error> {
    match client.flavour() {
        Flavour::Mlflow => client.set_alias(name, alias_name, &target.id)?,
        Flavour::Gitlab => {
            // The target exists, so the model has a latest version.
            let latest = client
                .latest_version(name)?
                .map(|v| VersionRef::from_version(&v, Flavour::Gitlab));
            let Some(run) = latest.as_ref().and_then(|l| l.candidate.clone()) else {
                return Err(PromoteError::NoRecordRun {
                    model: name.to_owned(),
                    latest: latest.map_or_else(|| "(none)".to_owned(), |l| l.version),
                }
                .into());
            };
            let records = client.get_run(&run)?.data.tags;
            let key = alias::next_promotion_key(&records, alias_name);
            client.set_run_tag(&run, &key, &target.version)?;
        }
    }
    Ok(())
}

fn write_reports(
    ctx: &Context,
    client: &Client,
    settings: &Settings,
    target: &VersionRef,
    previous: Option<&VersionRef>,
    unchanged: bool,
) -> Result<(), Error> {
    let name = &settings.name;
    let url = mlf::version_url(client, &ctx.ci, name, &target.id);
    let report = PromoteReport {
        status: if unchanged { "unchanged" } else { "promoted" },
        model: name.clone(),
        alias: settings.alias.clone(),
        version: Holder::from(target),
        previous: previous.map(Holder::from),
        source: settings.from,
        alias_emulated: client.flavour() == Flavour::Gitlab,
        url: url.clone(),
        flavour: client.flavour().as_str(),
    };
    let mut dotenv = vec![
        ("MODEL_NAME", name.as_str()),
        ("PRODUCTION_ALIAS", settings.alias.as_str()),
        ("PRODUCTION_VERSION", target.version.as_str()),
    ];
    if let Some(p) = previous {
        dotenv.push(("PREVIOUS_PRODUCTION_VERSION", p.version.as_str()));
    }
    let mut links = vec![Link {
        label: format!("{name}@{} = version {}", settings.alias, target.version),
        url,
    }];
    if let Some(p) = previous {
        links.push(Link {
            label: format!("previous {}: version {}", settings.alias, p.version),
            url: mlf::version_url(client, &ctx.ci, name, &p.id),
        });
    }
    let files = StageFiles {
        dotenv,
        annotations: ("model", links),
        ..StageFiles::default()
    };
    artifacts::write_stage(&ctx.report_dir, Stage::Promote, &report, &files)?;
    Ok(())
}
