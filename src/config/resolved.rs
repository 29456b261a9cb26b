//! The resolved model: `[defaults]` merged into each `[model.<name>]`, every required key
//! present and every default filled in. [`super::resolve`] builds it from the raw config of
//! [`super::raw`]; the compiler and the runtime read only this.

use super::raw::{Compare, Config, Framework, RegisterOn, Runtime, Validation};
use crate::stage::PerStage;

/// The registry that hosts the framework images by default.
pub const DEFAULT_IMAGE_BASE: &str = "registry.gitlab.com/mlops-rs/mlops";

/// A model with defaults applied and every required key present.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The registered model name (the `[model.<name>]` key).
    pub name: String,
    /// The job-name prefix (`as`, or the name).
    pub prefix: String,
    /// The training script.
    pub training_script: String,
    /// The script's arguments, already split.
    pub training_args: Vec<String>,
    /// The data `validate` checks.
    pub data_path: String,
    /// The framework.
    pub framework: Framework,
    /// The gated metric.
    pub metric_name: String,
    /// The gate threshold.
    pub min_threshold: f64,
    /// Whether larger is better.
    pub higher_is_better: bool,
    /// The alias to set on registration.
    pub alias: String,
    /// The MLflow experiment.
    pub experiment_name: Option<String>,
    /// Drift checking against `reference_data_path`.
    pub enable_drift: bool,
    /// The drift reference.
    pub reference_data_path: Option<String>,
    /// The job image.
    pub image: String,
    /// The requirements file, if any.
    pub requirements_file: Option<String>,
    /// Runner tags per stage.
    pub tags: PerStage<Vec<String>>,
    /// DVC settings, when enabled.
    pub dvc: Option<Dvc>,
    /// `rules:changes` paths.
    pub changes: Vec<String>,
    /// Data checks.
    pub validation: Validation,
    /// Gate 2, when configured.
    pub compare: Option<Compare>,
    /// Whether the manual promote job is generated.
    pub promote: bool,
}

impl Model {
    /// The alias promote moves and gate 2 compares against: `[compare] alias`, default
    /// `production`.
    pub fn production_alias(&self) -> &str {
        self.compare
            .as_ref()
            .and_then(|c| c.alias.as_deref())
            .unwrap_or(PRODUCTION_ALIAS)
    }
}

/// The default production alias.
pub const PRODUCTION_ALIAS: &str = "production";

/// DVC settings of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dvc {
    /// The remote, or the default one.
    pub remote: Option<String>,
    /// What to pull.
    pub files: Vec<String>,
    /// Whether to push after training.
    pub push: bool,
    /// What to push.
    pub push_paths: Vec<String>,
}

/// The whole project after resolution.
#[derive(Debug, Clone)]
pub struct Project {
    /// The raw config, as written.
    pub config: Config,
    /// Resolved models, in file order.
    pub models: Vec<Model>,
    /// Reports root (`mlops-reports`).
    pub report_dir: String,
    /// Environment prefix of register and promote jobs.
    pub environment_prefix: String,
    /// The pipelines that register.
    pub register_on: RegisterOn,
    /// Artifact expiry.
    pub artifacts_expire_in: String,
    /// The runtime install settings.
    pub runtime: Runtime,
}

impl Project {
    /// A model by name.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }
}
