//! `config::resolve`: `[defaults]` merged into each model, and the rules the schema cannot
//! express (required keys after merging, unique job names, pins, strings GitLab cannot hold).

use indexmap::IndexMap;

use super::diagnostic::Problem;
use super::load::Document;
use super::model::{
    Args, Compare, Config, Framework, InstallMode, ModelSettings, Runtime, Tags, Validation,
};
use super::source::push_pointer;
use super::validate::toml_path;
use crate::stage::{PerStage, Stage};

/// GitLab's limit on job and stage names.
pub const MAX_JOB_NAME: usize = 255;
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
}

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
    /// The raw typed config.
    pub config: Config,
    /// Resolved models, in file order.
    pub models: Vec<Model>,
    /// Reports root (`mlops-reports`).
    pub report_dir: String,
    /// Environment prefix of register jobs.
    pub environment_prefix: String,
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

/// Merges defaults and checks what the schema cannot.
pub fn resolve(doc: &Document, config: Config) -> Result<Project, Vec<Problem>> {
    let mut problems = Vec::new();
    let src = &doc.source;

    if config.mlops_version != crate::VERSION {
        problems.push(
            Problem::new(
                src,
                doc.spans.value_span("/mlops-version"),
                format!(
                    "this file pins mlops {}, but this is mlops {}",
                    config.mlops_version,
                    crate::VERSION
                ),
                "pinned version",
            )
            .with_help(format!(
                "install mlops {} or change the pin to `mlops-version = \"{}\"`",
                config.mlops_version,
                crate::VERSION
            )),
        );
    }

    let defaults = config.defaults.clone().unwrap_or_default();
    let mut models = Vec::new();
    let mut prefixes: IndexMap<String, String> = IndexMap::new();
    for (name, own) in &config.model {
        let at = push_pointer("/model", name);
        let merged = merge(&defaults, own);
        if let Some(model) = resolve_model(doc, &at, name, &merged, &mut problems) {
            if let Some(first) = prefixes.get(&model.prefix) {
                problems.push(
                    Problem::new(
                        src,
                        doc.spans.key_span(&pointer_of_prefix(&at, own)),
                        format!(
                            "models `{first}` and `{name}` would both name their jobs `{}:…`",
                            model.prefix
                        ),
                        "duplicate job prefix",
                    )
                    .with_help("give one of them a different `as`"),
                );
            } else {
                prefixes.insert(model.prefix.clone(), name.clone());
            }
            models.push(model);
        }
    }

    let runtime = config.runtime.clone().unwrap_or_default();
    if runtime.install == Some(InstallMode::Url)
        && (runtime.url.is_none() || runtime.sha256.is_none())
    {
        problems.push(
            Problem::new(
                src,
                doc.spans.key_span("/runtime"),
                "`install = \"url\"` needs both `url` and `sha256`",
                "incomplete",
            )
            .with_help("add `url = \"https://…\"` and `sha256 = \"<64 hex digits>\"`"),
        );
    }

    let pipeline = config.pipeline.clone().unwrap_or_default();
    if problems.is_empty() {
        Ok(Project {
            models,
            report_dir: pipeline
                .report_dir
                .unwrap_or_else(|| "mlops-reports".to_owned()),
            environment_prefix: pipeline
                .environment_prefix
                .unwrap_or_else(|| "models".to_owned()),
            artifacts_expire_in: pipeline
                .artifacts_expire_in
                .unwrap_or_else(|| "30 days".to_owned()),
            runtime,
            config,
        })
    } else {
        Err(problems)
    }
}

fn pointer_of_prefix(at: &str, own: &ModelSettings) -> String {
    if own.job_prefix.is_some() {
        push_pointer(at, "as")
    } else {
        at.to_owned()
    }
}

/// Field-by-field: the model's value when set, else the default's.
fn merge(defaults: &ModelSettings, own: &ModelSettings) -> ModelSettings {
    macro_rules! pick {
        ($($f:ident),* $(,)?) => {
            ModelSettings { $($f: own.$f.clone().or_else(|| defaults.$f.clone()),)* }
        };
    }
    let mut merged = pick!(
        job_prefix,
        training_script,
        training_args,
        data_path,
        framework,
        metric_name,
        min_threshold,
        higher_is_better,
        alias,
        experiment_name,
        enable_drift,
        reference_data_path,
        image_suffix,
        image_registry_base,
        image,
        requirements_file,
        tags,
        dvc_enabled,
        dvc_remote,
        dvc_files,
        dvc_push,
        dvc_push_paths,
        changes,
        validation,
        compare,
    );
    // `as` names one model's jobs; a shared default would collide by construction.
    merged.job_prefix.clone_from(&own.job_prefix);
    merged
}

fn resolve_model(
    doc: &Document,
    at: &str,
    name: &str,
    m: &ModelSettings,
    problems: &mut Vec<Problem>,
) -> Option<Model> {
    let src = &doc.source;
    let before = problems.len();
    let key_span = doc.spans.key_span(at);

    let mut missing = |key: &str, present: bool| {
        if !present {
            problems.push(
                Problem::new(
                    src,
                    key_span.clone(),
                    format!("model `{name}` has no `{key}`"),
                    "incomplete model",
                )
                .with_help(format!("set `{key}` in [model.{name}] or in [defaults]")),
            );
        }
    };
    missing("training_script", m.training_script.is_some());
    missing("data_path", m.data_path.is_some());
    missing("framework", m.framework.is_some());
    missing("metric_name", m.metric_name.is_some());
    missing("min_threshold", m.min_threshold.is_some());

    let enable_drift = m.enable_drift.unwrap_or(false);
    if enable_drift && m.reference_data_path.is_none() {
        problems.push(
            Problem::new(
                src,
                doc.spans.key_span(&field_pointer(doc, at, "enable_drift")),
                format!("model `{name}` enables drift but has no `reference_data_path`"),
                "drift needs a reference",
            )
            .with_help("add `reference_data_path = \"data/reference.csv\"`"),
        );
    }

    let prefix = m.job_prefix.clone().unwrap_or_else(|| name.to_owned());
    let longest = format!("{prefix}:{}", Stage::Evaluate);
    if longest.chars().count() > MAX_JOB_NAME {
        problems.push(
            Problem::new(
                src,
                doc.spans.key_span(&field_pointer(doc, at, "as")),
                format!(
                    "job name `{}…` would be {} characters; GitLab allows {MAX_JOB_NAME}",
                    prefix.chars().take(24).collect::<String>(),
                    longest.chars().count()
                ),
                "too long",
            )
            .with_help("set a shorter `as`"),
        );
    }

    let single_line = |key: &str, value: &str, problems: &mut Vec<Problem>| {
        if value.chars().any(char::is_control) {
            problems.push(
                Problem::new(
                    src,
                    doc.spans.value_span(&field_pointer(doc, at, key)),
                    format!(
                        "{} contains a control character (newline, tab, …)",
                        toml_path(&push_pointer(at, key))
                    ),
                    "GitLab cannot use this",
                )
                .with_help("write it on one line without control characters"),
            );
        }
    };
    single_line("as", &prefix, problems);
    if prefix.starts_with('.') || prefix.trim() != prefix {
        problems.push(
            Problem::new(
                src,
                doc.spans.value_span(&field_pointer(doc, at, "as")),
                format!("job prefix {prefix:?} cannot be used"),
                "job prefix",
            )
            .with_help(
                "GitLab hides jobs whose names start with `.` and trims surrounding spaces; \
                 start with a letter or digit",
            ),
        );
    }
    for (key, v) in [
        ("image", m.image.as_deref()),
        ("image_registry_base", m.image_registry_base.as_deref()),
        ("requirements_file", m.requirements_file.as_deref()),
        ("training_script", m.training_script.as_deref()),
        ("data_path", m.data_path.as_deref()),
        ("metric_name", m.metric_name.as_deref()),
    ] {
        if let Some(v) = v {
            single_line(key, v, problems);
        }
    }
    if let Some(req) = &m.requirements_file {
        if req.contains('$') {
            problems.push(
                Problem::new(
                    src,
                    doc.spans.value_span(&field_pointer(doc, at, "requirements_file")),
                    "`requirements_file` cannot use variables: it keys the cache, and GitLab does not expand `cache:key:files`",
                    "contains `$`",
                )
                .with_help("write the path literally"),
            );
        }
    }
    let tags = stage_tags(m.tags.as_ref());
    for tag in tags.iter().flatten() {
        if tag.trim().is_empty() || tag.chars().any(char::is_control) {
            problems.push(
                Problem::new(
                    src,
                    doc.spans.value_span(&field_pointer(doc, at, "tags")),
                    format!("invalid runner tag {tag:?}"),
                    "tag",
                )
                .with_help("tags are non-empty, single-line strings"),
            );
        }
    }
    let changes = m.changes.clone().unwrap_or_default();
    for c in &changes {
        if c.starts_with("./")
            || c.contains("//")
            || c.is_empty()
            || c.chars().any(char::is_control)
        {
            problems.push(
                Problem::new(
                    src,
                    doc.spans.value_span(&field_pointer(doc, at, "changes")),
                    format!("`changes` entry {c:?} never matches: GitLab compares paths exactly"),
                    "path",
                )
                .with_help("write paths relative to the repository root, without `./` or `//`"),
            );
        }
    }

    let training_args = match &m.training_args {
        None => Vec::new(),
        Some(Args::List(list)) => list.clone(),
        Some(Args::Line(line)) => {
            if let Some(words) = shlex::split(line) {
                words
            } else {
                problems.push(
                    Problem::new(
                        src,
                        doc.spans
                            .value_span(&field_pointer(doc, at, "training_args")),
                        "`training_args` has an unterminated quote",
                        "cannot split",
                    )
                    .with_help("close the quote, or write the arguments as a list of strings"),
                );
                Vec::new()
            }
        }
    };

    if problems.len() > before {
        return None;
    }
    let framework = m.framework?;
    let image = m.image.clone().unwrap_or_else(|| {
        let base = m
            .image_registry_base
            .clone()
            .unwrap_or_else(|| DEFAULT_IMAGE_BASE.to_owned());
        format!(
            "{}/{}{}:{}",
            base.trim_end_matches('/'),
            framework.image(),
            m.image_suffix.clone().unwrap_or_default(),
            crate::VERSION
        )
    });
    let dvc = m.dvc_enabled.unwrap_or(false).then(|| Dvc {
        remote: m.dvc_remote.clone(),
        files: m.dvc_files.clone().unwrap_or_default(),
        push: m.dvc_push.unwrap_or(false),
        push_paths: m.dvc_push_paths.clone().unwrap_or_default(),
    });
    Some(Model {
        name: name.to_owned(),
        prefix,
        training_script: m.training_script.clone()?,
        training_args,
        data_path: m.data_path.clone()?,
        framework,
        metric_name: m.metric_name.clone()?,
        min_threshold: m.min_threshold?,
        higher_is_better: m.higher_is_better.unwrap_or(true),
        alias: m.alias.clone().unwrap_or_else(|| "staging".to_owned()),
        experiment_name: m.experiment_name.clone(),
        enable_drift,
        reference_data_path: m.reference_data_path.clone(),
        image,
        requirements_file: m.requirements_file.clone(),
        tags,
        dvc,
        changes,
        validation: m.validation.clone().unwrap_or_default(),
        compare: m.compare.clone(),
    })
}

/// The pointer of a model's key, or of the `[defaults]` key it inherited.
fn field_pointer(doc: &Document, at: &str, key: &str) -> String {
    let own = push_pointer(at, key);
    if doc.spans.get(&own).is_some() {
        return own;
    }
    let inherited = push_pointer("/defaults", key);
    if doc.spans.get(&inherited).is_some() {
        inherited
    } else {
        own
    }
}

fn stage_tags(tags: Option<&Tags>) -> PerStage<Vec<String>> {
    PerStage(match tags {
        None => Default::default(),
        Some(Tags::All(all)) => [all.clone(), all.clone(), all.clone(), all.clone()],
        Some(Tags::PerStage(s)) => [
            s.validate.clone().unwrap_or_default(),
            s.train.clone().unwrap_or_default(),
            s.evaluate.clone().unwrap_or_default(),
            s.register.clone().unwrap_or_default(),
        ],
    })
}
