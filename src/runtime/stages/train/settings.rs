//! What `mlops run train` runs, resolved from its flags (which clap already merged with their
//! `MLOPS_*` variables) over the model's `mlops.toml` settings.

use std::path::Path;
use std::time::Duration;

use super::{TrainArgs, TrainError};
use crate::config::Model;
use crate::config::raw::Framework;
use crate::config::resolved::Dvc;
use crate::runtime::mlflow::Flavour;

/// Everything the stage runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The training script.
    pub script: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The framework whose autolog to enable.
    pub framework: Option<Framework>,
    /// The MLflow experiment.
    pub experiment: String,
    /// DVC around training, when enabled.
    pub dvc: Option<Dvc>,
    /// How long the script may run (`train_timeout`).
    pub timeout: Option<Duration>,
}

impl Settings {
    /// Flags win over the model's settings; the default experiment depends on the server's
    /// `flavour`.
    pub fn resolve(
        args: &TrainArgs,
        model: Option<&Model>,
        config_timeout: Option<&str>,
        flavour: Flavour,
    ) -> Result<Self, TrainError> {
        let timeout = args
            .timeout
            .as_deref()
            .or(config_timeout)
            .map(parse_timeout)
            .transpose()?;
        let script = args
            .script
            .clone()
            .or_else(|| model.map(|m| m.training_script.clone()))
            .ok_or(TrainError::NoScript)?;
        let script_args = match &args.args {
            Some(line) => shlex::split(line).ok_or(TrainError::UnclosedQuote)?,
            None => model.map(|m| m.training_args.clone()).unwrap_or_default(),
        };
        let framework = match &args.framework {
            Some(f) => Some(
                Framework::ALL
                    .into_iter()
                    .find(|x| x.as_str() == f.trim())
                    .ok_or_else(|| TrainError::UnknownFramework(f.clone()))?,
            ),
            None => model.map(|m| m.framework),
        };
        let experiment = args
            .experiment
            .clone()
            .or_else(|| model.and_then(|m| m.experiment_name.clone()))
            .or_else(|| model.map(|m| default_experiment(&m.name, flavour)))
            .or_else(|| {
                Path::new(&script)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "mlops".to_owned());
        Ok(Settings {
            script,
            args: script_args,
            framework,
            experiment,
            dvc: model.and_then(|m| m.dvc.clone()),
            timeout,
        })
    }
}

/// `train_timeout`: seconds, or a positive number with `s`, `m` or `h`.
pub fn parse_timeout(text: &str) -> Result<Duration, TrainError> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1.0),
        Some((i, 'm')) => (&t[..i], 60.0),
        Some((i, 'h')) => (&t[..i], 3600.0),
        _ => (t, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n * unit <= 31_536_000.0 => {
            Ok(Duration::from_secs_f64(n * unit))
        }
        _ => Err(TrainError::BadTimeout(text.to_owned())),
    }
}

/// The experiment of a model without `experiment_name`: its name, except on GitLab, where it
/// is `<model>-training`. GitLab files each registered model's versions as runs of its own
/// experiment `[model]<name>` (`app/services/ml/create_model_service.rb`); the suffix keeps
/// the training runs apart from those, under a name that says what they are. (Earlier
/// releases gave a wrong reason, a name clash with the model, which GitLab does not have;
/// the default stayed, so projects keep their runs in one experiment.)
pub fn default_experiment(model: &str, flavour: Flavour) -> String {
    match flavour {
        Flavour::Mlflow => model.to_owned(),
        Flavour::Gitlab => format!("{model}-training"),
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
        args: TrainArgs,
    }

    fn args(argv: &[&str]) -> TrainArgs {
        Cli::parse_from(std::iter::once("train").chain(argv.iter().copied())).args
    }

    #[test]
    fn flags_win_over_the_model() {
        let model = test_model();
        let s = Settings::resolve(&args(&[]), Some(&model), None, Flavour::Gitlab).unwrap();
        assert_eq!(s.script, model.training_script);
        assert_eq!(s.experiment, format!("{}-training", model.name));
        assert_eq!(s.framework, Some(model.framework));
        let s = Settings::resolve(
            &args(&[
                "--script",
                "dir/fit.py",
                "--args",
                "--lr '0.1 2'",
                "--framework",
                "xgboost",
                "--experiment",
                "e",
            ]),
            Some(&model),
            Some("2h"),
            Flavour::Mlflow,
        )
        .unwrap();
        assert_eq!(s.script, "dir/fit.py");
        assert_eq!(s.args, ["--lr", "0.1 2"]);
        assert_eq!(s.framework, Some(Framework::Xgboost));
        assert_eq!(s.experiment, "e");
        assert_eq!(s.timeout, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn standalone_defaults_and_refusals() {
        let s = Settings::resolve(
            &args(&["--script", "dir/fit.py"]),
            None,
            None,
            Flavour::Mlflow,
        )
        .unwrap();
        assert_eq!((s.experiment.as_str(), s.framework), ("fit", None));
        assert_eq!(
            Settings::resolve(&args(&[]), None, None, Flavour::Mlflow),
            Err(TrainError::NoScript)
        );
        assert_eq!(
            Settings::resolve(
                &args(&["--script", "a", "--args", "'x"]),
                None,
                None,
                Flavour::Mlflow
            ),
            Err(TrainError::UnclosedQuote)
        );
        assert!(matches!(
            Settings::resolve(
                &args(&["--script", "a", "--framework", "scikit"]),
                None,
                None,
                Flavour::Mlflow
            ),
            Err(TrainError::UnknownFramework(_))
        ));
    }

    #[test]
    fn timeouts_take_seconds_or_a_unit() {
        let secs = |t: &str| parse_timeout(t).map(|d| d.as_secs_f64());
        assert_eq!(secs("90"), Ok(90.0));
        assert_eq!(secs(" 1.5m "), Ok(90.0));
        assert_eq!(secs("2h"), Ok(7200.0));
        assert_eq!(secs("10s"), Ok(10.0));
        for bad in ["", "0", "-1", "1d", "x", "NaNs", "infh"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
