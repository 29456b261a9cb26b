//! `compile::lower`: a resolved [`Project`] → the GitLab CI [`Pipeline`]. Pure: no I/O.
//!
//! Per model: `validate → train → evaluate → register`, chained by `needs` so models run in
//! parallel. Thresholds and paths stay out of the YAML: each job runs
//! `mlops run <stage> --model <name>`, which reads them from `mlops.toml` at run time.

use indexmap::IndexMap;

use crate::config::raw::InstallMode;
use crate::config::resolved::DEFAULT_IMAGE_BASE;
use crate::config::{Model, Project};
use crate::gitlab::expose;
use crate::gitlab::ir::{
    Artifacts, AutoCancel, Cache, CacheKey, Defaults, Environment, Job, Need, Pipeline, Reports,
    Retry, Rule, Workflow,
};
use crate::gitlab::limits::MAX_RETRY;
use crate::stage::Stage;

/// The runtime's temporary-failure exit code, which generated jobs retry.
pub const TEMPFAIL: i32 = 75;
/// Failure types GitLab retries: infrastructure, never the script.
pub const RETRY_WHEN: [&str; 5] = [
    "runner_system_failure",
    "stuck_or_timeout_failure",
    "api_failure",
    "scheduler_failure",
    "data_integrity_failure",
];
/// The merge request link to a model's report page: this, then the model name.
pub const REPORT_LINK: &str = "mlops report ";
/// The variable that carries the structural fingerprint.
pub const FINGERPRINT_VAR: &str = "MLOPS_FINGERPRINT";

/// Options that come from the command line rather than the config.
#[derive(Debug, Clone)]
pub struct LowerOptions {
    /// The config path the jobs read, relative to the repository root.
    pub config_path: String,
}

impl Default for LowerOptions {
    fn default() -> Self {
        Self {
            config_path: "mlops.toml".to_owned(),
        }
    }
}

/// The job name of a model's stage.
pub fn job_name(model: &Model, stage: Stage) -> String {
    format!("{}:{stage}", model.prefix)
}

/// Lowers the project to a pipeline. The fingerprint variable is left empty; the caller
/// fills it from the emitted text.
pub fn lower(project: &Project, opts: &LowerOptions) -> Pipeline {
    let mut variables = IndexMap::new();
    variables.insert("MLOPS_VERSION".to_owned(), crate::VERSION.to_owned());
    variables.insert("MLOPS_CONFIG".to_owned(), opts.config_path.clone());
    variables.insert(FINGERPRINT_VAR.to_owned(), String::new());
    variables.insert(
        "PIP_CACHE_DIR".to_owned(),
        "$CI_PROJECT_DIR/.cache/pip".to_owned(),
    );
    variables.insert(
        "UV_CACHE_DIR".to_owned(),
        "$CI_PROJECT_DIR/.cache/uv".to_owned(),
    );

    let mut jobs = IndexMap::new();
    for model in &project.models {
        for stage in Stage::ALL {
            jobs.insert(job_name(model, stage), stage_job(project, model, stage));
        }
    }
    Pipeline {
        workflow: Some(Workflow {
            name: None,
            auto_cancel: Some(AutoCancel {
                on_new_commit: "interruptible".to_owned(),
            }),
        }),
        default: Some(Defaults {
            before_script: install_script(project),
            retry: Some(Retry {
                max: MAX_RETRY,
                when: RETRY_WHEN.iter().map(|s| (*s).to_owned()).collect(),
                exit_codes: vec![TEMPFAIL],
            }),
            interruptible: Some(true),
        }),
        stages: Stage::ALL.iter().map(|s| s.name().to_owned()).collect(),
        variables,
        jobs,
    }
}

fn report_dir(project: &Project, model: &Model) -> String {
    format!("{}/{}", project.report_dir, model.name)
}

/// The slim image runs stages that need no Python: it carries only the binary. It is used
/// only when the images bring the binary (`install = "image"`): the other install modes need
/// Python or curl in every job.
fn image_for(project: &Project, model: &Model, stage: Stage) -> String {
    let images_bring_binary = matches!(project.runtime.install, None | Some(InstallMode::Image));
    let needs_python = stage == Stage::Train
        || (stage == Stage::Validate
            && model
                .validation
                .checks
                .as_ref()
                .is_some_and(|c| !c.is_empty()));
    if needs_python || !images_bring_binary || !model.image.starts_with(DEFAULT_IMAGE_BASE) {
        model.image.clone()
    } else {
        format!("{DEFAULT_IMAGE_BASE}/slim:{}", crate::VERSION)
    }
}

fn stage_job(project: &Project, model: &Model, stage: Stage) -> Job {
    let dir = report_dir(project, model);
    let needs = stage
        .needs()
        .iter()
        .map(|&n| Need::Job(job_name(model, n)))
        .collect();
    let rules = if model.changes.is_empty() {
        vec![]
    } else {
        vec![Rule {
            if_: None,
            changes: Some(model.changes.clone()),
            when: None,
        }]
    };
    let mut script = Vec::new();
    if stage == Stage::Train {
        if let Some(req) = &model.requirements_file {
            script.push(format!(
                "python3 -m pip install --requirement {}",
                quote(req)
            ));
        }
    }
    script.push(format!("mlops run {stage} --model {}", quote(&model.name)));

    let files = stage.reports();
    let path = |f: Option<&str>| f.map(|f| format!("{dir}/{f}"));
    let reports = Reports {
        dotenv: path(files.dotenv),
        junit: path(files.junit),
        metrics: path(files.metrics),
        annotations: path(files.annotations),
    };

    let mut cache = Vec::new();
    if stage == Stage::Train {
        cache.push(Cache {
            key: match &model.requirements_file {
                Some(req) => CacheKey::Files {
                    files: vec![req.clone()],
                    prefix: format!("{}-pip", model.name),
                },
                None => CacheKey::Name(format!("{}-pip", model.name)),
            },
            paths: vec![".cache/pip".to_owned(), ".cache/uv".to_owned()],
            policy: Some("pull-push".to_owned()),
            when: None,
        });
    }
    // Validate and train both pull DVC-tracked data, so both share the model's DVC cache.
    if model.dvc.is_some() && matches!(stage, Stage::Train | Stage::Validate) {
        cache.push(Cache {
            key: CacheKey::Name(format!("{}-dvc", model.name)),
            paths: vec![".dvc/cache".to_owned()],
            policy: Some("pull-push".to_owned()),
            when: Some("always".to_owned()),
        });
    }

    let register = stage == Stage::Register;
    Job {
        stage: Some(stage.name().to_owned()),
        image: Some(image_for(project, model, stage)),
        tags: model.tags[stage].clone(),
        needs: Some(needs),
        rules,
        variables: IndexMap::new(),
        before_script: vec![],
        script,
        cache,
        artifacts: Some(Artifacts {
            when: Some("always".to_owned()),
            expire_in: Some(project.artifacts_expire_in.clone()),
            // The directory, not the page alone: later jobs need the other reports, so the
            // merge request link opens the job's artifacts (docs/pipeline.md).
            expose_as: files.page.map(|_| expose::label(REPORT_LINK, &model.name)),
            paths: vec![format!("{dir}/")],
            reports: Some(reports),
        }),
        environment: register.then(|| Environment {
            name: format!("{}/{}", project.environment_prefix, model.name),
            url: Some("$CI_PROJECT_URL/-/ml/models".to_owned()),
            action: None,
        }),
        resource_group: register.then(|| format!("mlops-register-{}", model.name)),
        retry: None,
        // A half-done registration must never be cancelled by a newer commit.
        interruptible: register.then_some(false),
        trigger: None,
    }
}

/// The `before_script` that puts the pinned runtime on `PATH`, per `[runtime] install`.
fn install_script(project: &Project) -> Vec<String> {
    let rt = &project.runtime;
    match rt.install.unwrap_or(InstallMode::Image) {
        InstallMode::Image => vec![],
        InstallMode::Preinstalled => vec!["mlops --version".to_owned()],
        InstallMode::Pip => vec![format!(
            "python3 -m pip install {}",
            quote(&format!("{}=={}", crate::PYPI_NAME, crate::VERSION))
        )],
        InstallMode::Url => {
            let url = rt.url.clone().unwrap_or_default();
            let sha = rt.sha256.clone().unwrap_or_default();
            vec![
                "mkdir -p \"$CI_PROJECT_DIR/.mlops/bin\"".to_owned(),
                format!(
                    "curl --fail --silent --show-error --location --retry 2 --output \"$CI_PROJECT_DIR/.mlops/bin/mlops\" {}",
                    quote(&url)
                ),
                // Absolute path: an earlier line may have changed directory. `sha` is schema-checked
                // hex, so it needs no quoting inside the double quotes.
                format!(
                    "echo \"{sha}  $CI_PROJECT_DIR/.mlops/bin/mlops\" | sha256sum --check --strict -"
                ),
                "chmod +x \"$CI_PROJECT_DIR/.mlops/bin/mlops\"".to_owned(),
                "export PATH=\"$CI_PROJECT_DIR/.mlops/bin:$PATH\"".to_owned(),
            ]
        }
    }
}

/// POSIX-shell quoting for one word of a `script:` line.
pub fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(
        |_| format!("'{}'", word.replace('\'', "'\\''")),
        std::borrow::Cow::into_owned,
    )
}
