//! `compile::lower`: a resolved [`Project`] → the GitLab CI [`Pipeline`]. Pure: no I/O.
//!
//! Per model: `validate → train → evaluate → register` and, when enabled, a manual
//! `promote`, chained by `needs` so models run in parallel. Thresholds and paths stay out of
//! the YAML: each job runs `mlops run <stage> --model <name>`, which reads them from
//! `mlops.toml` at run time. Which pipelines register and promote is decided by `rules` when
//! GitLab creates the pipeline, from predefined variables only (`docs/pipeline.md`,
//! "Pipelines per event").

use indexmap::IndexMap;

use crate::config::raw::{InstallMode, RegisterOn};
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
            if stage == Stage::Promote && !model.promote {
                continue;
            }
            jobs.insert(job_name(model, stage), stage_job(project, model, stage));
        }
    }
    Pipeline {
        workflow: Some(Workflow {
            name: None,
            rules: workflow_rules(),
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
        stages: Stage::ALL
            .iter()
            .filter(|s| **s != Stage::Promote || project.models.iter().any(|m| m.promote))
            .map(|s| s.name().to_owned())
            .collect(),
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
    let rules = job_rules(project.register_on, model, stage);
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
    let promote = stage == Stage::Promote;
    Job {
        stage: Some(stage.name().to_owned()),
        image: Some(image_for(project, model, stage)),
        tags: model.tags[stage].clone(),
        needs: Some(needs),
        rules,
        // An unplayed manual job must not leave the pipeline (and, through `strategy: depend`,
        // a child's trigger job) blocked: most default-branch pipelines are never promoted.
        allow_failure: promote.then_some(true),
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
        environment: environment(project, model, stage),
        // Register and promote both move the model's aliases (on GitLab, a read-modify-write
        // of the emulated alias table), so they share one resource group per model.
        resource_group: (register || promote).then(|| format!("mlops-register-{}", model.name)),
        retry: None,
        // A half-done registration or promotion must never be cancelled by a newer commit.
        interruptible: (register || promote).then_some(false),
        trigger: None,
    }
}

/// The environment of register (`<prefix>/<model>`) and promote
/// (`<prefix>/<model>/<production alias>`, tier `production`): each promote job is a
/// deployment, so GitLab's environment page lists them and its Rollback re-runs an older one.
fn environment(project: &Project, model: &Model, stage: Stage) -> Option<Environment> {
    let base = format!("{}/{}", project.environment_prefix, model.name);
    match stage {
        Stage::Register => Some(Environment {
            name: base,
            url: Some("$CI_PROJECT_URL/-/ml/models".to_owned()),
            deployment_tier: None,
            action: None,
        }),
        Stage::Promote => Some(Environment {
            name: format!("{base}/{}", model.production_alias()),
            url: Some("$CI_PROJECT_URL/-/ml/models".to_owned()),
            deployment_tier: Some("production".to_owned()),
            action: Some("start".to_owned()),
        }),
        _ => None,
    }
}

/// The default branch's pipelines: `$CI_COMMIT_BRANCH` is unset in merge request pipelines
/// (and their child pipelines) and in tag pipelines, so this never matches there.
pub const ON_DEFAULT_BRANCH: &str = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH";
/// Tag pipelines (and their child pipelines).
pub const ON_TAG: &str = "$CI_COMMIT_TAG";

/// `workflow:rules`: GitLab's documented switch between branch and merge request pipelines
/// (`doc/ci/yaml/workflow.md`, "Switch between branch pipelines and merge request
/// pipelines"): a merge request pipeline when an MR is open, else a branch pipeline, never
/// both. Child pipelines (`parent_pipeline`, whatever their parent was) and tag pipelines run
/// too.
fn workflow_rules() -> Vec<Rule> {
    let when_if = |cond: &str, when: Option<&str>| Rule {
        if_: Some(cond.to_owned()),
        changes: None,
        when: when.map(str::to_owned),
    };
    vec![
        when_if("$CI_PIPELINE_SOURCE == \"parent_pipeline\"", None),
        when_if("$CI_PIPELINE_SOURCE == \"merge_request_event\"", None),
        when_if(
            "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS",
            Some("never"),
        ),
        when_if("$CI_COMMIT_BRANCH", None),
        when_if(ON_TAG, None),
    ]
}

/// A job's `rules`. Validate, train and evaluate run in every pipeline (when the model's
/// `changes` match). Register runs where `register_on` says, promote on the default branch
/// (and tags when register runs there), as a manual job. `if` and `changes` in one rule must
/// both hold, so `changes` is repeated in each rule; a job with no matching rule is not in
/// the pipeline at all.
fn job_rules(register_on: RegisterOn, model: &Model, stage: Stage) -> Vec<Rule> {
    let changes = (!model.changes.is_empty()).then(|| model.changes.clone());
    let gated: &[&str] = match (stage, register_on) {
        (Stage::Validate | Stage::Train | Stage::Evaluate, _)
        | (Stage::Register, RegisterOn::EveryPipeline) => &[],
        (Stage::Register | Stage::Promote, RegisterOn::DefaultBranch) => &[ON_DEFAULT_BRANCH],
        (Stage::Register, RegisterOn::DefaultBranchAndTags)
        | (Stage::Promote, RegisterOn::DefaultBranchAndTags | RegisterOn::EveryPipeline) => {
            &[ON_DEFAULT_BRANCH, ON_TAG]
        }
    };
    let when = (stage == Stage::Promote).then(|| "manual".to_owned());
    if gated.is_empty() {
        return changes
            .map(|c| Rule {
                if_: None,
                changes: Some(c),
                when: None,
            })
            .into_iter()
            .collect();
    }
    gated
        .iter()
        .map(|cond| Rule {
            if_: Some((*cond).to_owned()),
            changes: changes.clone(),
            when: when.clone(),
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn test_model() -> Model {
        let text = "mlops-version = \"0.1.0\"\n\n[model.wine]\nframework = \"sklearn\"\ntraining_script = \"train.py\"\ndata_path = \"d.csv\"\nmetric_name = \"accuracy\"\nmin_threshold = 0.85\n";
        let source = crate::config::Source::new("mlops.toml", text);
        crate::config::load_project(&source).expect("valid").models[0].clone()
    }

    fn gates(
        on: RegisterOn,
        model: &Model,
        stage: Stage,
    ) -> Vec<(Option<String>, bool, Option<String>)> {
        job_rules(on, model, stage)
            .into_iter()
            .map(|r| (r.if_, r.changes.is_some(), r.when))
            .collect()
    }

    #[test]
    fn register_and_promote_follow_register_on() {
        let mut model = test_model();
        let on_default = (Some(ON_DEFAULT_BRANCH.to_owned()), false, None);
        let on_tag = (Some(ON_TAG.to_owned()), false, None);
        let manual = |(c, ch, _): &(Option<String>, bool, Option<String>)| {
            (c.clone(), *ch, Some("manual".to_owned()))
        };
        for stage in [Stage::Validate, Stage::Train, Stage::Evaluate] {
            assert!(gates(RegisterOn::DefaultBranch, &model, stage).is_empty());
        }
        assert_eq!(
            gates(RegisterOn::DefaultBranch, &model, Stage::Register),
            std::slice::from_ref(&on_default)
        );
        assert_eq!(
            gates(RegisterOn::DefaultBranch, &model, Stage::Promote),
            [manual(&on_default)]
        );
        assert_eq!(
            gates(RegisterOn::DefaultBranchAndTags, &model, Stage::Register),
            [on_default.clone(), on_tag.clone()]
        );
        assert!(gates(RegisterOn::EveryPipeline, &model, Stage::Register).is_empty());
        // Promote never leaves the default branch and tags, whatever register does.
        assert_eq!(
            gates(RegisterOn::EveryPipeline, &model, Stage::Promote),
            [manual(&on_default), manual(&on_tag)]
        );
        // `changes` joins every rule: `if` and `changes` must both hold.
        model.changes = vec!["data/**".to_owned()];
        assert_eq!(
            gates(RegisterOn::DefaultBranchAndTags, &model, Stage::Register),
            [
                (Some(ON_DEFAULT_BRANCH.to_owned()), true, None),
                (Some(ON_TAG.to_owned()), true, None)
            ]
        );
        assert_eq!(
            gates(RegisterOn::EveryPipeline, &model, Stage::Register),
            [(None, true, None)]
        );
        assert_eq!(
            gates(RegisterOn::DefaultBranch, &model, Stage::Train),
            [(None, true, None)]
        );
    }
}
