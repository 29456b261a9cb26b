//! How many child pipelines a project needs, and which models each holds. A child pipeline
//! must fit GitLab's limits ([`crate::gitlab::capacity`]) on every instance we support, so
//! each is kept within a margin of the oldest defaults: [`CHILD_BYTES`] (90 % of the 1 MiB of
//! older releases, as [`deep_size::measure`] counts) and [`CHILD_DEPLOYMENTS`] (90 % of the
//! 500 deployment jobs of `ci_pipeline_deployments`).
//!
//! The split is [`super::shard`]'s: deterministic, whole models, the same model in the same
//! child while the count holds. `[pipeline] child_pipelines` forces the count (and is refused
//! when the models do not fit in that many).
//!
//! Shard `k` of `n` (from 1) is written to `<stem>-k.<ext>` next to the `-o` path and
//! triggered by `mlops-pipeline-k`; a single child keeps the names of before sharding
//! (`mlops-child.yml`, `mlops-pipeline`).

use std::path::{Path, PathBuf};

use super::lower::{self, LowerOptions};
use super::shard::{self, Budget, Cost};
use crate::config::Project;
use crate::gitlab::deep_size;
use crate::gitlab::limits::{MAX_DEPLOYMENTS, OLD_MAX_YAML_SIZE};
use crate::stage::Stage;

/// The parsed size one child may reach: 90 % of the 1 MiB older GitLab releases accept.
pub const CHILD_BYTES: u64 = OLD_MAX_YAML_SIZE / 10 * 9;
/// The deployment jobs one child may hold: 90 % of GitLab's default plan limit.
pub const CHILD_DEPLOYMENTS: u64 = MAX_DEPLOYMENTS as u64 / 10 * 9;
/// What a top-level entry adds to the root hash of a large file, at most: a 24-byte entry
/// and two bins of up to 2 bytes for a capacity of up to twice the entries
/// ([`deep_size`]'s `st_table`), rounded up.
const ENTRY: u64 = 64;

/// Why the models cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// One model alone is more than a child may hold.
    #[error(transparent)]
    TooBig(#[from] shard::TooBig),
    /// `[pipeline] child_pipelines` is smaller than the models need.
    #[error(
        "`pipeline.child_pipelines = {forced}` is too few: child pipeline {shard} would need {bytes} bytes and {deployments} deployment jobs, more than one may hold ({CHILD_BYTES} bytes, {CHILD_DEPLOYMENTS} deployments)"
    )]
    TooFew {
        /// The forced count.
        forced: usize,
        /// The first shard that does not fit (from 1).
        shard: usize,
        /// Its bytes.
        bytes: u64,
        /// Its deployments.
        deployments: u64,
        /// The count the limits require.
        needed: usize,
    },
}

/// The model names of each child pipeline, in file order.
pub type Plan = Vec<Vec<String>>;

/// What each model of `project` costs in a child pipeline, and the fixed part of a child.
pub fn costs(project: &Project, opts: &LowerOptions) -> (Vec<Cost>, u64) {
    let full = lower::lower(project, opts);
    let costs = project
        .models
        .iter()
        .map(|m| {
            let mut cost = Cost {
                name: m.name.clone(),
                bytes: 0,
                deployments: 0,
            };
            for stage in Stage::ALL {
                let name = lower::job_name(m, stage);
                let Some(job) = full.jobs.get(&name) else {
                    continue;
                };
                let json = serde_json::to_value(job).unwrap_or_default();
                let key = serde_json::Value::String(name);
                cost.bytes += deep_size::measure_json(&json).bytes
                    + deep_size::measure_json(&key).bytes
                    + ENTRY;
                cost.deployments += u64::from(job.environment.is_some());
            }
            cost
        })
        .collect();
    let empty = Project {
        models: vec![],
        ..project.clone()
    };
    let fixed = serde_json::to_value(lower::lower(&empty, opts)).unwrap_or_default();
    (costs, deep_size::measure_json(&fixed).bytes + ENTRY)
}

/// Splits the models into child pipelines within the margins of the module note.
pub fn plan(project: &Project, opts: &LowerOptions) -> Result<Plan, PlanError> {
    let (costs, fixed) = costs(project, opts);
    let budget = Budget {
        bytes: CHILD_BYTES.saturating_sub(fixed),
        deployments: CHILD_DEPLOYMENTS,
    };
    let auto = shard::split(&costs, budget)?;
    let names = |shards: Vec<Vec<usize>>| -> Plan {
        shards
            .into_iter()
            .map(|s| s.into_iter().map(|i| costs[i].name.clone()).collect())
            .collect()
    };
    let Some(forced) = project
        .config
        .pipeline
        .as_ref()
        .and_then(|p| p.child_pipelines)
    else {
        return Ok(names(auto));
    };
    let n = forced as usize;
    let mut shards = vec![Vec::new(); n];
    let mut used = vec![(0u64, 0u64); n];
    for (i, c) in costs.iter().enumerate() {
        let k = shard::shard_of(&c.name, n);
        shards[k].push(i);
        used[k].0 += c.bytes;
        used[k].1 += c.deployments;
    }
    if let Some((k, (bytes, deployments))) = used
        .iter()
        .enumerate()
        .find(|(_, (b, d))| *b > budget.bytes || *d > budget.deployments)
    {
        return Err(PlanError::TooFew {
            forced: n,
            shard: k + 1,
            bytes: bytes + fixed,
            deployments: *deployments,
            needed: auto.len(),
        });
    }
    Ok(names(shards))
}

/// The path of child `k` (from 1) of `n`, next to `output`.
pub fn shard_path(output: &Path, k: usize, n: usize) -> PathBuf {
    if n == 1 {
        return output.to_path_buf();
    }
    let stem = output.file_stem().map_or_else(
        || "mlops-child".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    let name = match output.extension() {
        Some(ext) => format!("{stem}-{k}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{k}"),
    };
    output.with_file_name(name)
}

/// The trigger job of child `k` (from 1) of `n`.
pub fn trigger_job(k: usize, n: usize) -> String {
    if n == 1 {
        super::child::TRIGGER_JOB.to_owned()
    } else {
        format!("{}-{k}", super::child::TRIGGER_JOB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_shards() {
        let out = Path::new("mlops-child.yml");
        assert_eq!(shard_path(out, 1, 1), PathBuf::from("mlops-child.yml"));
        assert_eq!(shard_path(out, 2, 3), PathBuf::from("mlops-child-2.yml"));
        assert_eq!(shard_path(Path::new("ci/x"), 1, 2), PathBuf::from("ci/x-1"));
        assert_eq!(trigger_job(1, 1), "mlops-pipeline");
        assert_eq!(trigger_job(3, 3), "mlops-pipeline-3");
    }
}
