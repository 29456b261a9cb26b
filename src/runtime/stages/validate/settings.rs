//! What `mlops run validate` checks, resolved from its flags (which clap already merged with
//! their `MLOPS_*` variables) over the model's `mlops.toml` settings.

use std::path::{Path, PathBuf};

use super::{ValidateArgs, ValidateError};
use crate::config::Model;
use crate::runtime::data::Format;
use crate::runtime::data::quality::{DEFAULT_MAX_NULL_RATIO, QualitySettings};

/// Everything the stage does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data file.
    pub data: PathBuf,
    /// The drift reference, when drift is on.
    pub reference: Option<PathBuf>,
    /// Required columns, kinds and null ratios.
    pub quality: QualitySettings,
    /// A Great Expectations suite.
    pub expectations: Option<PathBuf>,
    /// Unknown expectation types are skipped instead of refused.
    pub allow_unknown: bool,
    /// Check scripts.
    pub checks: Vec<String>,
    /// The data format, when not guessed from the extension.
    pub format: Option<Format>,
}

impl Settings {
    /// Flags win over the model's settings; paths from `mlops.toml` are relative to
    /// `config_dir`, the directory that holds it.
    pub fn resolve(
        args: &ValidateArgs,
        model: Option<&Model>,
        config_dir: &Path,
    ) -> Result<Self, ValidateError> {
        let rel = |p: &str| config_dir.join(p);
        let v = model.map(|m| m.validation.clone()).unwrap_or_default();
        let data = args
            .data
            .clone()
            .or_else(|| model.map(|m| rel(&m.data_path)))
            .ok_or(ValidateError::NoData)?;
        let drift_on = model.is_some_and(|m| m.enable_drift);
        let reference = args.reference.clone().or_else(|| {
            model
                .filter(|_| drift_on)
                .and_then(|m| m.reference_data_path.as_deref())
                .map(rel)
        });
        if drift_on && reference.is_none() {
            return Err(ValidateError::NoReference);
        }
        let max_null_ratio = args
            .max_null_ratio
            .or(v.max_null_ratio)
            .unwrap_or(DEFAULT_MAX_NULL_RATIO);
        if !(0.0..=1.0).contains(&max_null_ratio) {
            return Err(ValidateError::NullRatio(max_null_ratio));
        }
        let checks = if args.checks.is_empty() {
            v.checks
                .unwrap_or_default()
                .iter()
                .map(|c| rel(c).to_string_lossy().into_owned())
                .collect()
        } else {
            args.checks.clone()
        };
        Ok(Settings {
            data,
            reference,
            quality: QualitySettings {
                required_columns: args
                    .required_columns
                    .clone()
                    .or(v.required_columns)
                    .unwrap_or_default(),
                column_kinds: v.column_kinds.unwrap_or_default(),
                max_null_ratio,
                null_ratio: v.null_ratio.unwrap_or_default(),
            },
            expectations: args
                .expectations
                .clone()
                .or_else(|| v.expectations.as_deref().map(rel)),
            allow_unknown: args.allow_unknown || v.allow_unknown_expectations.unwrap_or(false),
            checks,
            format: args.format,
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
        args: ValidateArgs,
    }

    fn args(argv: &[&str]) -> ValidateArgs {
        Cli::parse_from(std::iter::once("validate").chain(argv.iter().copied())).args
    }

    #[test]
    fn flags_win_over_the_model_and_paths_are_relative_to_the_config() {
        let model = test_model();
        let dir = Path::new("proj");
        let s = Settings::resolve(&args(&[]), Some(&model), dir).unwrap();
        assert_eq!(s.data, dir.join(&model.data_path));
        assert_eq!(s.quality.max_null_ratio, DEFAULT_MAX_NULL_RATIO);
        let s = Settings::resolve(
            &args(&["--data", "other.csv", "--max-null-ratio", "0.2"]),
            Some(&model),
            dir,
        )
        .unwrap();
        assert_eq!(s.data, Path::new("other.csv"));
        assert_eq!(s.quality.max_null_ratio, 0.2);
    }

    #[test]
    fn refuses_what_cannot_run() {
        assert!(matches!(
            Settings::resolve(&args(&[]), None, Path::new("")),
            Err(ValidateError::NoData)
        ));
        assert!(matches!(
            Settings::resolve(
                &args(&["--data", "d.csv", "--max-null-ratio", "1.5"]),
                None,
                Path::new("")
            ),
            Err(ValidateError::NullRatio(_))
        ));
        let mut model = test_model();
        model.enable_drift = true;
        model.reference_data_path = None;
        assert!(matches!(
            Settings::resolve(&args(&[]), Some(&model), Path::new("")),
            Err(ValidateError::NoReference)
        ));
    }
}
