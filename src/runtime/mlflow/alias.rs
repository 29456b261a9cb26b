//! Aliases on both dialects. MLflow has real aliases. GitLab has none on any tier and no way
//! to change a version's tags after creation, so `mlops` emulates them:
//!
//! - Every version `mlops` creates on GitLab carries the whole alias table as tags,
//!   `mlops.alias.<alias> = <SemVer>`: the table of the previous latest version, with the
//!   alias being set pointed at the new version.
//! - The current table is therefore the one on the **latest** version (GitLab's
//!   `get-latest-versions`, highest SemVer), and "the version behind alias A" is
//!   `model-versions/get` with the SemVer found under `mlops.alias.A`.
//!
//! Two calls answer any alias query, no search is needed, and the table only changes when
//! `mlops run register` creates a version (one register job per model at a time, through the
//! generated `resource_group`). A version created outside `mlops` becomes the latest without
//! a table; then no alias resolves until `mlops` registers again, and a warning says so.

use super::client::Client;
use super::error::MlflowError;
use super::flavour::Flavour;
use super::types::{ModelVersion, Tag, tag};
use crate::runtime::log;

/// The tag prefix of the emulated alias table.
pub const ALIAS_TAG_PREFIX: &str = "mlops.alias.";
/// The tag holding the run a version came from.
pub const RUN_TAG: &str = "mlops.run_id";
/// GitLab's tag that chooses a version's SemVer.
pub const GITLAB_VERSION_TAG: &str = "gitlab.version";

/// A version as users see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionRef {
    /// The version users see: MLflow's number, or the SemVer on GitLab.
    pub version: String,
    /// The API's `version` field: the same number on MLflow, the model-version id on GitLab.
    pub id: String,
    /// The run it came from, if known.
    pub run_id: Option<String>,
    /// Its tags.
    #[serde(skip)]
    pub tags: Vec<Tag>,
}

impl VersionRef {
    /// Reads a version in the server's dialect.
    pub fn from_version(v: &ModelVersion, flavour: Flavour) -> Self {
        let version = match flavour {
            Flavour::Mlflow => v.version.clone(),
            Flavour::Gitlab => v
                .aliases
                .first()
                .cloned()
                .or_else(|| tag(&v.tags, GITLAB_VERSION_TAG).map(str::to_owned))
                .unwrap_or_else(|| v.version.clone()),
        };
        // On GitLab `run_id` names the version's own candidate, which GitLab creates with
        // the version (`lib/api/entities/ml/mlflow/model_version.rb`), never the training
        // run: only the tag mlops writes says where a version came from.
        let run_id = match flavour {
            Flavour::Mlflow => Some(v.run_id.clone())
                .filter(|r| !r.is_empty())
                .or_else(|| tag(&v.tags, RUN_TAG).map(str::to_owned)),
            Flavour::Gitlab => tag(&v.tags, RUN_TAG).map(str::to_owned),
        };
        Self {
            version,
            id: v.version.clone(),
            run_id,
            tags: v.tags.clone(),
        }
    }
}

/// The version `alias` points at, if any.
pub fn resolve(
    client: &Client,
    model: &str,
    alias: &str,
) -> Result<Option<VersionRef>, MlflowError> {
    let flavour = client.flavour();
    match flavour {
        Flavour::Mlflow => Ok(client
            .version_by_alias(model, alias)?
            .map(|v| VersionRef::from_version(&v, flavour))),
        Flavour::Gitlab => {
            let Some(latest) = client.latest_version(model)? else {
                return Ok(None);
            };
            let latest = VersionRef::from_version(&latest, flavour);
            if !latest
                .tags
                .iter()
                .any(|t| t.key.starts_with(ALIAS_TAG_PREFIX))
                && tag(&latest.tags, RUN_TAG).is_none()
            {
                log::warn(&format!(
                    "the latest version {} of `{model}` was not registered by mlops, so it carries no alias table; alias `{alias}` does not resolve",
                    latest.version
                ));
                return Ok(None);
            }
            let Some(semver) = tag(&latest.tags, &format!("{ALIAS_TAG_PREFIX}{alias}")) else {
                return Ok(None);
            };
            if semver == latest.version {
                return Ok(Some(latest));
            }
            Ok(client
                .get_model_version(model, semver)?
                .map(|v| VersionRef::from_version(&v, flavour)))
        }
    }
}

/// The alias table for a new GitLab version `new_semver`: the latest version's table with
/// `alias` pointed at the new version.
pub fn table_for_new_version(
    latest: Option<&VersionRef>,
    alias: &str,
    new_semver: &str,
) -> Vec<Tag> {
    let key = format!("{ALIAS_TAG_PREFIX}{alias}");
    let mut tags: Vec<Tag> = latest
        .map(|l| {
            l.tags
                .iter()
                .filter(|t| t.key.starts_with(ALIAS_TAG_PREFIX) && t.key != key)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    tags.push(Tag::new(key, new_semver));
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    tags
}

/// The next SemVer: one major above the latest, as GitLab's own auto-increment does.
pub fn next_semver(latest: Option<&str>) -> String {
    let major = latest
        .and_then(|v| v.split(['.', '-', '+']).next())
        .and_then(|m| m.parse::<u64>().ok());
    format!("{}.0.0", major.map_or(1, |m| m + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_and_table() {
        assert_eq!(next_semver(None), "1.0.0");
        assert_eq!(next_semver(Some("3.2.1-rc1")), "4.0.0");
        let latest = VersionRef {
            version: "2.0.0".into(),
            id: "17".into(),
            run_id: None,
            tags: vec![
                Tag::new("mlops.alias.production", "1.0.0"),
                Tag::new("mlops.alias.staging", "2.0.0"),
                Tag::new("mlops.metric.acc", "0.9"),
            ],
        };
        let t = table_for_new_version(Some(&latest), "staging", "3.0.0");
        assert_eq!(
            t,
            vec![
                Tag::new("mlops.alias.production", "1.0.0"),
                Tag::new("mlops.alias.staging", "3.0.0")
            ]
        );
    }
}
