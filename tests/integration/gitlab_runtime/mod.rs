//! The runtime stages against the GitLab replica ([`crate::gitlab`]), in both API generations:
//! train → evaluate → register with model files, a retried register, the gate on the last
//! value of a metric, lost answers, tokens GitLab refuses, GitLab's own refusals, and
//! evaluate's merge-request note. The
//! replica is checked against what GitLab's request specs assert first.
//!
//! The shared helpers are here; each area has its own file.

use std::path::Path;

use serde_json::Value;

use crate::gitlab::{Generation, TOKEN};

mod aliases;
mod last_metric;
mod lost_answers;
mod notes;
mod refusals;
mod replica;
mod wine_cycle;

const BOTH: [Generation; 2] = [Generation::Current, Generation::Legacy];

/// A JSON report a stage wrote under `mlops-reports/` in `dir`.
fn report(dir: &Path, rel: &str) -> Value {
    let path = dir.join("mlops-reports").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("report JSON")
}

/// A CI job's environment with a token GitLab accepts.
const ENV: [(&str, &str); 2] = [("MLFLOW_TRACKING_TOKEN", TOKEN), ("CI_JOB_ID", "501")];
