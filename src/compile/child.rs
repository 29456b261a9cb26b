//! Child pipelines. `mlops compile --child-pipeline` writes a small parent: a
//! `mlops-generate` job compiles `mlops.toml` in CI into artifacts, one per child pipeline,
//! and one trigger job per child runs it (`trigger:include:artifact`, `strategy: depend`).
//! The parent depends on the version, the options and the number of children
//! ([`super::children`]) only, so editing `mlops.toml` needs no change to the committed YAML
//! unless the number of children changes; the generate job gets the number it was written
//! for (`MLOPS_CHILD_PIPELINES`) and fails with the command to run when the models now need another.
//!
//! With `--changed-only` the generate job keeps only the models whose files changed
//! ([`changed_models`]); when none did it emits a single no-op job ([`no_change_pipeline`]),
//! because GitLab rejects an empty pipeline. Filtered children carry no `MLOPS_FINGERPRINT`:
//! they differ from a full compile on purpose and are generated in the same pipeline that
//! runs them, so they cannot be stale.
//!
//! Everything here is pure; the CLI runs `git diff`.

use std::path::Path;

use indexmap::IndexMap;

use super::children;
use super::lower::{self, LowerOptions};
use crate::config::resolved::DEFAULT_IMAGE_BASE;
use crate::config::{Model, Project};
use crate::gitlab::glob::path_matches;
use crate::gitlab::ir::{Artifacts, Job, Need, Pipeline, Trigger, TriggerInclude};

/// The artifact the generate job writes and the trigger job includes.
pub const CHILD_FILE: &str = "mlops-child.yml";
/// The job that compiles the child pipeline. (No `:` in the name: gitlab-ci-local 4.75
/// cannot find the artifact of a `trigger:include:job` whose name has one.)
pub const GENERATE_JOB: &str = "mlops-generate";
/// The job that triggers it.
pub const TRIGGER_JOB: &str = "mlops-pipeline";
/// The generate job's variable that holds the number of child pipelines the parent
/// triggers: `mlops compile` reads it (`--shards`) and fails when the models need another.
pub const SHARDS_VAR: &str = "MLOPS_CHILD_PIPELINES";
/// The job of a child pipeline in which no model changed.
pub const NO_CHANGE_JOB: &str = "mlops-no-model-changed";

/// Options of the parent pipeline.
#[derive(Debug, Clone, Default)]
pub struct ParentOptions {
    /// Lowering options (the config path the generate job compiles).
    pub lower: LowerOptions,
    /// Pass `--changed-only` to the generate job.
    pub changed_only: bool,
    /// The number of child pipelines ([`super::children::plan`]).
    pub shards: usize,
}

/// The image of jobs that need only the binary.
pub fn slim_image() -> String {
    format!("{DEFAULT_IMAGE_BASE}/slim:{}", crate::VERSION)
}

/// The parent pipeline. It uses the project only for `[runtime]` (how the binary gets into
/// the job), which is the same for every model.
pub fn parent(project: &Project, opts: &ParentOptions) -> Pipeline {
    // Only the model-independent parts are used: lower no model.
    let full = lower::lower(
        &Project {
            models: vec![],
            ..project.clone()
        },
        &opts.lower,
    );
    let mut command = vec!["mlops".to_owned(), "compile".to_owned()];
    if opts.lower.config_path != "mlops.toml" {
        command.extend(["-c".to_owned(), lower::quote(&opts.lower.config_path)]);
    }
    command.extend(["-o".to_owned(), CHILD_FILE.to_owned()]);
    if opts.changed_only {
        command.push("--changed-only".to_owned());
    }
    let n = opts.shards.max(1);
    let files: Vec<String> = (1..=n)
        .map(|k| {
            children::shard_path(Path::new(CHILD_FILE), k, n)
                .display()
                .to_string()
        })
        .collect();
    let mut variables = IndexMap::new();
    variables.insert("MLOPS_VERSION".to_owned(), crate::VERSION.to_owned());
    variables.insert("MLOPS_CONFIG".to_owned(), opts.lower.config_path.clone());

    let mut jobs = IndexMap::new();
    jobs.insert(
        GENERATE_JOB.to_owned(),
        Job {
            stage: Some("generate".to_owned()),
            image: Some(slim_image()),
            needs: Some(vec![]),
            variables: IndexMap::from([(SHARDS_VAR.to_owned(), n.to_string())]),
            script: vec![command.join(" ")],
            artifacts: Some(Artifacts {
                when: None,
                expire_in: Some(project.artifacts_expire_in.clone()),
                expose_as: None,
                paths: files.clone(),
                reports: None,
            }),
            ..Job::default()
        },
    );
    for (k, file) in files.into_iter().enumerate() {
        jobs.insert(
            children::trigger_job(k + 1, n),
            Job {
                stage: Some("pipeline".to_owned()),
                needs: Some(vec![Need::Job(GENERATE_JOB.to_owned())]),
                trigger: Some(Trigger {
                    include: vec![TriggerInclude {
                        artifact: file,
                        job: GENERATE_JOB.to_owned(),
                    }],
                    strategy: "depend".to_owned(),
                }),
                ..Job::default()
            },
        );
    }
    // The parent has no `default:`: a trigger job takes neither `before_script` nor a
    // `retry` with exit codes, so the runtime install and retries go on the generate job.
    if let (Some(job), Some(d)) = (jobs.get_mut(GENERATE_JOB), full.default) {
        job.before_script = d.before_script;
        job.retry = d.retry;
        job.interruptible = d.interruptible;
    }
    Pipeline {
        workflow: full.workflow,
        default: None,
        stages: vec!["generate".to_owned(), "pipeline".to_owned()],
        variables,
        jobs,
    }
}

/// The paths and globs that decide whether a model changed: its `changes`, or when empty its
/// script, data, reference data, requirements, expectations suite and the config file.
pub fn model_files(model: &Model, config_path: &str) -> Vec<String> {
    if !model.changes.is_empty() {
        return model.changes.clone();
    }
    let mut files = vec![model.training_script.clone(), model.data_path.clone()];
    files.extend(model.reference_data_path.clone());
    files.extend(model.requirements_file.clone());
    files.extend(model.validation.expectations.clone());
    files.push(config_path.to_owned());
    files
}

/// The models (by name, in file order) touched by `changed` paths.
pub fn changed_models(project: &Project, changed: &[String], config_path: &str) -> Vec<String> {
    project
        .models
        .iter()
        .filter(|m| {
            let patterns = model_files(m, config_path);
            changed
                .iter()
                .any(|path| patterns.iter().any(|p| path_matches(p, path)))
        })
        .map(|m| m.name.clone())
        .collect()
}

/// The child pipeline when no model changed: one job that says so.
pub fn no_change_pipeline(project: &Project, opts: &LowerOptions, base: &str) -> Pipeline {
    noop_pipeline(
        project,
        opts,
        &format!("no model changed since {base}: nothing to train"),
    )
}

/// A child pipeline of one job that echoes `message` (GitLab refuses an empty pipeline).
pub fn noop_pipeline(project: &Project, opts: &LowerOptions, message: &str) -> Pipeline {
    let empty = Project {
        models: vec![],
        ..project.clone()
    };
    let mut p = lower::lower(&empty, opts);
    p.variables.shift_remove(lower::FINGERPRINT_VAR);
    p.jobs.insert(
        NO_CHANGE_JOB.to_owned(),
        Job {
            stage: Some("validate".to_owned()),
            image: Some(slim_image()),
            needs: Some(vec![]),
            script: vec![format!("echo {}", lower::quote(message))],
            ..Job::default()
        },
    );
    p
}

/// The child pipeline for some models only, without the fingerprint (see the module note).
pub fn filtered_pipeline(project: &Project, opts: &LowerOptions, keep: &[String]) -> Pipeline {
    let filtered = Project {
        models: project
            .models
            .iter()
            .filter(|m| keep.contains(&m.name))
            .cloned()
            .collect(),
        ..project.clone()
    };
    let mut p = lower::lower(&filtered, opts);
    p.variables.shift_remove(lower::FINGERPRINT_VAR);
    // A merge request links the exposed artifacts of its own pipeline's jobs only, never a
    // child's (docs/pipeline.md, "The report link"); a shard of many models would only
    // overrun the ten links it could show.
    for job in p.jobs.values_mut() {
        if let Some(a) = &mut job.artifacts {
            a.expose_as = None;
        }
    }
    p
}
