//! `runs/create` without orphans. The request is not idempotent: when its answer is lost, a
//! blind retry makes a second run and the first stays RUNNING for ever. Each call therefore
//! tags its run with an attempt id ([`ATTEMPT_TAG`]) and, after a failure whose effect is
//! unknown, looks for that id before it creates again; a run that still appears twice (the
//! server finished the first request after the lookup) is marked KILLED as an orphan.
//!
//! The lookup is `runs/search`: on MLflow with a tag filter; on GitLab, which serves
//! `runs/search` for one experiment without `filter` and without tags in its answer
//! (`lib/api/ml/mlflow/runs.rb`, `lib/api/entities/ml/mlflow/search_runs.rb`), by the
//! request's `start_time` among the newest runs, confirmed with `runs/get`.

use serde_json::{Value, json};

use super::client::Client;
use super::error::MlflowError;
use super::flavour::Flavour;
use super::tracking::RunStatus;
use super::types::{RunInfo, tag};
use crate::runtime::log;

/// The run tag holding the id of the `runs/create` call that made the run.
pub const ATTEMPT_TAG: &str = "mlops.attempt_id";

/// How many of the newest GitLab runs the lookup reads.
const GITLAB_LOOKUP: u32 = 50;

/// An id for one call: the clock and the process, enough to tell concurrent jobs apart.
fn attempt_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// Creates the run `body` describes (its `tags` get the attempt id), retrying per the
/// connection's policy, and never leaves a second run behind unnoticed.
pub(super) fn create_once(
    client: &Client,
    experiment_id: &str,
    mut body: Value,
) -> Result<RunInfo, MlflowError> {
    let id = attempt_id();
    if let Some(tags) = body["tags"].as_array_mut() {
        tags.push(json!({"key": ATTEMPT_TAG, "value": id}));
    }
    let start = body["start_time"].as_i64().unwrap_or(0);
    let mut tries = 0u32;
    loop {
        tries += 1;
        match client.post_create_run(&body) {
            Ok(info) => {
                if tries > 1 {
                    end_orphans(client, experiment_id, start, &id, &info.run_id);
                }
                return Ok(info);
            }
            Err(e) if e.is_unavailable() => {
                log::warn(&format!(
                    "MLflow `runs/create`: {e}; checking whether the run was created"
                ));
                if let Some(info) = find(client, experiment_id, start, &id)?.into_iter().next() {
                    log::info(&format!(
                        "found run {} from the unanswered request",
                        info.run_id
                    ));
                    return Ok(info);
                }
                if tries > client.connection().retry.max_retries {
                    return Err(e);
                }
                client.pause("runs/create", tries)?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Marks every run of this attempt but `keep` KILLED; problems are warnings only.
fn end_orphans(client: &Client, experiment_id: &str, start: i64, id: &str, keep: &str) {
    let Ok(found) = find(client, experiment_id, start, id) else {
        return;
    };
    for orphan in found.iter().filter(|r| r.run_id != keep) {
        match client.finish_run(&orphan.run_id, RunStatus::Killed) {
            Ok(()) => log::warn(&format!(
                "run {} was created by a request whose answer was lost; it is marked KILLED (run {keep} is used)",
                orphan.run_id
            )),
            Err(e) => log::warn(&format!(
                "run {} is an orphan of a lost answer and could not be marked KILLED: {e}",
                orphan.run_id
            )),
        }
    }
}

/// The runs of experiment `experiment_id` tagged with attempt `id`, oldest first.
fn find(
    client: &Client,
    experiment_id: &str,
    start: i64,
    id: &str,
) -> Result<Vec<RunInfo>, MlflowError> {
    let mut found = match client.flavour() {
        Flavour::Mlflow => {
            let answer = client.call_search(&json!({
                "experiment_ids": [experiment_id],
                "filter": format!("tags.`{ATTEMPT_TAG}` = '{id}'"),
                "max_results": 10,
            }))?;
            runs(&answer)
                .into_iter()
                .map(|(info, _)| info)
                .collect::<Vec<_>>()
        }
        Flavour::Gitlab => {
            let answer = client.call_search(&json!({
                "experiment_ids": [experiment_id],
                "max_results": GITLAB_LOOKUP,
            }))?;
            let mut ours = Vec::new();
            for (info, start_time) in runs(&answer) {
                if start_time != Some(start) {
                    continue;
                }
                let run = client.get_run(&info.run_id)?;
                if tag(&run.data.tags, ATTEMPT_TAG) == Some(id) {
                    ours.push(info);
                }
            }
            ours
        }
    };
    found.reverse();
    Ok(found)
}

/// The runs of a `runs/search` answer, with their `start_time`. GitLab wraps each in `run`
/// (its `Entities::Ml::Mlflow::Run`), MLflow does not.
fn runs(answer: &Value) -> Vec<(RunInfo, Option<i64>)> {
    answer["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let r = r.get("run").unwrap_or(r);
            let start = r["info"]["start_time"]
                .as_i64()
                .or_else(|| r["info"]["start_time"].as_str()?.parse().ok());
            let mut info: RunInfo = serde_json::from_value(r["info"].clone()).ok()?;
            info.run_id = info.id().to_owned();
            Some((info, start))
        })
        .collect()
}
