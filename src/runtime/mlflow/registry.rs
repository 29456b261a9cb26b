//! Registered models and model versions, within what both dialects offer.

use serde::Deserialize;
use serde_json::json;

use super::client::{Client, Method, Retry};
use super::error::MlflowError;
use super::flavour::Flavour;
use super::types::{ModelVersion, RegisteredModel, Tag};

#[derive(Deserialize)]
struct ModelEnvelope {
    #[serde(rename = "registered_model")]
    _model: RegisteredModel,
}
#[derive(Deserialize)]
struct VersionEnvelope {
    model_version: ModelVersion,
}
#[derive(Deserialize)]
struct VersionList {
    /// GitLab presents `[model.latest_version]`, so a model without versions answers
    /// `[null]` (`lib/api/ml/mlflow/registered_models.rb`, `get-latest-versions`).
    #[serde(default)]
    model_versions: Vec<Option<ModelVersion>>,
}

/// Where a new version's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `runs:/<run_id>/model`.
    Run(String),
    /// An MLflow 3 logged model, `models:/<model_id>`, produced by the run.
    LoggedModel {
        /// The run.
        run_id: String,
        /// `m-<id>`.
        model_id: String,
    },
}

impl Source {
    /// The source URI.
    pub fn uri(&self) -> String {
        match self {
            Source::Run(r) => format!("runs:/{r}/model"),
            Source::LoggedModel { model_id, .. } => format!("models:/{model_id}"),
        }
    }
}

fn none_if_missing<T>(r: Result<T, MlflowError>) -> Result<Option<T>, MlflowError> {
    match r {
        Ok(v) => Ok(Some(v)),
        // MLflow answers a missing alias with INVALID_PARAMETER_VALUE, not 404
        // (`get_model_version_by_alias` in `mlflow/store/model_registry/sqlalchemy_store.py`).
        Err(e) if e.is_not_found() || e.error_code() == Some("INVALID_PARAMETER_VALUE") => Ok(None),
        Err(e) => Err(e),
    }
}

impl Client {
    /// Creates the registered model unless it exists.
    pub fn ensure_registered_model(
        &self,
        name: &str,
        description: &str,
    ) -> Result<bool, MlflowError> {
        match self.get::<ModelEnvelope>("registered-models/get", &[("name", name)]) {
            Ok(_) => return Ok(false),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let body = json!({ "name": name, "description": description });
        match self.post::<ModelEnvelope>("registered-models/create", &body, Retry::Yes) {
            Ok(_) => Ok(true),
            Err(e) if e.is_already_exists() => {
                // A retried create that went through; on GitLab also any refusal of
                // `Ml::CreateModelService` (`lib/api/ml/mlflow/registered_models.rb`).
                match self.get::<ModelEnvelope>("registered-models/get", &[("name", name)]) {
                    Ok(_) => Ok(false),
                    Err(g) if g.is_not_found() && self.flavour() == Flavour::Gitlab => {
                        Err(MlflowError::Api {
                            endpoint: "registered-models/create".into(),
                            status: 400,
                            error_code: "RESOURCE_ALREADY_EXISTS".into(),
                            message: format!(
                                "GitLab refuses the registered model `{name}`: its name must be a valid GitLab package name (letters, digits, `.`, `_`, `-`), and no experiment may be named `[model]{name}` already (GitLab creates that experiment for each model)"
                            ),
                        })
                    }
                    Err(g) => Err(g),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a model version, once: a lost answer must not become a second version, so the
    /// caller looks up what exists before it tries again.
    ///
    /// `source` is `None` on GitLab: there `run_id` asks GitLab to promote the run itself into
    /// the version, which current GitLab refuses for a run outside the model's own experiment
    /// (`app/services/ml/create_model_version_service.rb`), and older GitLab ignores; mlops
    /// copies the run's files instead (`docs/gitlab.md`).
    pub fn create_model_version(
        &self,
        name: &str,
        source: Option<&Source>,
        tags: &[Tag],
        description: &str,
    ) -> Result<ModelVersion, MlflowError> {
        let mut body = json!({ "name": name, "tags": tags, "description": description });
        match source {
            Some(s @ Source::Run(run_id)) => {
                body["source"] = json!(s.uri());
                body["run_id"] = json!(run_id);
            }
            Some(s @ Source::LoggedModel { run_id, model_id }) => {
                body["source"] = json!(s.uri());
                body["run_id"] = json!(run_id);
                body["model_id"] = json!(model_id);
            }
            None => {}
        }
        self.post::<VersionEnvelope>("model-versions/create", &body, Retry::No)
            .map(|v| v.model_version)
    }

    /// The latest version (highest number, or highest SemVer on GitLab), if any.
    pub fn latest_version(&self, name: &str) -> Result<Option<ModelVersion>, MlflowError> {
        let list = none_if_missing(self.post::<VersionList>(
            "registered-models/get-latest-versions",
            &json!({ "name": name }),
            Retry::Yes,
        ))?;
        Ok(list.and_then(|l| {
            l.model_versions
                .into_iter()
                .flatten()
                .max_by_key(|v| v.version.parse::<u64>().unwrap_or(0))
        }))
    }

    /// A version by its version string (MLflow number, or SemVer on GitLab).
    pub fn get_model_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<ModelVersion>, MlflowError> {
        none_if_missing(
            self.get::<VersionEnvelope>(
                "model-versions/get",
                &[("name", name), ("version", version)],
            )
            .map(|v| v.model_version),
        )
    }

    /// Versions made from a run (MLflow only: GitLab has no `model-versions/search`).
    pub fn versions_of_run(
        &self,
        name: &str,
        run_id: &str,
    ) -> Result<Vec<ModelVersion>, MlflowError> {
        debug_assert_eq!(self.flavour(), Flavour::Mlflow);
        let filter = format!(
            "name='{}' and run_id='{}'",
            name.replace('\'', "\\'"),
            run_id.replace('\'', "")
        );
        self.get::<VersionList>(
            "model-versions/search",
            &[("filter", &filter), ("max_results", "100")],
        )
        .map(|l| l.model_versions.into_iter().flatten().collect())
    }

    /// Sets a version tag (MLflow only).
    pub fn set_model_version_tag(
        &self,
        name: &str,
        version: &str,
        key: &str,
        value: &str,
    ) -> Result<(), MlflowError> {
        let body = json!({ "name": name, "version": version, "key": key, "value": value });
        self.post::<serde_json::Value>("model-versions/set-tag", &body, Retry::Yes)
            .map(|_| ())
    }

    /// Points an alias at a version (MLflow only).
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), MlflowError> {
        let body = json!({ "name": name, "alias": alias, "version": version });
        self.call(
            Method::Post,
            "registered-models/alias",
            &[],
            Some(&body),
            Retry::Yes,
        )
        .map(|_| ())
    }

    /// The version an alias points at (MLflow), or the version with this SemVer (GitLab).
    pub fn version_by_alias(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<ModelVersion>, MlflowError> {
        none_if_missing(
            self.get::<VersionEnvelope>(
                "registered-models/alias",
                &[("name", name), ("alias", alias)],
            )
            .map(|v| v.model_version),
        )
    }
}
