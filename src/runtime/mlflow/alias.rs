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
//! - `mlops run promote` cannot rewrite that table, so it appends a **promotion record** to
//!   the latest version's own run (the candidate GitLab creates with every version, whose
//!   tags `runs/set-tag` can add to, never change): `mlops.promote.<alias>.<seq> = <SemVer>`,
//!   `<seq>` counting up from `000001`. The highest record of an alias wins over the table.
//!   The next version registered copies the table with the records applied, so records
//!   never need to be read from older versions.
//!
//! Three calls answer any alias query, no search is needed, and the table only changes when
//! `mlops run register` or `mlops run promote` runs (one such job per model at a time,
//! through the generated `resource_group`). A version created outside `mlops` becomes the
//! latest without a table; then no alias resolves until `mlops` registers again, and a
//! warning says so.

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
/// The tag prefix of promotion records on GitLab: `mlops.promote.<alias>.<seq>`.
pub const PROMOTE_TAG_PREFIX: &str = "mlops.promote.";

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
    /// GitLab: the version's own run (candidate), which carries the promotion records.
    #[serde(skip)]
    pub candidate: Option<String>,
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
        let candidate = match flavour {
            Flavour::Mlflow => None,
            Flavour::Gitlab => Some(v.run_id.clone()).filter(|r| !r.is_empty()),
        };
        Self {
            version,
            id: v.version.clone(),
            run_id,
            tags: v.tags.clone(),
            candidate,
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
            let Some(latest) = latest_with_promotions(client, model)? else {
                return Ok(None);
            };
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

/// GitLab: the latest version, its alias table with the promotion records on its own run
/// applied (records are read only when the version has a run).
pub fn latest_with_promotions(
    client: &Client,
    model: &str,
) -> Result<Option<VersionRef>, MlflowError> {
    let Some(latest) = client.latest_version(model)? else {
        return Ok(None);
    };
    let mut latest = VersionRef::from_version(&latest, Flavour::Gitlab);
    if let Some(run) = &latest.candidate {
        let records = match client.get_run(run) {
            Ok(r) => r.data.tags,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        apply_promotions(&mut latest.tags, &records);
    }
    Ok(Some(latest))
}

/// Overrides the alias table in `tags` with the newest promotion record of each alias.
fn apply_promotions(tags: &mut Vec<Tag>, records: &[Tag]) {
    let mut newest: Vec<(&str, &str, &str)> = Vec::new();
    for t in records {
        let Some((alias, seq)) = t
            .key
            .strip_prefix(PROMOTE_TAG_PREFIX)
            .and_then(|rest| rest.rsplit_once('.'))
        else {
            continue;
        };
        match newest.iter_mut().find(|(a, _, _)| *a == alias) {
            Some(entry) if entry.1 < seq => *entry = (alias, seq, &t.value),
            Some(_) => {}
            None => newest.push((alias, seq, &t.value)),
        }
    }
    for (alias, _, semver) in newest {
        let key = format!("{ALIAS_TAG_PREFIX}{alias}");
        tags.retain(|t| t.key != key);
        tags.push(Tag::new(key, semver));
    }
}

/// The key of the next promotion record of `alias` on a run that has `records`.
pub fn next_promotion_key(records: &[Tag], alias: &str) -> String {
    let prefix = format!("{PROMOTE_TAG_PREFIX}{alias}.");
    let count = records
        .iter()
        .filter(|t| t.key.starts_with(&prefix))
        .count();
    format!("{prefix}{:06}", count + 1)
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
    fn the_newest_promotion_record_wins() {
        let mut tags = vec![
            Tag::new("mlops.alias.production", "1.0.0"),
            Tag::new("mlops.alias.staging", "3.0.0"),
        ];
        let records = vec![
            Tag::new("mlops.promote.production.000002", "2.0.0"),
            Tag::new("mlops.promote.production.000001", "3.0.0"),
            Tag::new("mlops.promote.champion.000001", "1.0.0"),
            Tag::new("mlops.commit_sha", "abc"),
        ];
        apply_promotions(&mut tags, &records);
        assert_eq!(
            tags,
            vec![
                Tag::new("mlops.alias.staging", "3.0.0"),
                Tag::new("mlops.alias.production", "2.0.0"),
                Tag::new("mlops.alias.champion", "1.0.0"),
            ]
        );
        assert_eq!(
            next_promotion_key(&records, "production"),
            "mlops.promote.production.000003"
        );
        assert_eq!(
            next_promotion_key(&records, "prod"),
            "mlops.promote.prod.000001"
        );
    }

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
            candidate: None,
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
