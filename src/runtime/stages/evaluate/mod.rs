//! `mlops run evaluate`: reads the run's metrics and decides the gates
//! ([`crate::runtime::gate`]); writes `evaluate.json`, `evaluate.junit.xml`, `evaluate.env`
//! and `metrics.txt`; in a merge-request pipeline, then posts the note (`publish.rs`).

mod note;
mod page;
mod publish;
mod settings;

use clap::Args;
use indexmap::IndexMap;
use serde::Serialize;

use self::settings::Settings;
use crate::artifacts::{self, StageFiles};
use crate::exit::Exit;
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::error::Error;
use crate::runtime::gate::{Decision, GateInput, GateResult, Production, Verdict};
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::{self as mlf, Client, MlflowError, alias};
use crate::stage::Stage;

/// Arguments of `mlops run evaluate`.
#[derive(Debug, Clone, Args)]
pub struct EvaluateArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
    /// The run to evaluate. Default: `MLFLOW_RUN_ID` (from train's dotenv), or the
    /// report directory's `train.env`.
    #[arg(long, env = "MLFLOW_RUN_ID")]
    pub run_id: Option<String>,
    /// The gated metric (instead of `metric_name`).
    #[arg(long, env = "MLOPS_METRIC_NAME")]
    pub metric: Option<String>,
    /// Gate 1's threshold (instead of `min_threshold`).
    #[arg(long, env = "MLOPS_MIN_THRESHOLD", allow_hyphen_values = true)]
    pub threshold: Option<f64>,
    /// A larger metric is better (the default).
    #[arg(long, conflicts_with = "lower_is_better")]
    pub higher_is_better: bool,
    /// A smaller metric is better (a loss).
    #[arg(long)]
    pub lower_is_better: bool,
    /// The registered model gate 2 compares with. Default: the model name.
    #[arg(long, env = "MLOPS_REGISTERED_MODEL")]
    pub registered_model: Option<String>,
    /// Enable gate 2 against this alias (instead of `[compare] alias`).
    #[arg(long, env = "MLOPS_COMPARE_ALIAS")]
    pub compare_alias: Option<String>,
    /// Gate 2's least absolute improvement.
    #[arg(long, env = "MLOPS_MIN_IMPROVEMENT")]
    pub min_improvement: Option<f64>,
    /// Gate 2's least relative improvement (0.01 = 1 %).
    #[arg(long, env = "MLOPS_MIN_RELATIVE_IMPROVEMENT")]
    pub min_relative_improvement: Option<f64>,
    /// Gate 2's verdict without a production model: pass or fail.
    #[arg(long, env = "MLOPS_WHEN_NO_PRODUCTION")]
    pub when_no_production: Option<String>,
    /// The tracking URI (instead of `MLFLOW_TRACKING_URI` / `[mlflow] tracking_uri`).
    #[arg(long)]
    pub tracking_uri: Option<String>,
    /// Leave the report page (`report.html`) as validate wrote it, without the gates.
    #[arg(long, env = "MLOPS_NO_HTML")]
    pub no_html: bool,
}

/// Why the gates could not be decided, or did not pass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluateError {
    /// Neither `--metric` nor a model.
    #[error("no metric to gate on")]
    NoMetric,
    /// Neither `--threshold` nor a model.
    #[error("no threshold")]
    NoThreshold,
    /// A boolean variable with another value.
    #[error("`{name}` is `{value}`")]
    NotABool {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// `--when-no-production` is neither pass nor fail.
    #[error("`--when-no-production` is `{0}`")]
    WhenNoProduction(String),
    /// Gate 2 without a registered model.
    #[error("gate 2 needs the registered model's name")]
    NoRegisteredModel,
    /// The run is not on the server.
    #[error("run `{run_id}` does not exist on {uri}")]
    RunNotFound {
        /// The run.
        run_id: String,
        /// The tracking URI, credentials masked.
        uri: String,
    },
    /// A gate failed (exit 1).
    #[error("the quality gate failed")]
    GateFailed,
    /// A gate could not be decided.
    #[error("the quality gate could not be decided")]
    GateUndecided,
}

impl EvaluateError {
    /// 1 for a failed gate, 2 otherwise.
    pub fn exit(&self) -> Exit {
        match self {
            EvaluateError::GateFailed => Exit::Failure,
            _ => Exit::Error,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            EvaluateError::NoMetric => "pass --metric NAME, or --model NAME to read `metric_name`",
            EvaluateError::NoThreshold => {
                "pass --threshold X, or --model NAME to read `min_threshold`"
            }
            EvaluateError::NotABool { .. } => "use true or false",
            EvaluateError::WhenNoProduction(_) => "use pass or fail",
            EvaluateError::NoRegisteredModel => "pass --registered-model NAME",
            EvaluateError::RunNotFound { .. } => "check MLFLOW_RUN_ID and the tracking URI",
            EvaluateError::GateFailed => "registration is skipped; see the table above",
            EvaluateError::GateUndecided => "see the messages above",
        }
        .to_owned()
    }
}

/// `evaluate.json`.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluateReport {
    /// `pass`, `fail` or `error`.
    pub status: Verdict,
    /// The evaluated run.
    pub run_id: String,
    /// The gated metric.
    pub metric: String,
    /// Its value.
    pub value: Option<f64>,
    /// Gate 1's threshold.
    pub threshold: f64,
    /// Direction.
    pub higher_is_better: bool,
    /// The production model, when gate 2 ran.
    pub production: Option<Production>,
    /// Each gate.
    pub gates: Vec<GateResult>,
    /// The run's latest metrics.
    pub metrics: IndexMap<String, f64>,
    /// The stage's exit code.
    pub exit: u8,
    /// The merge-request note ([`publish::NoteReport`]).
    pub note: Option<publish::NoteReport>,
}

/// Runs the stage: settings, the run's metrics, the decision, then the reports.
pub fn evaluate(args: &EvaluateArgs, ctx: &Context) -> Result<(), Error> {
    let settings = Settings::resolve(args, ctx.model.as_ref(), &|k| std::env::var(k).ok())?;
    let run_id = ctx.training_run(args.run_id.as_deref(), Stage::Evaluate)?;
    let client = mlf::connect(ctx, args.tracking_uri.as_deref())?;
    let (decision, metrics) = {
        let _section = Section::start("mlops_evaluate", "Evaluate: quality gates", false);
        decide(&client, &settings, &run_id)?
    };
    let passed = if decision.status == Verdict::Pass {
        "true"
    } else {
        "false"
    };
    let files = StageFiles {
        dotenv: vec![("MLOPS_GATE_PASSED", passed), ("MLFLOW_RUN_ID", &run_id)],
        junit: decision.junit_cases(),
        metrics: metrics.clone(),
        ..StageFiles::default()
    };
    let report = EvaluateReport {
        status: decision.status,
        run_id: run_id.clone(),
        metric: decision.metric.clone(),
        value: decision.value,
        threshold: decision.threshold,
        higher_is_better: decision.higher_is_better,
        production: decision.production.clone(),
        gates: decision.gates.clone(),
        metrics: metrics.into_iter().collect(),
        exit: decision.exit().code(),
        note: None,
    };
    artifacts::write_stage(&ctx.report_dir, Stage::Evaluate, &report, &files)?;
    // The page first: the note links it when it exists.
    if !args.no_html {
        page::render(ctx, &report);
    }
    publish::note(ctx, &client, report)?;
    match decision.status {
        Verdict::Pass => {
            log::info("gates passed");
            Ok(())
        }
        Verdict::Fail => Err(EvaluateError::GateFailed.into()),
        Verdict::Error => Err(EvaluateError::GateUndecided.into()),
    }
}

/// Fetches the run (and the production model for gate 2), decides, and logs the table.
fn decide(
    client: &Client,
    settings: &Settings,
    run_id: &str,
) -> Result<(Decision, Vec<(String, f64)>), Error> {
    let run = match client.get_run(run_id) {
        Ok(r) => r,
        Err(e) if e.is_not_found() => {
            return Err(EvaluateError::RunNotFound {
                run_id: run_id.to_owned(),
                uri: client.connection().display_uri(),
            }
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    let compare = match &settings.compare {
        Some(c) => Some((
            c.rule.clone(),
            production(client, &c.registered_model, &c.alias, &settings.metric)?,
        )),
        None => None,
    };
    let input = GateInput {
        metric: settings.metric.clone(),
        value: run.metric(&settings.metric),
        available: run.metric_names(),
        threshold: settings.threshold,
        higher_is_better: settings.higher_is_better,
        compare,
    };
    let decision = Decision::decide(&input);
    log::info(&log::table(&decision.table_rows()));
    for g in &decision.gates {
        log::info(&format!(
            "{} [{}]: {}",
            g.name,
            g.status.as_str(),
            g.message
        ));
    }
    Ok((decision, run.latest_metrics()))
}

/// Looks up the production model and its metric value.
fn production(
    client: &Client,
    model: &str,
    alias_name: &str,
    metric: &str,
) -> Result<Production, MlflowError> {
    let Some(v) = alias::resolve(client, model, alias_name)? else {
        return Ok(Production {
            alias: alias_name.to_owned(),
            version: None,
            run_id: None,
            value: None,
        });
    };
    let mut value = None;
    if let Some(run) = &v.run_id {
        match client.get_run(run) {
            Ok(r) => value = r.metric(metric),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    // The version's own record of the gated metric, when its run is gone or lacks it.
    if value.is_none() {
        value = mlf::types::tag(&v.tags, &format!("mlops.metric.{metric}"))
            .and_then(|s| s.parse().ok());
    }
    Ok(Production {
        alias: alias_name.to_owned(),
        version: Some(v.version),
        run_id: v.run_id,
        value,
    })
}
