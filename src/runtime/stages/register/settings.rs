//! Where `mlops run register` registers, resolved from its flags (which clap already merged
//! with their `MLOPS_*` variables) over the model's `mlops.toml` settings.

use super::{RegisterArgs, RegisterError};
use crate::config::Model;

/// The registered model, the alias and the metrics to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The registered model.
    pub name: String,
    /// The alias to set.
    pub alias: String,
    /// Metrics recorded as version tags.
    pub metrics: Vec<String>,
}

impl Settings {
    /// Flags win over the model's settings.
    pub fn resolve(args: &RegisterArgs, model: Option<&Model>) -> Result<Self, RegisterError> {
        let name = args
            .name
            .clone()
            .or_else(|| model.map(|m| m.name.clone()))
            .ok_or(RegisterError::NoName)?;
        let alias = args
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
        Ok(Settings {
            name,
            alias,
            metrics,
        })
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
        args: RegisterArgs,
    }

    fn args(argv: &[&str]) -> RegisterArgs {
        Cli::parse_from(std::iter::once("register").chain(argv.iter().copied())).args
    }

    #[test]
    fn flags_win_over_the_model() {
        let model = test_model();
        let s = Settings::resolve(&args(&[]), Some(&model)).unwrap();
        assert_eq!(
            s,
            Settings {
                name: model.name.clone(),
                alias: model.alias.clone(),
                metrics: vec![model.metric_name.clone()],
            }
        );
        let s = Settings::resolve(
            &args(&["--name", "n", "--alias", "a", "--metric", "x,y"]),
            Some(&model),
        )
        .unwrap();
        assert_eq!((s.name.as_str(), s.alias.as_str()), ("n", "a"));
        assert_eq!(s.metrics, ["x", "y"]);
    }

    #[test]
    fn standalone_needs_a_name() {
        assert_eq!(
            Settings::resolve(&args(&[]), None),
            Err(RegisterError::NoName)
        );
        let s = Settings::resolve(&args(&["--name", "n"]), None).unwrap();
        assert_eq!((s.alias.as_str(), s.metrics.len()), ("staging", 0));
    }
}
