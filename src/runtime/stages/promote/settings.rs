//! What `mlops run promote` moves, resolved from its flags (which clap already merged with
//! their `MLOPS_*` variables) over the model's `mlops.toml` settings and the report
//! directory's `register.env`.

use std::path::Path;

use super::{PromoteArgs, PromoteError};
use crate::config::Model;
use crate::config::resolved::PRODUCTION_ALIAS;
use crate::stage::Stage;

/// The registered model, the alias to move and the version to point it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The registered model.
    pub name: String,
    /// The production alias.
    pub alias: String,
    /// The version: MLflow's number, or the SemVer on GitLab.
    pub version: String,
    /// Where the version came from: `--version` or `register.env`.
    pub from: &'static str,
}

impl Settings {
    /// Flags win over the model's settings; without `--version` the version is the one
    /// register wrote into `register.env` in `report_dir` (this pipeline's register job).
    pub fn resolve(
        args: &PromoteArgs,
        model: Option<&Model>,
        report_dir: &Path,
    ) -> Result<Self, PromoteError> {
        let name = args
            .name
            .clone()
            .or_else(|| model.map(|m| m.name.clone()))
            .ok_or(PromoteError::NoName)?;
        let alias = args
            .alias
            .clone()
            .or_else(|| model.map(|m| m.production_alias().to_owned()))
            .unwrap_or_else(|| PRODUCTION_ALIAS.to_owned());
        if let Some(v) = args
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return Ok(Settings {
                name,
                alias,
                version: v.to_owned(),
                from: "--version",
            });
        }
        let file = Stage::Register.reports().dotenv.unwrap_or_default();
        let path = report_dir.join(file);
        let display = path.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let value = |key: &str| {
            text.lines()
                .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .next_back()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let Some(version) = value("MODEL_VERSION") else {
            return Err(PromoteError::NoRegisteredVersion { path: display });
        };
        if let Some(registered) = value("MODEL_NAME").filter(|n| *n != name) {
            return Err(PromoteError::OtherModel {
                path: display,
                registered,
                name,
            });
        }
        Ok(Settings {
            name,
            alias,
            version,
            from: "register.env",
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
        args: PromoteArgs,
    }

    fn args(argv: &[&str]) -> PromoteArgs {
        Cli::parse_from(std::iter::once("promote").chain(argv.iter().copied())).args
    }

    #[test]
    fn the_version_comes_from_register_env_or_the_flag() {
        let model = test_model();
        let dir = tempfile::tempdir().unwrap();
        let err = Settings::resolve(&args(&[]), Some(&model), dir.path()).unwrap_err();
        assert!(
            matches!(err, PromoteError::NoRegisteredVersion { .. }),
            "{err}"
        );
        std::fs::write(dir.path().join("register.env"), "MODEL_VERSION=\n").unwrap();
        let err = Settings::resolve(&args(&[]), Some(&model), dir.path()).unwrap_err();
        assert!(
            matches!(err, PromoteError::NoRegisteredVersion { .. }),
            "{err}"
        );
        std::fs::write(
            dir.path().join("register.env"),
            "MODEL_VERSION=3\nMODEL_NAME=wine\nMODEL_ALIAS=staging\n",
        )
        .unwrap();
        let s = Settings::resolve(&args(&[]), Some(&model), dir.path()).unwrap();
        assert_eq!(
            s,
            Settings {
                name: "wine".into(),
                alias: "production".into(),
                version: "3".into(),
                from: "register.env",
            }
        );
        let s = Settings::resolve(
            &args(&["--version", "1", "--alias", "champion"]),
            Some(&model),
            dir.path(),
        )
        .unwrap();
        assert_eq!(
            (s.version.as_str(), s.alias.as_str(), s.from),
            ("1", "champion", "--version")
        );
        let err =
            Settings::resolve(&args(&["--name", "other"]), Some(&model), dir.path()).unwrap_err();
        assert!(matches!(err, PromoteError::OtherModel { .. }), "{err}");
    }

    #[test]
    fn standalone_needs_a_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Settings::resolve(&args(&["--version", "1"]), None, dir.path()),
            Err(PromoteError::NoName)
        );
    }
}
