//! The MLflow REST shapes the runtime reads (MLflow's `mlflow/protos/service.proto`; GitLab's
//! subset in `docs/gitlab.md`). Unknown fields are ignored and missing ones default, because GitLab
//! sends fewer than MLflow.

use serde::{Deserialize, Serialize};

/// A key/value tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

impl Tag {
    /// A tag.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Finds a tag's value.
pub fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .rev()
        .find(|t| t.key == key)
        .map(|t| t.value.as_str())
}

/// An experiment.
#[derive(Debug, Clone, Deserialize)]
pub struct Experiment {
    /// Its id (a per-project iid on GitLab).
    pub experiment_id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
}

/// One logged metric row. MLflow's `runs/get` sends the latest row per key; GitLab's sends
/// every row it holds (`lib/api/entities/ml/mlflow/run.rb`), so readers pick the latest
/// themselves ([`Run::metric`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Metric {
    /// Key.
    pub key: String,
    /// Value.
    pub value: f64,
    /// Step.
    #[serde(default)]
    pub step: i64,
    /// When it was logged, in milliseconds since the epoch.
    #[serde(default)]
    pub timestamp: i64,
}

impl Metric {
    /// MLflow's order for "latest": the highest step, then the latest timestamp, then the
    /// largest value (`SqlAlchemyStore._update_latest_metrics_if_necessary` in
    /// `mlflow/store/tracking/sqlalchemy_store.py`).
    fn is_later_than(&self, other: &Metric) -> bool {
        (self.step, self.timestamp)
            .cmp(&(other.step, other.timestamp))
            .then_with(|| self.value.total_cmp(&other.value))
            .is_gt()
    }
}

/// `run.info`.
#[derive(Debug, Clone, Deserialize)]
pub struct RunInfo {
    /// The run id.
    #[serde(default)]
    pub run_id: String,
    /// The run id under its old name (some servers send only this one).
    #[serde(default)]
    pub run_uuid: String,
    /// Its experiment.
    #[serde(default)]
    pub experiment_id: String,
    /// `RUNNING`, `FINISHED`, `FAILED`, `KILLED` or `SCHEDULED`.
    #[serde(default)]
    pub status: String,
    /// Where artifacts go.
    #[serde(default)]
    pub artifact_uri: String,
}

/// `run.data`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunData {
    /// Metric rows: the latest per key (MLflow), or every row (GitLab).
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// One logged model among a run's outputs (MLflow 3).
#[derive(Debug, Clone, Deserialize)]
pub struct ModelOutput {
    /// `m-<id>`.
    pub model_id: String,
}

/// `run.outputs`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunOutputs {
    /// Logged models.
    #[serde(default)]
    pub model_outputs: Vec<ModelOutput>,
}

/// A run.
#[derive(Debug, Clone, Deserialize)]
pub struct Run {
    /// Info.
    pub info: RunInfo,
    /// Metrics and tags.
    #[serde(default)]
    pub data: RunData,
    /// Logged models (absent on GitLab).
    #[serde(default)]
    pub outputs: Option<RunOutputs>,
}

impl RunInfo {
    /// The id, from whichever field the server filled.
    pub fn id(&self) -> &str {
        if self.run_id.is_empty() {
            &self.run_uuid
        } else {
            &self.run_id
        }
    }
}

impl Run {
    /// A metric's latest value, whether the server sent one row per key or every row.
    pub fn metric(&self, key: &str) -> Option<f64> {
        self.data
            .metrics
            .iter()
            .filter(|m| m.key == key)
            .fold(None, |best: Option<&Metric>, m| match best {
                Some(b) if !m.is_later_than(b) => Some(b),
                _ => Some(m),
            })
            .map(|m| m.value)
    }

    /// Every metric's latest value, sorted by name.
    pub fn latest_metrics(&self) -> Vec<(String, f64)> {
        self.metric_names()
            .into_iter()
            .filter_map(|k| self.metric(&k).map(|v| (k, v)))
            .collect()
    }

    /// Metric names, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.data.metrics.iter().map(|m| m.key.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// An alias entry of a registered model (MLflow).
#[derive(Debug, Clone, Deserialize)]
pub struct AliasEntry {
    /// The alias.
    pub alias: String,
    /// The version it points at.
    pub version: String,
}

/// A registered model.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisteredModel {
    /// Name.
    pub name: String,
    /// Aliases (MLflow only).
    #[serde(default)]
    pub aliases: Vec<AliasEntry>,
}

/// A model version.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModelVersion {
    /// Model name.
    #[serde(default)]
    pub name: String,
    /// The version: `"1"`, `"2"` on MLflow; the model-version **id** on GitLab.
    pub version: String,
    /// The run it came from (may be empty on GitLab).
    #[serde(default)]
    pub run_id: String,
    /// The source URI.
    #[serde(default)]
    pub source: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// MLflow: the aliases pointing here. GitLab: `[<semver>]`.
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: &[(&str, f64, i64, i64)]) -> Run {
        Run {
            info: serde_json::from_str(r#"{"run_id": "r"}"#).unwrap(),
            data: RunData {
                metrics: rows
                    .iter()
                    .map(|&(key, value, step, timestamp)| Metric {
                        key: key.to_owned(),
                        value,
                        step,
                        timestamp,
                    })
                    .collect(),
                tags: Vec::new(),
            },
            outputs: None,
        }
    }

    #[test]
    fn the_latest_row_wins_by_step_then_time_then_value() {
        // Every row, in any order (GitLab before `latest_metrics`).
        let r = run(&[
            ("acc", 0.95, 0, 10),
            ("acc", 0.4, 2, 5),
            ("loss", 1.0, 0, 1),
            ("acc", 0.9, 1, 20),
        ]);
        assert_eq!(r.metric("acc"), Some(0.4));
        let r = run(&[("acc", 0.7, 3, 20), ("acc", 0.6, 3, 10)]);
        assert_eq!(r.metric("acc"), Some(0.7), "same step: the later timestamp");
        let r = run(&[("acc", 0.1, 3, 10), ("acc", 0.8, 3, 10)]);
        assert_eq!(
            r.metric("acc"),
            Some(0.8),
            "a full tie: the larger value, as MLflow"
        );
        assert_eq!(r.metric("f1"), None);
        let r = run(&[("b", 1.0, 0, 0), ("a", 2.0, 0, 0), ("b", 3.0, 1, 0)]);
        assert_eq!(
            r.latest_metrics(),
            [("a".to_owned(), 2.0), ("b".to_owned(), 3.0)]
        );
    }
}
