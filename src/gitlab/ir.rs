//! The GitLab CI model the compiler emits. It mirrors GitLab keywords one to one; the order
//! of struct fields is the order of keys in the emitted YAML.

use indexmap::IndexMap;
use serde::Serialize;

/// A whole `.gitlab-ci.yml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pipeline {
    /// `workflow:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Workflow>,
    /// `default:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Defaults>,
    /// `stages:`.
    pub stages: Vec<String>,
    /// Global `variables:`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub variables: IndexMap<String, String>,
    /// Jobs, in emission order.
    #[serde(flatten)]
    pub jobs: IndexMap<String, Job>,
}

/// `default:`: keywords every job inherits unless it sets its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Defaults {
    /// `before_script:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub before_script: Vec<String>,
    /// `retry:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// `interruptible:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interruptible: Option<bool>,
}

/// `workflow:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Workflow {
    /// `workflow:name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `workflow:rules`: which pipelines are created at all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// `workflow:auto_cancel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_cancel: Option<AutoCancel>,
}

/// `workflow:auto_cancel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AutoCancel {
    /// `on_new_commit`.
    pub on_new_commit: String,
}

/// One job.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Job {
    /// `stage:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// `image:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `tags:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `needs:`; `Some(vec![])` is the explicit `needs: []`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<Need>>,
    /// `rules:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// `allow_failure:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_failure: Option<bool>,
    /// Job `variables:`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub variables: IndexMap<String, String>,
    /// `before_script:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub before_script: Vec<String>,
    /// `script:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<String>,
    /// `cache:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<Cache>,
    /// `artifacts:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Artifacts>,
    /// `environment:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// `resource_group:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// `retry:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// `interruptible:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interruptible: Option<bool>,
    /// `trigger:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
}

/// One `needs:` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Need {
    /// `- job-name`.
    Job(String),
    /// `- job: name` with `artifacts:`.
    Detailed {
        /// The job.
        job: String,
        /// Whether to download its artifacts.
        artifacts: bool,
    },
}

impl Need {
    /// The job this entry needs.
    pub fn job(&self) -> &str {
        match self {
            Need::Job(j) | Need::Detailed { job: j, .. } => j,
        }
    }
}

/// One `rules:` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rule {
    /// `if:`.
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    pub if_: Option<String>,
    /// `changes:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<String>>,
    /// `when:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

/// One cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cache {
    /// `key:`.
    pub key: CacheKey,
    /// `paths:`.
    pub paths: Vec<String>,
    /// `policy:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `when:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

/// `cache:key:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CacheKey {
    /// A fixed key.
    Name(String),
    /// `files:` with an optional `prefix:`.
    Files {
        /// Files whose content keys the cache (1–2).
        files: Vec<String>,
        /// A prefix for the computed key.
        prefix: String,
    },
}

/// `artifacts:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Artifacts {
    /// `when:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// `expire_in:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_in: Option<String>,
    /// `expose_as:`: the link's name in the merge request ([`super::expose`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_as: Option<String>,
    /// `paths:`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// `reports:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reports: Option<Reports>,
}

/// `artifacts:reports:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reports {
    /// `dotenv:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dotenv: Option<String>,
    /// `junit:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junit: Option<String>,
    /// `metrics:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    /// `annotations:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<String>,
}

/// `environment:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Environment {
    /// `name:`.
    pub name: String,
    /// `url:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `deployment_tier:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_tier: Option<String>,
    /// `action:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// `retry:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retry {
    /// `max:` (0–2).
    pub max: u8,
    /// `when:`.
    pub when: Vec<String>,
    /// `exit_codes:`.
    pub exit_codes: Vec<i32>,
}

/// `trigger:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    /// `include:`.
    pub include: Vec<TriggerInclude>,
    /// `strategy:`.
    pub strategy: String,
}

/// One `trigger:include:` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerInclude {
    /// `artifact:`.
    pub artifact: String,
    /// `job:`.
    pub job: String,
}
