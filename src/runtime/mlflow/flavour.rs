//! Which dialect the tracking server speaks: a plain MLflow server, or GitLab's
//! MLflow-compatible subset (no aliases, SemVer versions, no `model-versions/search`).

use crate::config::raw::Flavour as Setting;

/// The server dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// A plain MLflow server: every endpoint, real aliases.
    Mlflow,
    /// GitLab's subset (`lib/api/ml/mlflow/*.rb`).
    Gitlab,
}

impl Flavour {
    /// `MLOPS_MLFLOW_FLAVOUR` first, then `[mlflow] flavour`, then the URI: GitLab serves the
    /// API under `/ml/mlflow`.
    pub fn resolve(env: Option<&str>, setting: Option<Setting>, uri: &str) -> Result<Self, String> {
        let from_env = match env.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some("gitlab") => Some(Setting::Gitlab),
            Some("mlflow") => Some(Setting::Mlflow),
            Some("auto") => Some(Setting::Auto),
            Some(other) => {
                return Err(format!(
                    "`MLOPS_MLFLOW_FLAVOUR` is `{other}`; expected `gitlab`, `mlflow` or `auto`"
                ));
            }
        };
        Ok(match from_env.or(setting).unwrap_or(Setting::Auto) {
            Setting::Mlflow => Flavour::Mlflow,
            Setting::Auto if !uri.trim_end_matches('/').contains("/ml/mlflow") => Flavour::Mlflow,
            Setting::Gitlab | Setting::Auto => Flavour::Gitlab,
        })
    }

    /// `gitlab` or `mlflow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Mlflow => "mlflow",
            Flavour::Gitlab => "gitlab",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_overrides() {
        let gl = "https://gitlab.example.com/api/v4/projects/7/ml/mlflow";
        assert_eq!(Flavour::resolve(None, None, gl).unwrap(), Flavour::Gitlab);
        assert_eq!(
            Flavour::resolve(None, None, "http://mlflow:5000").unwrap(),
            Flavour::Mlflow
        );
        assert_eq!(
            Flavour::resolve(None, Some(Setting::Mlflow), gl).unwrap(),
            Flavour::Mlflow
        );
        assert_eq!(
            Flavour::resolve(Some("gitlab"), Some(Setting::Mlflow), "http://x").unwrap(),
            Flavour::Gitlab
        );
        assert!(Flavour::resolve(Some("gitlub"), None, gl).is_err());
    }
}
