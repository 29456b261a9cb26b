//! `mlops compile --shards=N -o FILE`: what a parent pipeline's generate job runs in CI. It
//! splits the models as `mlops compile --child-pipeline` did when it wrote the parent
//! ([`children::plan`]), writes child `k` of `N` to [`children::shard_path`], each checked as
//! GitLab will read it, and fails with the command to run when `mlops.toml` now needs another
//! number of children than the committed parent triggers.

use crate::compile::child;
use crate::compile::children::{self, Plan};
use crate::compile::{CompileOptions, LowerOptions, finish, generate};
use crate::config::{Project, display_path};
use crate::exit::Exit;

use super::compile::{CompileArgs, changed_files, plan_hint, verified};
use super::report;

/// Runs `mlops compile --shards=N`.
pub fn run(project: &Project, args: &CompileArgs, lower: &LowerOptions, n: usize) -> Exit {
    let plan = match children::plan(project, lower) {
        Ok(p) => p,
        Err(e) => {
            report::error(&e.to_string(), Some(plan_hint(&e)));
            return Exit::Error;
        }
    };
    if plan.len() != n {
        let mut cmd = "mlops compile --child-pipeline".to_owned();
        if args.changed_only {
            cmd.push_str(" --changed-only");
        }
        if lower.config_path != "mlops.toml" {
            cmd.push_str(" -c ");
            cmd.push_str(&crate::compile::lower::quote(&lower.config_path));
        }
        report::error(
            &format!(
                "the parent pipeline triggers {n} child pipeline{}, but the models of `{}` now need {}",
                if n == 1 { "" } else { "s" },
                lower.config_path,
                plan.len()
            ),
            Some(&format!(
                "run `{cmd}` and commit the parent pipeline it writes"
            )),
        );
        return Exit::Failure;
    }
    let changed = changed(project, args, lower);
    let keep = changed.as_ref().map(|(_, keep)| keep.clone());
    let base = changed.map(|(base, _)| base).unwrap_or_default();
    for (k, models) in plan.iter().enumerate() {
        let path = children::shard_path(&args.output, k + 1, n);
        let out = display_path(&path);
        let Some(compiled) = shard(project, lower, &plan, k, keep.as_deref(), &base) else {
            return Exit::Error;
        };
        if !verified(&compiled, &out) {
            return Exit::Error;
        }
        if let Err(e) = crate::atomic::write(&path, &compiled.text) {
            report::error(&format!("cannot write `{out}`: {e}"), None);
            return Exit::Error;
        }
        eprintln!(
            "wrote `{out}` ({} of {} models, {} jobs)",
            models
                .iter()
                .filter(|m| keep.as_ref().is_none_or(|k| k.contains(m)))
                .count(),
            models.len(),
            compiled.pipeline.jobs.len()
        );
    }
    Exit::Success
}

/// The base commit and the models to keep under `--changed-only`; `None` keeps all.
fn changed(
    project: &Project,
    args: &CompileArgs,
    lower: &LowerOptions,
) -> Option<(String, Vec<String>)> {
    if !args.changed_only {
        return None;
    }
    match changed_files() {
        Err(why) => {
            eprintln!("--changed-only: {why}; keeping all models");
            None
        }
        Ok((base, files)) => {
            let keep = child::changed_models(project, &files, &lower.config_path);
            if keep.is_empty() {
                eprintln!("--changed-only: no model changed since {base}");
            } else {
                eprintln!(
                    "--changed-only: {} of {} models changed since {base}",
                    keep.len(),
                    project.models.len()
                );
            }
            Some((base, keep))
        }
    }
}

/// Child `k` of the plan, with only the kept models; a child left with none holds one no-op
/// job, because GitLab refuses an empty pipeline.
fn shard(
    project: &Project,
    lower: &LowerOptions,
    plan: &Plan,
    k: usize,
    keep: Option<&[String]>,
    base: &str,
) -> Option<crate::compile::Compiled> {
    let n = plan.len();
    let render = |e: crate::compile::InternalError| eprint!("{}", report::render(&e));
    let models: Vec<String> = plan[k]
        .iter()
        .filter(|m| keep.is_none_or(|kept| kept.contains(m)))
        .cloned()
        .collect();
    if n == 1 && keep.is_none() {
        // One child of every model: the whole pipeline, as before sharding.
        return generate(
            project,
            &CompileOptions {
                lower: lower.clone(),
            },
        )
        .map_err(render)
        .ok();
    }
    let (mut p, command) = if plan[k].is_empty() {
        let msg = format!("no model is in child pipeline {} of {n}", k + 1);
        (child::noop_pipeline(project, lower, &msg), "mlops compile")
    } else if models.is_empty() {
        let p = if n == 1 {
            child::no_change_pipeline(project, lower, base)
        } else {
            let msg = format!(
                "no model of child pipeline {} of {n} changed since {base}: nothing to train",
                k + 1
            );
            child::noop_pipeline(project, lower, &msg)
        };
        (p, "mlops compile --changed-only")
    } else {
        let command = if keep.is_some() {
            "mlops compile --changed-only"
        } else {
            "mlops compile"
        };
        (child::filtered_pipeline(project, lower, &models), command)
    };
    finish(&mut p, &lower.config_path, command)
        .map_err(render)
        .ok()
}
