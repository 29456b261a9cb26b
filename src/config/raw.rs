//! The raw `mlops.toml` types: the file as written, before `[defaults]` are merged into each
//! model (the result is in [`super::resolved`]). Their doc comments are the documentation:
//! they become the JSON Schema `description`, the reference in `docs/configuration.md` and editor hover text.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::gitlab::limits::MAX_CHANGES;

/// `mlops.toml`: one file describes every model trained by this repository's pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mlops.toml")]
pub struct Config {
    /// The `mlops` version this file was written for. `mlops compile` refuses to run when the
    /// binary is a different version, and generated jobs run exactly this version.
    #[serde(rename = "mlops-version")]
    #[schemars(regex(pattern = r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"))]
    pub mlops_version: String,

    /// Settings shared by every model. Each key of a `[model.<name>]` table overrides the key of
    /// the same name here (tables are replaced whole, not merged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<ModelSettings>,

    /// The models, keyed by their registered model name. Each model gets its own
    /// validate → train → evaluate → register jobs, and models run in parallel.
    #[schemars(extend(
        "minProperties" = 1,
        "propertyNames" = { "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$" }
    ))]
    pub model: IndexMap<String, ModelSettings>,

    /// Where runs and models are tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlflow: Option<MlflowSettings>,

    /// How the `mlops` binary gets into each job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,

    /// Pipeline-wide settings of the generated `.gitlab-ci.yml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<PipelineSettings>,
}

/// The settings of one model. In `[defaults]` every key is optional; after merging, a model
/// needs `training_script`, `data_path`, `framework`, `metric_name` and `min_threshold`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Job-name prefix for this model's jobs (`<as>:train`). Defaults to the model name. Use it
    /// to keep job names short or to group parallel models.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub job_prefix: Option<String>,

    /// The user's training script, relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub training_script: Option<String>,

    /// Arguments passed to the training script: a list of strings, or one string split like a
    /// POSIX shell would split it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_args: Option<Args>,

    /// The longest the training script may run: seconds, or a number with `s`, `m` or `h`
    /// (`90m`). Then the script and its child processes get SIGTERM, SIGKILL 10 s later, the
    /// MLflow run is marked KILLED and `mlops run train` exits 1. `MLOPS_TRAIN_TIMEOUT`
    /// overrides it. Default: none, only the job's own timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub train_timeout: Option<String>,

    /// The training data (CSV or Parquet) that `mlops run validate` checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub data_path: Option<String>,

    /// The ML framework: selects the job image and the MLflow autolog integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<Framework>,

    /// The MLflow metric that gates registration, as logged by the training run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 250))]
    pub metric_name: Option<String>,

    /// The gate: the metric must be at least this value (or at most, with
    /// `higher_is_better = false`). Read at run time, so changing it needs no recompile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_threshold: Option<f64>,

    /// Whether a larger metric is better (accuracy) or worse (loss). Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub higher_is_better: Option<bool>,

    /// The alias the registered version receives. Default `staging`. On GitLab, which has no
    /// aliases, `mlops` emulates it with a version tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9_-]{0,254}$"))]
    pub alias: Option<String>,

    /// The MLflow experiment name. Default: the model name; on GitLab `<model>-training`,
    /// which keeps training runs apart from the `[model]<name>` experiment GitLab keeps for
    /// each registered model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub experiment_name: Option<String>,

    /// Check `data_path` for drift against `reference_data_path`, with Evidently's default
    /// `DataDriftPreset` verdicts. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_drift: Option<bool>,

    /// The reference data for drift checks. Required when `enable_drift = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub reference_data_path: Option<String>,

    /// Appended to the framework image name, for example `-gpu` selects `pytorch-gpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]*$"))]
    pub image_suffix: Option<String>,

    /// Registry path under which the framework images live. Default
    /// `registry.gitlab.com/mlops-rs/mlops`. CI variables such as `$CI_REGISTRY_IMAGE` are
    /// expanded by GitLab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub image_registry_base: Option<String>,

    /// A full image reference for this model's jobs, instead of the framework image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub image: Option<String>,

    /// A pip requirements file installed before training. It also keys the pip/uv cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub requirements_file: Option<String>,

    /// Runner tags: a list applied to every job of the model, or a table with a list per stage
    /// (`train = ["gpu"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,

    /// Pull data with DVC before training and push outputs after it. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvc_enabled: Option<bool>,

    /// The DVC remote to pull from and push to. Default: the repository's default remote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub dvc_remote: Option<String>,

    /// The `.dvc` files (or tracked paths) to pull before training. Default: everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvc_files: Option<Vec<String>>,

    /// Push outputs to the DVC remote after a successful training run. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvc_push: Option<bool>,

    /// The tracked paths to push after training. Default: everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvc_push_paths: Option<Vec<String>>,

    /// Train this model only when one of these paths or globs changed (GitLab
    /// `rules:changes`, at most 50). Default: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = MAX_CHANGES))]
    pub changes: Option<Vec<String>>,

    /// Data checks run by `mlops run validate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,

    /// Gate 2: compare the new run with the current production model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<Compare>,

    /// The manual `<prefix>:promote` job, which points the production alias
    /// (`[compare] alias`) at the version its pipeline registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<Promote>,
}

/// The manual promote job of a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Promote {
    /// Generate the `<prefix>:promote` job. Default: `true` when `[compare]` is set (the
    /// alias it compares against is the one promote moves), else `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Training script arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Args {
    /// One string, split like a POSIX shell would (quotes group words).
    Line(String),
    /// A list of arguments, passed as they are.
    List(Vec<String>),
}

/// Runner tags for a model's jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Tags {
    /// The same tags for every stage.
    All(Vec<String>),
    /// Tags per stage; a stage without an entry gets none.
    PerStage(StageTags),
}

/// Runner tags per stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageTags {
    /// Tags of the validate job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<Vec<String>>,
    /// Tags of the train job (for example a GPU runner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<Vec<String>>,
    /// Tags of the evaluate job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate: Option<Vec<String>>,
    /// Tags of the register job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<Vec<String>>,
    /// Tags of the promote job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<Vec<String>>,
}

/// The ML framework of a model: it selects the job image (`sklearn`, `pytorch`, `tensorflow`, or
/// `boosting` for `xgboost` and `lightgbm`) and `mlflow.<framework>.autolog()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    Sklearn,
    Pytorch,
    Tensorflow,
    Xgboost,
    Lightgbm,
}

impl Framework {
    /// All frameworks, in schema order.
    pub const ALL: [Framework; 5] = [
        Framework::Sklearn,
        Framework::Pytorch,
        Framework::Tensorflow,
        Framework::Xgboost,
        Framework::Lightgbm,
    ];

    /// The name used in `mlops.toml` and by `mlflow.<name>.autolog()`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Sklearn => "sklearn",
            Framework::Pytorch => "pytorch",
            Framework::Tensorflow => "tensorflow",
            Framework::Xgboost => "xgboost",
            Framework::Lightgbm => "lightgbm",
        }
    }

    /// The image family under `images/` that carries this framework.
    pub fn image(self) -> &'static str {
        match self {
            Framework::Sklearn => "sklearn",
            Framework::Pytorch => "pytorch",
            Framework::Tensorflow => "tensorflow",
            Framework::Xgboost | Framework::Lightgbm => "boosting",
        }
    }
}

/// Data checks of `mlops run validate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validation {
    /// Columns that must be present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_columns: Option<Vec<String>>,
    /// Expected column kinds (`num`, `cat`, `text`, `datetime`), checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_kinds: Option<IndexMap<String, ColumnKind>>,
    /// The largest null ratio a column may have. Default 0.05; a ratio exactly equal passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_null_ratio: Option<f64>,
    /// Per-column overrides of `max_null_ratio`, each between 0 and 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("additionalProperties" = { "type": "number", "minimum": 0.0, "maximum": 1.0 }))]
    pub null_ratio: Option<IndexMap<String, f64>>,
    /// A Great Expectations 1.x suite (JSON) to run against the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub expectations: Option<String>,
    /// Report unknown expectation types as skipped instead of failing. Default `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unknown_expectations: Option<bool>,
    /// Custom Python check scripts, each run as `python SCRIPT --data FILE`; exit 0 passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<String>>,
}

/// A column kind, as pandas plus Evidently infer it: `num` (numerical), `cat` (categorical),
/// `text`, `datetime` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Num,
    Cat,
    Text,
    Datetime,
    Unknown,
}

/// Gate 2: the comparison with the current production model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// The alias that marks the production model. Default `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9_-]{0,254}$"))]
    pub alias: Option<String>,
    /// The least absolute improvement over production (in metric units). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub min_improvement: Option<f64>,
    /// The least relative improvement over production (0.01 = 1 %). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub min_relative_improvement: Option<f64>,
    /// What the gate says when no production model exists yet. Default `pass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_no_production: Option<NoProduction>,
}

/// The verdict of gate 2 when there is no production model: `pass` lets the first model
/// through, `fail` requires a production model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoProduction {
    Pass,
    Fail,
}

/// Tracking server settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MlflowSettings {
    /// The tracking URI. Default: `MLFLOW_TRACKING_URI`, or in GitLab CI
    /// `${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/ml/mlflow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub tracking_uri: Option<String>,
    /// The masked CI/CD variable that holds the API token when `MLFLOW_TRACKING_TOKEN` is
    /// unset. Default `MLOPS_ACCESS_TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub token_variable: Option<String>,
    /// The server flavour. Default `auto`: GitLab when the URI contains `/ml/mlflow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavour: Option<Flavour>,
}

/// Which API dialect the tracking server speaks: `auto` detects it from the URI, `gitlab` is
/// GitLab's MLflow-compatible subset (no aliases, `SemVer` versions), `mlflow` a plain server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    Auto,
    Gitlab,
    Mlflow,
}

/// How the `mlops` binary reaches the job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// `image` (default): the framework images carry the binary. `pip`: install the wheel.
    /// `url`: download and verify `sha256`. `preinstalled`: only check `mlops --version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<InstallMode>,
    /// The download URL for `install = "url"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https?://"))]
    pub url: Option<String>,
    /// The sha256 of the file at `url`, as 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: Option<String>,
}

/// Install modes for the runtime binary: `image`, `pip`, `url` or `preinstalled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InstallMode {
    Image,
    Pip,
    Url,
    Preinstalled,
}

/// Pipeline-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineSettings {
    /// Where each job writes its reports, relative to the project directory. Default
    /// `mlops-reports`; each model gets a sub-directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"))]
    pub report_dir: Option<String>,
    /// The environment prefix of register and promote jobs: register deploys to
    /// `<prefix>/<model>`, promote to `<prefix>/<model>/<alias>`. Default `models`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub environment_prefix: Option<String>,
    /// How long job artifacts are kept: `never` or a duration GitLab accepts, such as `30 days`
    /// or `1 week`. Default `30 days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub artifacts_expire_in: Option<String>,
    /// Split the models into this many child pipelines. Setting it makes `mlops compile`
    /// write a parent pipeline (as `--child-pipeline` does) with one trigger job per child.
    /// Default: as many as GitLab's limits require (see `docs/limits.md`), in child mode only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub child_pipelines: Option<u32>,
    /// The pipelines whose register (and promote) jobs run. Default `default_branch`: merge
    /// request and feature-branch pipelines stop after evaluate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_on: Option<RegisterOn>,
}

/// Where models are registered: `default_branch` (pipelines of the default branch),
/// `default_branch_and_tags` (also tag pipelines), or `every_pipeline` (every branch, tag and
/// merge request pipeline, as before `register_on` existed; promote still runs only on the
/// default branch and tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisterOn {
    DefaultBranch,
    DefaultBranchAndTags,
    EveryPipeline,
}
