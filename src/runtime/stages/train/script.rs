//! The training script's child process: the Python bootstrap (autolog, and on GitLab the
//! local model save), its environment, and the run tags from the CI context.

use std::ffi::OsString;

use super::{Settings, TrainError};
use crate::config::raw::Framework;
use crate::runtime::context::CiEnv;
use crate::runtime::mlflow::Client;
use crate::runtime::mlflow::packages::Scratch;
use crate::runtime::mlflow::types::Tag;
use crate::runtime::process::{self, Spawn};

/// Run tags from the CI context; only what exists.
pub(super) fn ci_tags(ci: &CiEnv, model: Option<&str>, script: &str) -> Vec<Tag> {
    let mut tags = vec![
        Tag::new("mlflow.source.name", script),
        Tag::new("mlops.version", crate::VERSION),
    ];
    let pairs = [
        ("mlflow.source.git.commit", &ci.commit_sha),
        ("mlops.commit_sha", &ci.commit_sha),
        ("mlflow.source.git.branch", &ci.branch),
        ("mlops.branch", &ci.branch),
        ("mlops.pipeline_id", &ci.pipeline_id),
        ("mlops.pipeline_url", &ci.pipeline_url),
        ("mlops.job_id", &ci.job_id),
        ("mlops.job_url", &ci.job_url),
        // GitLab links the run (candidate) to this CI job.
        ("gitlab.CI_JOB_ID", &ci.job_id),
    ];
    for (k, v) in pairs {
        if let Some(v) = v {
            tags.push(Tag::new(k, v.clone()));
        }
    }
    if let Some(m) = model {
        tags.push(Tag::new("mlops.model", m));
    }
    tags
}

fn python() -> OsString {
    std::env::var_os("MLOPS_PYTHON")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

fn bootstrap(framework: Option<Framework>, gitlab: bool) -> Result<String, minijinja::Error> {
    let ctx = minijinja::context! {
        framework => framework.map(Framework::as_str),
        gitlab => gitlab,
    };
    crate::templates::render("bootstrap.py", ctx)
}

/// Runs the script inside the run, its output prefixed in the log.
pub(super) fn run_script(
    client: &Client,
    settings: &Settings,
    experiment_id: &str,
    run_id: &str,
    model_dir: Option<&Scratch>,
) -> Result<process::Outcome, TrainError> {
    let bootstrap = bootstrap(settings.framework, model_dir.is_some())
        .map_err(|e| TrainError::Bootstrap(e.to_string()))?;
    let mut argv: Vec<OsString> = vec![
        "-c".into(),
        bootstrap.into(),
        settings.script.clone().into(),
    ];
    argv.extend(settings.args.iter().map(OsString::from));
    let mut env = client.connection().child_env();
    env.push(("MLFLOW_RUN_ID".into(), run_id.to_owned()));
    env.push(("MLFLOW_EXPERIMENT_ID".into(), experiment_id.to_owned()));
    env.push(("PYTHONUNBUFFERED".into(), "1".into()));
    if let Some(dir) = model_dir {
        env.push((
            "MLOPS_MODEL_DIR".into(),
            dir.path().to_string_lossy().into_owned(),
        ));
    }
    let spec = Spawn {
        program: python().into(),
        args: argv,
        env,
        prefix: "│ ".into(),
        timeout: settings.timeout,
    };
    process::run(&spec).map_err(|e| {
        let python = python().to_string_lossy().into_owned();
        if e.kind() == std::io::ErrorKind::NotFound {
            TrainError::PythonNotFound(python)
        } else {
            TrainError::PythonStart {
                python,
                detail: e.to_string(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_renders_for_every_framework_and_flavour() {
        for gitlab in [false, true] {
            let plain = bootstrap(None, gitlab).unwrap();
            assert!(plain.contains("runpy.run_path"));
            assert_eq!(plain.contains("MLOPS_MODEL_DIR\"]"), gitlab);
            for f in Framework::ALL {
                let text = bootstrap(Some(f), gitlab).unwrap();
                assert!(text.contains(&format!("mlflow.{}.autolog", f.as_str())));
                assert_eq!(text.contains("\"log_datasets\": False"), gitlab);
                assert_eq!(text.contains("_save_instead_of_log(_flavor)"), gitlab);
            }
        }
    }
}
