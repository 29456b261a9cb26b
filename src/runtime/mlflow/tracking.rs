//! Experiments and runs.

use serde::Deserialize;
use serde_json::json;

use super::client::{Client, Retry};
use super::error::MlflowError;
use super::types::{Experiment, Run, RunInfo, Tag};

#[derive(Deserialize)]
struct ExperimentEnvelope {
    experiment: Experiment,
}
#[derive(Deserialize)]
struct Created {
    experiment_id: String,
}
#[derive(Deserialize)]
struct RunEnvelope {
    run: Run,
}

/// A run's final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Exit 0.
    Finished,
    /// The script crashed.
    Failed,
    /// Stopped by a signal.
    Killed,
}

impl RunStatus {
    /// MLflow's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }
}

/// Milliseconds since the epoch, as MLflow timestamps are.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Client {
    /// The experiment called `name`, created when missing.
    pub fn get_or_create_experiment(&self, name: &str) -> Result<Experiment, MlflowError> {
        match self
            .get::<ExperimentEnvelope>("experiments/get-by-name", &[("experiment_name", name)])
        {
            Ok(e) => return Ok(e.experiment),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        match self.post::<Created>("experiments/create", &json!({ "name": name }), Retry::Yes) {
            Ok(c) => Ok(Experiment {
                experiment_id: c.experiment_id,
                name: name.to_owned(),
            }),
            // A parallel job, or a retried create whose first answer was lost.
            Err(e) if e.is_already_exists() => self
                .get::<ExperimentEnvelope>("experiments/get-by-name", &[("experiment_name", name)])
                .map(|e| e.experiment),
            Err(e) => Err(e),
        }
    }

    /// Creates a run.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: Option<&str>,
        tags: &[Tag],
    ) -> Result<RunInfo, MlflowError> {
        let body = json!({ "experiment_id": experiment_id, "start_time": now_ms(), "tags": tags });
        let mut body = body;
        if let Some(n) = run_name {
            body["run_name"] = json!(n);
        }
        super::attempt::create_once(self, experiment_id, body)
    }

    /// One `runs/create` request, no retry: the caller checks what happened first.
    pub(super) fn post_create_run(&self, body: &serde_json::Value) -> Result<RunInfo, MlflowError> {
        self.post::<RunEnvelope>("runs/create", body, Retry::No)
            .map(|r| {
                let mut info = r.run.info;
                info.run_id = info.id().to_owned();
                info
            })
    }

    /// Sets a run's final status and end time.
    pub fn finish_run(&self, run_id: &str, status: RunStatus) -> Result<(), MlflowError> {
        let body = json!({ "run_id": run_id, "run_uuid": run_id, "status": status.as_str(), "end_time": now_ms() });
        self.post::<serde_json::Value>("runs/update", &body, Retry::Yes)
            .map(|_| ())
    }

    /// Whether the run has any artifact under `path` (`artifacts/list`).
    pub fn has_artifacts(&self, run_id: &str, path: &str) -> Result<bool, MlflowError> {
        let v: serde_json::Value = self.get(
            "artifacts/list",
            &[("run_id", run_id), ("run_uuid", run_id), ("path", path)],
        )?;
        Ok(v["files"].as_array().is_some_and(|f| !f.is_empty()))
    }

    /// A run with its metrics, tags and outputs.
    pub fn get_run(&self, run_id: &str) -> Result<Run, MlflowError> {
        self.get::<RunEnvelope>("runs/get", &[("run_id", run_id)])
            .map(|r| r.run)
    }

    /// Sets one run tag. GitLab refuses to set a key twice (400 `INVALID_PARAMETER_VALUE`,
    /// `Ml::CandidateMetadata`'s uniqueness), so a retry whose first answer was lost finds the
    /// tag set already: that is success when the value is the one being set.
    pub fn set_run_tag(&self, run_id: &str, key: &str, value: &str) -> Result<(), MlflowError> {
        let body = json!({ "run_id": run_id, "run_uuid": run_id, "key": key, "value": value });
        match self.post::<serde_json::Value>("runs/set-tag", &body, Retry::Yes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_code() == Some("INVALID_PARAMETER_VALUE") => {
                let run = self.get_run(run_id)?;
                match super::types::tag(&run.data.tags, key) {
                    Some(v) if v == value => Ok(()),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}
