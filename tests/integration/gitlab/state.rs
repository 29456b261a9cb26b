//! What the replica stores: one project's experiments, candidates (runs), models, model
//! versions and packages, shaped like GitLab's tables (`app/models/ml/*.rb` at the commits
//! named in [`super`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Generation;

/// `ml_experiments`.
pub struct Experiment {
    /// Per-project iid, the MLflow `experiment_id`.
    pub iid: u64,
    /// Unique per project (`validates :name, uniqueness: { scope: :project }`).
    pub name: String,
    /// Set for a model's default experiment `[model]<name>`.
    pub model: Option<String>,
    /// `metadata`.
    pub tags: Vec<(String, String)>,
}

impl Experiment {
    /// `Ml::Experiment#package_name`: the model's name for a model's default experiment,
    /// otherwise `ml_experiment_<iid>` (`app/models/ml/experiment.rb`).
    pub fn package_name(&self) -> String {
        self.model
            .clone()
            .unwrap_or_else(|| format!("ml_experiment_{}", self.iid))
    }
}

/// One metric row (`ml_candidate_metrics`: every `log-metric` call adds one).
#[derive(Clone)]
pub struct MetricRow {
    /// Name.
    pub key: String,
    /// Value.
    pub value: f64,
    /// `tracked_at`, in milliseconds.
    pub timestamp: i64,
    /// Step.
    pub step: i64,
}

/// `packages_packages`: the kinds the ML features use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PackageKind {
    /// `generic`: legacy run artifacts.
    Generic,
    /// `ml_model`: a run's or a model version's files.
    MlModel,
}

/// A package and its files. A file may be uploaded twice under one name: GitLab keeps both
/// package files, and a download returns the newest.
pub struct Package {
    /// Kind.
    pub kind: PackageKind,
    /// Name.
    pub name: String,
    /// Version (`candidate_<iid>`, a candidate iid, or a SemVer).
    pub version: String,
    /// Files in upload order.
    pub files: Vec<(String, Vec<u8>)>,
}

/// `ml_candidates`.
pub struct Candidate {
    /// The UUID run id.
    pub eid: String,
    /// Per-project iid (`internal_id`).
    pub iid: u64,
    /// Its experiment's iid.
    pub experiment: u64,
    /// `RUNNING`, `FINISHED`, ...
    pub status: String,
    /// Start, in milliseconds.
    pub start_time: i64,
    /// End, when set.
    pub end_time: Option<i64>,
    /// `run_name`.
    pub name: Option<String>,
    /// Metric rows in insertion order.
    pub metrics: Vec<MetricRow>,
    /// Params (unique names).
    pub params: Vec<(String, String)>,
    /// Tags (`metadata`, unique names).
    pub tags: Vec<(String, String)>,
    /// Index into [`State::packages`].
    pub package: Option<usize>,
    /// The model version this candidate belongs to (its id).
    pub model_version: Option<u64>,
    /// The CI job it is linked to (`gitlab.CI_JOB_ID`).
    pub ci_build: Option<u64>,
}

/// `ml_models`.
pub struct Model {
    /// Name (unique per project).
    pub name: String,
    /// Description.
    pub description: String,
}

/// `ml_model_versions`.
pub struct ModelVersion {
    /// Database id, the MLflow `version` field.
    pub id: u64,
    /// The model's name.
    pub model: String,
    /// SemVer.
    pub version: String,
    /// Description.
    pub description: String,
    /// `metadata`.
    pub tags: Vec<(String, String)>,
    /// Index into [`State::packages`].
    pub package: Option<usize>,
}

/// The project's data.
pub struct State {
    /// Which GitLab the replica plays.
    pub generation: Generation,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Experiments in creation order.
    pub experiments: Vec<Experiment>,
    /// Candidates in creation order (iid = index + 1).
    pub candidates: Vec<Candidate>,
    /// Models.
    pub models: Vec<Model>,
    /// Versions (id = 100 + index).
    pub versions: Vec<ModelVersion>,
    /// Packages.
    pub packages: Vec<Package>,
    /// The plan limit `ml_model_max_file_size`, in bytes.
    pub max_file_size: u64,
    /// CI builds that exist; `None`: every id names a build (as in a real pipeline).
    pub builds: Option<Vec<u64>>,
    /// Requests for routes GitLab lacks.
    pub unsupported: Vec<String>,
    /// Requests whose answer is lost (`"<METHOD> <part of the path>"`), each once.
    pub lose: Vec<String>,
    /// Merge requests and their notes.
    pub notes: super::notes::Notes,
    /// Every request received (`"<METHOD> <path>"`).
    pub requests: Vec<String>,
}

impl State {
    pub fn new(generation: Generation, base: String) -> Self {
        Self {
            generation,
            base,
            experiments: Vec::new(),
            candidates: Vec::new(),
            models: Vec::new(),
            versions: Vec::new(),
            packages: Vec::new(),
            // `ml_model_max_file_size bigint DEFAULT '10737418240'` (db/structure.sql).
            max_file_size: 10 * 1024 * 1024 * 1024,
            builds: None,
            unsupported: Vec::new(),
            lose: Vec::new(),
            notes: super::notes::Notes::default(),
            requests: Vec::new(),
        }
    }

    pub fn experiment(&self, iid: u64) -> Option<&Experiment> {
        self.experiments.iter().find(|e| e.iid == iid)
    }

    pub fn create_experiment(&mut self, name: &str, model: Option<&str>) -> Option<u64> {
        if self.experiments.iter().any(|e| e.name == name) {
            return None;
        }
        let iid = self.experiments.len() as u64 + 1;
        self.experiments.push(Experiment {
            iid,
            name: name.to_owned(),
            model: model.map(str::to_owned),
            tags: Vec::new(),
        });
        Some(iid)
    }

    /// `candidate_repository.create!`; a run (`runs/create`) of the legacy generation starts
    /// with its generic package.
    pub fn create_candidate(&mut self, experiment: u64, start_time: i64, run: bool) -> usize {
        let iid = self.candidates.len() as u64 + 1;
        let package = (run && self.generation == Generation::Legacy).then(|| {
            let name = self.experiment(experiment).map(Experiment::package_name);
            self.add_package(
                PackageKind::Generic,
                &name.unwrap_or_default(),
                &iid.to_string(),
            )
        });
        self.candidates.push(Candidate {
            eid: uuid(iid),
            iid,
            experiment,
            status: "RUNNING".into(),
            start_time,
            end_time: None,
            name: None,
            metrics: Vec::new(),
            params: Vec::new(),
            tags: Vec::new(),
            package,
            model_version: None,
            ci_build: None,
        });
        self.candidates.len() - 1
    }

    pub fn add_package(&mut self, kind: PackageKind, name: &str, version: &str) -> usize {
        self.packages.push(Package {
            kind,
            name: name.to_owned(),
            version: version.to_owned(),
            files: Vec::new(),
        });
        self.packages.len() - 1
    }

    pub fn candidate_by_eid(&self, eid: &str) -> Option<usize> {
        self.candidates.iter().position(|c| c.eid == eid)
    }

    pub fn version_by_id(&self, id: u64) -> Option<usize> {
        self.versions.iter().position(|v| v.id == id)
    }

    pub fn latest_version(&self, model: &str) -> Option<&ModelVersion> {
        self.versions
            .iter()
            .filter(|v| v.model == model)
            .max_by_key(|v| semver_key(&v.version))
    }

    /// `API::Entities::Ml::Mlflow::RunInfo#artifact_uri` (`run_info.rb` @ 55eb439f for
    /// [`Generation::Current`]; the generic branch, also in @ de09f039, for legacy runs).
    fn artifact_uri(&self, c: &Candidate) -> String {
        let package = c.package.map(|p| &self.packages[p]);
        let packages = format!("{}/api/v4/projects/1/packages", self.base);
        if let Some(p) = package.filter(|p| p.kind == PackageKind::Generic) {
            return format!("{packages}/generic/{}/{}/", p.name, p.version);
        }
        if let Some(mv) = c.model_version {
            return format!("{packages}/ml_models/{mv}/files/");
        }
        if self.generation == Generation::Current
            && package.is_some_and(|p| p.version.starts_with("candidate_"))
        {
            return format!("mlflow-artifacts:/candidate:{}", c.iid);
        }
        format!("{packages}/ml_models/candidate:{}/files/", c.iid)
    }

    /// `RunInfo`.
    pub fn run_info(&self, i: usize) -> Value {
        let c = &self.candidates[i];
        let mut v = json!({
            "run_id": c.eid, "run_uuid": c.eid, "experiment_id": c.experiment.to_string(),
            "start_time": c.start_time, "status": c.status,
            "artifact_uri": self.artifact_uri(c), "lifecycle_stage": "active", "user_id": "1",
        });
        if let Some(e) = c.end_time {
            v["end_time"] = json!(e);
        }
        if let Some(n) = &c.name {
            v["run_name"] = json!(n);
        }
        v
    }

    /// `Run`: every metric row (`run.rb` @ 5afcbe03, legacy) or the last row logged per key,
    /// ordered by name (`latest_metrics`, `run.rb` @ 55eb439f and `candidate_metric.rb`
    /// @ 7021455b: `DISTINCT ON (candidate_id, name) … ORDER BY candidate_id, name, id DESC`).
    pub fn run(&self, i: usize) -> Value {
        let c = &self.candidates[i];
        let rows: Vec<&MetricRow> = match self.generation {
            Generation::Legacy => c.metrics.iter().collect(),
            Generation::Current => {
                let mut latest: BTreeMap<&str, &MetricRow> = BTreeMap::new();
                for m in &c.metrics {
                    latest.insert(&m.key, m);
                }
                latest.into_values().collect()
            }
        };
        let metrics: Vec<Value> = rows
            .iter()
            .map(|m| json!({"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}))
            .collect();
        json!({
            "info": self.run_info(i),
            "data": {"metrics": metrics, "params": kv(&c.params), "tags": kv(&c.tags)},
        })
    }

    /// `API::Entities::Ml::Mlflow::ModelVersion` (`model_version.rb` @ 55eb439f).
    pub fn version_entity(&self, i: usize) -> Value {
        let v = &self.versions[i];
        let own = self
            .candidates
            .iter()
            .find(|c| c.model_version == Some(v.id))
            .map(|c| c.eid.clone())
            .unwrap_or_default();
        json!({
            "name": v.model, "version": v.id.to_string(), "creation_timestamp": 0,
            "last_updated_timestamp": 0, "user_id": null, "current_stage": "development",
            "description": v.description,
            "source": format!("{}/group/project/-/ml/models/1/versions/{}", self.base, v.id),
            "run_id": own, "status": "READY", "status_message": "", "tags": kv(&v.tags),
            "run_link": "", "aliases": [v.version],
        })
    }
}

/// `[{key, value}]`, the `KeyValue` entity.
pub fn kv(pairs: &[(String, String)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

/// A UUID-shaped run id (`attribute :eid, default: -> { SecureRandom.uuid }`).
fn uuid(n: u64) -> String {
    format!("6f1c2d3e-4b5a-4c6d-8e7f-{n:012x}")
}

/// Orders SemVer strings by major, minor, patch.
pub fn semver_key(v: &str) -> (u64, u64, u64) {
    let mut p = v
        .split(['.', '-', '+'])
        .map(|x| x.parse::<u64>().unwrap_or(0));
    (
        p.next().unwrap_or(0),
        p.next().unwrap_or(0),
        p.next().unwrap_or(0),
    )
}

/// `Packages::SemVer.match` (strict semver.org, no `v`).
pub fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}
