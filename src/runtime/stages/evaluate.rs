//! `mlops run evaluate`: reads the run's metrics and decides the gates
//! ([`crate::runtime::gate`]); writes `evaluate.json`, `evaluate.junit.xml`, `evaluate.env`
//! and `metrics.txt`.

use clap::Args;
use serde_json::json;

use crate::cli::report;
use crate::config::model::NoProduction;
use crate::exit::Exit;
use crate::artifacts::{dotenv, junit, openmetrics, write_file, write_json};
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::gate::{CompareRule, Decision, GateInput, Production, Verdict};
use crate::runtime::log::{self, Section};
use crate::runtime::mlflow::{self as mlf, Client, MlflowError, alias};

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
}

/// `MLFLOW_RUN_ID` from `--run-id`/the environment, else from `train.env` in the report dir.
pub(crate) fn run_id(flag: Option<&str>, ctx: &Context) -> Result<String, Exit> {
    if let Some(r) = flag.map(str::trim).filter(|r| !r.is_empty()) {
        return Ok(r.to_owned());
    }
    let path = ctx.report_dir.join("train.env");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Some(v) = text
            .lines()
            .filter_map(|l| l.strip_prefix("MLFLOW_RUN_ID="))
            .next_back()
        {
            return Ok(v.trim().to_owned());
        }
    }
    report::error(
        "no run to evaluate",
        Some(
            "pass --run-id, set MLFLOW_RUN_ID (the train job's dotenv does), or run `mlops run train` first",
        ),
    );
    Err(Exit::Error)
}

fn env_bool(name: &str) -> Result<Option<bool>, Exit> {
    match std::env::var(name)
        .ok()
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => Ok(Some(true)),
        Some(v) if ["false", "0", "no"].contains(&v.as_str()) => Ok(Some(false)),
        Some(v) => {
            report::error(&format!("`{name}` is `{v}`"), Some("use true or false"));
            Err(Exit::Error)
        }
    }
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

/// Runs the stage.
pub fn run(args: &EvaluateArgs) -> Exit {
    let ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let model = ctx.model.as_ref();
    let Some(metric) = args
        .metric
        .clone()
        .or_else(|| model.map(|m| m.metric_name.clone()))
    else {
        report::error(
            "no metric to gate on",
            Some("pass --metric NAME, or --model NAME to read `metric_name`"),
        );
        return Exit::Error;
    };
    let Some(threshold) = args.threshold.or_else(|| model.map(|m| m.min_threshold)) else {
        report::error(
            "no threshold",
            Some("pass --threshold X, or --model NAME to read `min_threshold`"),
        );
        return Exit::Error;
    };
    let higher = if args.lower_is_better {
        false
    } else if args.higher_is_better {
        true
    } else {
        match env_bool("MLOPS_HIGHER_IS_BETTER") {
            Ok(Some(b)) => b,
            Ok(None) => model.is_none_or(|m| m.higher_is_better),
            Err(e) => return e,
        }
    };
    let run_id = match run_id(args.run_id.as_deref(), &ctx) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let compare_cfg = model.and_then(|m| m.compare.clone());
    let compare_alias = args.compare_alias.clone().or_else(|| {
        compare_cfg
            .as_ref()
            .map(|c| c.alias.clone().unwrap_or_else(|| "production".into()))
    });
    let when_none = match args.when_no_production.as_deref().map(str::trim) {
        Some("pass") => NoProduction::Pass,
        Some("fail") => NoProduction::Fail,
        Some(other) => {
            report::error(
                &format!("`--when-no-production` is `{other}`"),
                Some("use pass or fail"),
            );
            return Exit::Error;
        }
        None => compare_cfg
            .as_ref()
            .and_then(|c| c.when_no_production)
            .unwrap_or(NoProduction::Pass),
    };
    let registered = args
        .registered_model
        .clone()
        .or_else(|| model.map(|m| m.name.clone()));
    let client = match mlf::connect(&ctx, args.tracking_uri.as_deref()) {
        Ok(c) => c,
        Err(e) => return e,
    };

    let section = Section::start("mlops_evaluate", "Evaluate: quality gates", false);
    let run = match client.get_run(&run_id) {
        Ok(r) => r,
        Err(e) if e.is_not_found() => {
            report::error(
                &format!(
                    "run `{run_id}` does not exist on {}",
                    client.connection().display_uri()
                ),
                Some("check MLFLOW_RUN_ID and the tracking URI"),
            );
            return Exit::Error;
        }
        Err(e) => return e.report(),
    };
    let compare = match (&compare_alias, &registered) {
        (Some(a), Some(name)) => {
            let rule = CompareRule {
                min_improvement: args
                    .min_improvement
                    .or_else(|| compare_cfg.as_ref().and_then(|c| c.min_improvement))
                    .unwrap_or(0.0),
                min_relative_improvement: args
                    .min_relative_improvement
                    .or_else(|| {
                        compare_cfg
                            .as_ref()
                            .and_then(|c| c.min_relative_improvement)
                    })
                    .unwrap_or(0.0),
                when_no_production: when_none,
            };
            match production(&client, name, a, &metric) {
                Ok(p) => Some((rule, p)),
                Err(e) => return e.report(),
            }
        }
        (Some(_), None) => {
            report::error(
                "gate 2 needs the registered model's name",
                Some("pass --registered-model NAME"),
            );
            return Exit::Error;
        }
        _ => None,
    };
    let input = GateInput {
        metric: metric.clone(),
        value: run.metric(&metric),
        available: run.metric_names(),
        threshold,
        higher_is_better: higher,
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
    drop(section);

    let dir = &ctx.report_dir;
    let passed = if decision.status == Verdict::Pass {
        "true"
    } else {
        "false"
    };
    let metrics = run.latest_metrics();
    let summary = json!({
        "status": decision.status,
        "run_id": run_id,
        "metric": decision.metric,
        "value": decision.value,
        "threshold": decision.threshold,
        "higher_is_better": decision.higher_is_better,
        "production": decision.production,
        "gates": decision.gates,
        "metrics": metrics.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "exit": decision.exit().code(),
    });
    let written = dotenv::render(&[("MLOPS_GATE_PASSED", passed), ("MLFLOW_RUN_ID", &run_id)])
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|env| write_file(&dir.join("evaluate.env"), &env))
        .and_then(|()| write_json(&dir.join("evaluate.json"), &summary))
        .and_then(|()| {
            write_file(
                &dir.join("evaluate.junit.xml"),
                &junit::render("evaluate", &decision.junit_cases()),
            )
        })
        .and_then(|()| write_file(&dir.join("metrics.txt"), &openmetrics::render(&metrics)));
    if let Err(e) = written {
        report::error(
            &format!("could not write the reports to `{}`: {e}", dir.display()),
            None,
        );
        return Exit::Error;
    }
    match decision.status {
        Verdict::Pass => log::info("gates passed"),
        Verdict::Fail => report::error(
            "the quality gate failed",
            Some("registration is skipped; see the table above"),
        ),
        Verdict::Error => report::error(
            "the quality gate could not be decided",
            Some("see the messages above"),
        ),
    }
    decision.exit()
}
