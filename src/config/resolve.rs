//! `config::resolve`: the raw config → the resolved [`Project`]. `[defaults]` are merged into
//! each model, then come the rules the schema cannot express: required keys after merging,
//! unique job names within GitLab's limits, the version pin, strings GitLab cannot hold.
//! Every problem is collected; none stops the others.

use std::ops::Range;

use indexmap::IndexMap;

use super::diagnostic::Problem;
use super::load::Document;
use super::pointer::{push_pointer, toml_path};
use super::raw::{Args, Config, InstallMode, ModelSettings, RegisterOn, Runtime, Tags};
use super::resolved::{DEFAULT_IMAGE_BASE, Dvc, Model, Project};
use crate::gitlab::limits::MAX_NAME;
use crate::stage::{PerStage, Stage};

/// Merges defaults and checks what the schema cannot.
pub fn resolve(doc: &Document, config: Config) -> Result<Project, Vec<Problem>> {
    let mut problems = Vec::new();
    check_version_pin(doc, &config, &mut problems);
    let models = resolve_models(doc, &config, &mut problems);
    let runtime = config.runtime.clone().unwrap_or_default();
    check_runtime(doc, &runtime, &mut problems);
    super::values::check(doc, &config, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let pipeline = config.pipeline.clone().unwrap_or_default();
    Ok(Project {
        models,
        report_dir: pipeline
            .report_dir
            .unwrap_or_else(|| "mlops-reports".to_owned()),
        environment_prefix: pipeline
            .environment_prefix
            .unwrap_or_else(|| "models".to_owned()),
        register_on: pipeline.register_on.unwrap_or(RegisterOn::DefaultBranch),
        artifacts_expire_in: pipeline
            .artifacts_expire_in
            .unwrap_or_else(|| "30 days".to_owned()),
        runtime,
        config,
    })
}

fn check_version_pin(doc: &Document, config: &Config, problems: &mut Vec<Problem>) {
    if config.mlops_version == crate::VERSION {
        return;
    }
    problems.push(
        Problem::new(
            &doc.source,
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

fn check_runtime(doc: &Document, runtime: &Runtime, problems: &mut Vec<Problem>) {
    if runtime.install == Some(InstallMode::Url)
        && (runtime.url.is_none() || runtime.sha256.is_none())
    {
        problems.push(
            Problem::new(
                &doc.source,
                doc.spans.key_span("/runtime"),
                "`install = \"url\"` needs both `url` and `sha256`",
                "incomplete",
            )
            .with_help("add `url = \"https://…\"` and `sha256 = \"<64 hex digits>\"`"),
        );
    }
}

/// Every model that resolves, in file order; two models may not share a job prefix.
fn resolve_models(doc: &Document, config: &Config, problems: &mut Vec<Problem>) -> Vec<Model> {
    let defaults = config.defaults.clone().unwrap_or_default();
    let mut models = Vec::new();
    let mut prefixes: IndexMap<String, String> = IndexMap::new();
    for (name, own) in &config.model {
        let at = ModelAt {
            doc,
            pointer: push_pointer("/model", name),
            name,
        };
        let Some(model) = resolve_model(&at, &merge(&defaults, own), problems) else {
            continue;
        };
        if let Some(first) = prefixes.get(&model.prefix) {
            let pointer = if own.job_prefix.is_some() {
                push_pointer(&at.pointer, "as")
            } else {
                at.pointer.clone()
            };
            problems.push(
                Problem::new(
                    &doc.source,
                    doc.spans.key_span(&pointer),
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
    models
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
        train_timeout,
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
        promote,
    );
    // `as` names one model's jobs; a shared default would collide by construction.
    merged.job_prefix.clone_from(&own.job_prefix);
    merged
}

/// One `[model.<name>]` table in the document, for locating its problems.
pub(super) struct ModelAt<'a> {
    pub(super) doc: &'a Document,
    /// `/model/<name>`.
    pub(super) pointer: String,
    pub(super) name: &'a str,
}

impl ModelAt<'_> {
    /// The pointer of a model's key, or of the `[defaults]` key it inherited.
    pub(super) fn field(&self, key: &str) -> String {
        let own = push_pointer(&self.pointer, key);
        if self.doc.spans.get(&own).is_some() {
            return own;
        }
        let inherited = push_pointer("/defaults", key);
        if self.doc.spans.get(&inherited).is_some() {
            inherited
        } else {
            own
        }
    }

    pub(super) fn key_span(&self, key: &str) -> Range<usize> {
        self.doc.spans.key_span(&self.field(key))
    }

    pub(super) fn value_span(&self, key: &str) -> Range<usize> {
        self.doc.spans.value_span(&self.field(key))
    }

    pub(super) fn problem(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Problem {
        Problem::new(&self.doc.source, span, message, label)
    }
}

/// One merged model: every check runs, and the model is built only when none failed.
fn resolve_model(
    at: &ModelAt<'_>,
    m: &ModelSettings,
    problems: &mut Vec<Problem>,
) -> Option<Model> {
    let before = problems.len();
    check_required(at, m, problems);
    check_drift_reference(at, m, problems);
    let prefix = m.job_prefix.clone().unwrap_or_else(|| at.name.to_owned());
    check_job_prefix(at, &prefix, problems);
    check_single_line(at, m, problems);
    check_requirements_literal(at, m, problems);
    let tags = stage_tags(m.tags.as_ref());
    check_tags(at, &tags, problems);
    let changes = m.changes.clone().unwrap_or_default();
    check_changes(at, &changes, problems);
    super::values::check_aliases(at, m, problems);
    super::values::check_registry_base(at, m, problems);
    let training_args = split_training_args(at, m, problems);
    if problems.len() > before {
        return None;
    }
    let framework = m.framework?;
    Some(Model {
        name: at.name.to_owned(),
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
        enable_drift: m.enable_drift.unwrap_or(false),
        reference_data_path: m.reference_data_path.clone(),
        image: image(m, framework.image()),
        requirements_file: m.requirements_file.clone(),
        tags,
        dvc: m.dvc_enabled.unwrap_or(false).then(|| Dvc {
            remote: m.dvc_remote.clone(),
            files: m.dvc_files.clone().unwrap_or_default(),
            push: m.dvc_push.unwrap_or(false),
            push_paths: m.dvc_push_paths.clone().unwrap_or_default(),
        }),
        changes,
        validation: m.validation.clone().unwrap_or_default(),
        compare: m.compare.clone(),
        promote: m
            .promote
            .as_ref()
            .and_then(|p| p.enabled)
            .unwrap_or(m.compare.is_some()),
    })
}

/// The job image: `image`, else the framework image under the registry base.
fn image(m: &ModelSettings, family: &str) -> String {
    m.image.clone().unwrap_or_else(|| {
        let base = m
            .image_registry_base
            .clone()
            .unwrap_or_else(|| DEFAULT_IMAGE_BASE.to_owned());
        format!(
            "{}/{family}{}:{}",
            base.trim_end_matches('/'),
            m.image_suffix.clone().unwrap_or_default(),
            crate::VERSION
        )
    })
}

/// The keys a model needs once `[defaults]` are merged in.
fn check_required(at: &ModelAt<'_>, m: &ModelSettings, problems: &mut Vec<Problem>) {
    let name = at.name;
    let required = [
        ("training_script", m.training_script.is_some()),
        ("data_path", m.data_path.is_some()),
        ("framework", m.framework.is_some()),
        ("metric_name", m.metric_name.is_some()),
        ("min_threshold", m.min_threshold.is_some()),
    ];
    for (key, _) in required.iter().filter(|(_, present)| !present) {
        problems.push(
            at.problem(
                at.doc.spans.key_span(&at.pointer),
                format!("model `{name}` has no `{key}`"),
                "incomplete model",
            )
            .with_help(format!("set `{key}` in [model.{name}] or in [defaults]")),
        );
    }
}

fn check_drift_reference(at: &ModelAt<'_>, m: &ModelSettings, problems: &mut Vec<Problem>) {
    if m.enable_drift.unwrap_or(false) && m.reference_data_path.is_none() {
        problems.push(
            at.problem(
                at.key_span("enable_drift"),
                format!(
                    "model `{}` enables drift but has no `reference_data_path`",
                    at.name
                ),
                "drift needs a reference",
            )
            .with_help("add `reference_data_path = \"data/reference.csv\"`"),
        );
    }
}

/// The prefix must make job names GitLab accepts, keeps and shows.
fn check_job_prefix(at: &ModelAt<'_>, prefix: &str, problems: &mut Vec<Problem>) {
    let longest = format!("{prefix}:{}", Stage::Evaluate);
    if longest.chars().count() > MAX_NAME {
        problems.push(
            at.problem(
                at.key_span("as"),
                format!(
                    "job name `{}…` would be {} characters; GitLab allows {MAX_NAME}",
                    prefix.chars().take(24).collect::<String>(),
                    longest.chars().count()
                ),
                "too long",
            )
            .with_help("set a shorter `as`"),
        );
    }
    check_line(at, "as", prefix, problems);
    if prefix.starts_with('.') || prefix.trim() != prefix {
        problems.push(
            at.problem(
                at.value_span("as"),
                format!("job prefix {prefix:?} cannot be used"),
                "job prefix",
            )
            .with_help(
                "GitLab hides jobs whose names start with `.` and trims surrounding spaces; \
                 start with a letter or digit",
            ),
        );
    }
}

/// Strings that end up on one line of the YAML.
fn check_single_line(at: &ModelAt<'_>, m: &ModelSettings, problems: &mut Vec<Problem>) {
    for (key, v) in [
        ("image", m.image.as_deref()),
        ("image_registry_base", m.image_registry_base.as_deref()),
        ("requirements_file", m.requirements_file.as_deref()),
        ("training_script", m.training_script.as_deref()),
        ("data_path", m.data_path.as_deref()),
        ("metric_name", m.metric_name.as_deref()),
    ] {
        if let Some(v) = v {
            check_line(at, key, v, problems);
        }
    }
}

fn check_line(at: &ModelAt<'_>, key: &str, value: &str, problems: &mut Vec<Problem>) {
    if value.chars().any(char::is_control) {
        problems.push(
            at.problem(
                at.value_span(key),
                format!(
                    "{} contains a control character (newline, tab, …)",
                    toml_path(&push_pointer(&at.pointer, key))
                ),
                "GitLab cannot use this",
            )
            .with_help("write it on one line without control characters"),
        );
    }
}

fn check_requirements_literal(at: &ModelAt<'_>, m: &ModelSettings, problems: &mut Vec<Problem>) {
    if m.requirements_file
        .as_ref()
        .is_some_and(|r| r.contains('$'))
    {
        problems.push(
            at.problem(
                at.value_span("requirements_file"),
                "`requirements_file` cannot use variables: it keys the cache, and GitLab does not expand `cache:key:files`",
                "contains `$`",
            )
            .with_help("write the path literally"),
        );
    }
}

fn check_tags(at: &ModelAt<'_>, tags: &PerStage<Vec<String>>, problems: &mut Vec<Problem>) {
    for tag in tags.iter().flatten() {
        if tag.trim().is_empty() || tag.chars().any(char::is_control) {
            problems.push(
                at.problem(
                    at.value_span("tags"),
                    format!("invalid runner tag {tag:?}"),
                    "tag",
                )
                .with_help("tags are non-empty, single-line strings"),
            );
        }
    }
}

fn check_changes(at: &ModelAt<'_>, changes: &[String], problems: &mut Vec<Problem>) {
    for c in changes {
        if c.starts_with("./")
            || c.starts_with('/')
            || c.contains("//")
            || c.is_empty()
            || c.chars().any(char::is_control)
        {
            problems.push(
                at.problem(
                    at.value_span("changes"),
                    format!("`changes` entry {c:?} never matches: GitLab compares paths exactly"),
                    "path",
                )
                .with_help("write paths relative to the repository root, without `./` or `//`"),
            );
        }
    }
}

/// `training_args` as a list of words; a line is split like a POSIX shell would.
fn split_training_args(
    at: &ModelAt<'_>,
    m: &ModelSettings,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    match &m.training_args {
        None => Vec::new(),
        Some(Args::List(list)) => list.clone(),
        Some(Args::Line(line)) => shlex::split(line).unwrap_or_else(|| {
            problems.push(
                at.problem(
                    at.value_span("training_args"),
                    "`training_args` has an unterminated quote",
                    "cannot split",
                )
                .with_help("close the quote, or write the arguments as a list of strings"),
            );
            Vec::new()
        }),
    }
}

fn stage_tags(tags: Option<&Tags>) -> PerStage<Vec<String>> {
    PerStage(match tags {
        None => Default::default(),
        Some(Tags::All(all)) => std::array::from_fn(|_| all.clone()),
        Some(Tags::PerStage(s)) => [
            s.validate.clone().unwrap_or_default(),
            s.train.clone().unwrap_or_default(),
            s.evaluate.clone().unwrap_or_default(),
            s.register.clone().unwrap_or_default(),
            s.promote.clone().unwrap_or_default(),
        ],
    })
}
