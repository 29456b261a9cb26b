//! What `mlops run evaluate` gates on, resolved from its flags (which clap already merged with
//! their `MLOPS_*` variables) over the model's `mlops.toml` settings.

use super::{EvaluateArgs, EvaluateError};
use crate::config::Model;
use crate::config::raw::NoProduction;
use crate::runtime::gate::CompareRule;

/// Everything the gates need besides the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The gated metric.
    pub metric: String,
    /// Gate 1's threshold.
    pub threshold: f64,
    /// Direction.
    pub higher_is_better: bool,
    /// Gate 2, when on.
    pub compare: Option<Compare>,
}

/// Gate 2's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    /// The registered model whose alias marks the production model.
    pub registered_model: String,
    /// The alias.
    pub alias: String,
    /// The rule.
    pub rule: CompareRule,
}

impl Settings {
    /// Flags win over the model's settings. `env` reads `MLOPS_HIGHER_IS_BETTER`, the one
    /// variable without a flag of its own (`--higher-is-better`/`--lower-is-better` are
    /// switches).
    pub fn resolve(
        args: &EvaluateArgs,
        model: Option<&Model>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, EvaluateError> {
        let metric = args
            .metric
            .clone()
            .or_else(|| model.map(|m| m.metric_name.clone()))
            .ok_or(EvaluateError::NoMetric)?;
        let threshold = args
            .threshold
            .or_else(|| model.map(|m| m.min_threshold))
            .ok_or(EvaluateError::NoThreshold)?;
        let higher_is_better = if args.lower_is_better {
            false
        } else if args.higher_is_better {
            true
        } else {
            env_bool("MLOPS_HIGHER_IS_BETTER", env)?
                .unwrap_or_else(|| model.is_none_or(|m| m.higher_is_better))
        };
        let file = model.and_then(|m| m.compare.clone());
        let alias = args.compare_alias.clone().or_else(|| {
            file.as_ref()
                .map(|c| c.alias.clone().unwrap_or_else(|| "production".into()))
        });
        let when_no_production = match args.when_no_production.as_deref().map(str::trim) {
            Some("pass") => NoProduction::Pass,
            Some("fail") => NoProduction::Fail,
            Some(other) => return Err(EvaluateError::WhenNoProduction(other.to_owned())),
            None => file
                .as_ref()
                .and_then(|c| c.when_no_production)
                .unwrap_or(NoProduction::Pass),
        };
        let registered = args
            .registered_model
            .clone()
            .or_else(|| model.map(|m| m.name.clone()));
        let compare = match (alias, registered) {
            (Some(alias), Some(registered_model)) => Some(Compare {
                registered_model,
                alias,
                rule: CompareRule {
                    min_improvement: args
                        .min_improvement
                        .or_else(|| file.as_ref().and_then(|c| c.min_improvement))
                        .unwrap_or(0.0),
                    min_relative_improvement: args
                        .min_relative_improvement
                        .or_else(|| file.as_ref().and_then(|c| c.min_relative_improvement))
                        .unwrap_or(0.0),
                    when_no_production,
                },
            }),
            (Some(_), None) => return Err(EvaluateError::NoRegisteredModel),
            (None, _) => None,
        };
        Ok(Settings {
            metric,
            threshold,
            higher_is_better,
            compare,
        })
    }
}

fn env_bool(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<bool>, EvaluateError> {
    match env(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if ["true", "1", "yes"].contains(&v.as_str()) => Ok(Some(true)),
        Some(v) if ["false", "0", "no"].contains(&v.as_str()) => Ok(Some(false)),
        Some(value) => Err(EvaluateError::NotABool {
            name: name.to_owned(),
            value,
        }),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::runtime::stages::test_model;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: EvaluateArgs,
    }

    fn args(argv: &[&str]) -> EvaluateArgs {
        Cli::parse_from(std::iter::once("evaluate").chain(argv.iter().copied())).args
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flag_over_env_over_model() {
        let model = test_model();
        let s = Settings::resolve(&args(&[]), Some(&model), &no_env).unwrap();
        assert_eq!(
            (s.metric.as_str(), s.threshold, s.higher_is_better),
            (model.metric_name.as_str(), model.min_threshold, true)
        );
        assert_eq!(s.compare, None);
        let lower = |k: &str| (k == "MLOPS_HIGHER_IS_BETTER").then(|| " No ".to_owned());
        let s = Settings::resolve(&args(&[]), Some(&model), &lower).unwrap();
        assert!(!s.higher_is_better);
        let s = Settings::resolve(&args(&["--higher-is-better"]), Some(&model), &lower).unwrap();
        assert!(s.higher_is_better);
        let s = Settings::resolve(
            &args(&[
                "--metric",
                "f1",
                "--threshold",
                "-1",
                "--compare-alias",
                "prod",
            ]),
            Some(&model),
            &no_env,
        )
        .unwrap();
        assert_eq!((s.metric.as_str(), s.threshold), ("f1", -1.0));
        let c = s.compare.unwrap();
        assert_eq!((c.alias.as_str(), c.registered_model), ("prod", model.name));
        assert_eq!(c.rule.when_no_production, NoProduction::Pass);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            Settings::resolve(&args(&[]), None, &no_env),
            Err(EvaluateError::NoMetric)
        );
        assert_eq!(
            Settings::resolve(&args(&["--metric", "m"]), None, &no_env),
            Err(EvaluateError::NoThreshold)
        );
        let base = ["--metric", "m", "--threshold", "1"];
        let bad = |_: &str| Some("maybe".to_owned());
        assert!(matches!(
            Settings::resolve(&args(&base), None, &bad),
            Err(EvaluateError::NotABool { .. })
        ));
        let mut argv = base.to_vec();
        argv.extend(["--compare-alias", "prod"]);
        assert_eq!(
            Settings::resolve(&args(&argv), None, &no_env),
            Err(EvaluateError::NoRegisteredModel)
        );
        argv.extend(["--registered-model", "m", "--when-no-production", "skip"]);
        assert_eq!(
            Settings::resolve(&args(&argv), None, &no_env),
            Err(EvaluateError::WhenNoProduction("skip".into()))
        );
    }
}
