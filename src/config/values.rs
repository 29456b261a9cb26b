//! `config::values`: single values the schema cannot judge, each refused at its own
//! line:column: `[pipeline]` settings GitLab reads (`artifacts_expire_in` as GitLab's
//! duration parser does, `report_dir` inside the project), the `[runtime]` URL, model names
//! that collide on a case-insensitive file system, `as` in `[defaults]`, the aliases
//! MLflow reserves and an `image_registry_base` that names no registry path. `docs/limits.md` lists them.

use super::diagnostic::Problem;
use super::load::Document;
use super::pointer::push_pointer;
use super::raw::{Config, ModelSettings, PipelineSettings, Runtime};
use super::resolve::ModelAt;
use crate::gitlab::duration;

/// Every check of this module.
pub fn check(doc: &Document, config: &Config, problems: &mut Vec<Problem>) {
    if let Some(p) = &config.pipeline {
        check_pipeline(doc, p, problems);
    }
    if let Some(r) = &config.runtime {
        check_runtime_url(doc, r, problems);
    }
    check_model_names(doc, config, problems);
    check_defaults_as(doc, config, problems);
}

fn at(doc: &Document, pointer: &str, message: String, label: &str) -> Problem {
    Problem::new(&doc.source, doc.spans.value_span(pointer), message, label)
}

fn check_pipeline(doc: &Document, p: &PipelineSettings, problems: &mut Vec<Problem>) {
    if let Some(v) = &p.artifacts_expire_in {
        let why = if v.chars().any(char::is_control) {
            Some("it contains a control character (newline, tab, …)".to_owned())
        } else {
            duration::parse(v).err().map(|e| e.to_string())
        };
        if let Some(why) = why {
            problems.push(
                at(
                    doc,
                    "/pipeline/artifacts_expire_in",
                    format!("`pipeline.artifacts_expire_in` = {v:?} is not a duration GitLab accepts: {why}"),
                    "not a duration",
                )
                .with_help("write `never` or a duration such as `30 days`, `1 week` or `2 hrs 30 min`"),
            );
        }
    }
    if let Some(dir) = &p.report_dir {
        if !inside_project(dir) {
            problems.push(
                at(
                    doc,
                    "/pipeline/report_dir",
                    format!("`pipeline.report_dir` = {dir:?} leaves the project directory"),
                    "not inside the project",
                )
                .with_help("use a relative path inside the project, such as `mlops-reports` (no `.`, `..` or leading `/`)"),
            );
        }
    }
}

/// A relative path whose every segment is a name: GitLab collects artifacts only from inside
/// the project directory (`artifacts:paths`, `doc/ci/yaml/_index.md#artifactspaths`).
pub fn inside_project(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

fn check_runtime_url(doc: &Document, r: &Runtime, problems: &mut Vec<Problem>) {
    if let Some(url) = &r.url {
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            problems.push(
                at(
                    doc,
                    "/runtime/url",
                    "`runtime.url` contains a space or a control character (newline, tab, …)"
                        .to_owned(),
                    "not a URL",
                )
                .with_help("write the URL on one line; percent-encode spaces as `%20`"),
            );
        }
    }
}

/// Reports go to `<report_dir>/<model>/`: on macOS and Windows `Wine` and `wine` are one
/// directory, and their reports would overwrite each other.
fn check_model_names(doc: &Document, config: &Config, problems: &mut Vec<Problem>) {
    let mut seen: indexmap::IndexMap<String, &str> = indexmap::IndexMap::new();
    for name in config.model.keys() {
        let folded = name.to_lowercase();
        if let Some(first) = seen.get(&folded) {
            let pointer = super::pointer::push_pointer("/model", name);
            problems.push(
                Problem::new(
                    &doc.source,
                    doc.spans.key_span(&pointer),
                    format!("models `{first}` and `{name}` differ only by case"),
                    "same name on a case-insensitive file system",
                )
                .with_help(
                    "their report directories would be one on macOS and Windows: rename one",
                ),
            );
        } else {
            seen.insert(folded, name);
        }
    }
}

fn check_defaults_as(doc: &Document, config: &Config, problems: &mut Vec<Problem>) {
    if config
        .defaults
        .as_ref()
        .is_some_and(|d| d.job_prefix.is_some())
    {
        problems.push(
            Problem::new(
                &doc.source,
                doc.spans.key_span("/defaults/as"),
                "`as` cannot be a default: it names one model's jobs, and a shared prefix would give every model the same job names",
                "not allowed in [defaults]",
            )
            .with_help("move `as` into the `[model.<name>]` table it names"),
        );
    }
}

/// Why MLflow refuses `alias`, if it does: `latest` and `v<digits>` name versions
/// (`_validate_model_alias_name_reserved` in MLflow's `mlflow/utils/validation.py`; both
/// compared case-insensitively).
pub fn reserved_alias(alias: &str) -> Option<&'static str> {
    let lower = alias.to_ascii_lowercase();
    if lower == "latest" {
        return Some("MLflow reserves `latest` for the newest version");
    }
    let digits = lower.strip_prefix('v')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some("MLflow reserves `v<number>` for version numbers")
}

/// `alias` and `compare.alias` are set on MLflow, which reserves some names.
pub(super) fn check_aliases(at: &ModelAt<'_>, m: &ModelSettings, problems: &mut Vec<Problem>) {
    let own = m.alias.as_deref().map(|a| ("alias", a));
    let compare = m
        .compare
        .as_ref()
        .and_then(|c| c.alias.as_deref())
        .map(|a| ("compare", a));
    for (key, alias) in own.into_iter().chain(compare) {
        if let Some(why) = reserved_alias(alias) {
            let span = if key == "alias" {
                at.value_span("alias")
            } else {
                at.doc
                    .spans
                    .value_span(&push_pointer(&at.field("compare"), "alias"))
            };
            problems.push(
                at.problem(
                    span,
                    format!("alias `{alias}` cannot be used: {why}"),
                    "reserved",
                )
                .with_help("choose another alias, such as `staging` or `champion`"),
            );
        }
    }
}

/// `image_registry_base` must name a registry path: `/` or an absolute path would make an
/// image reference without a registry or repository.
pub(super) fn check_registry_base(
    at: &ModelAt<'_>,
    m: &ModelSettings,
    problems: &mut Vec<Problem>,
) {
    let Some(base) = m.image_registry_base.as_deref() else {
        return;
    };
    if base.trim_end_matches('/').is_empty()
        || base.starts_with('/')
        || base.contains(char::is_whitespace)
    {
        problems.push(
            at.problem(
                at.value_span("image_registry_base"),
                format!("`image_registry_base` = {base:?} is not a registry path"),
                "not a registry path",
            )
            .with_help("write a registry and path, such as `registry.example.com/group/images` or `$CI_REGISTRY_IMAGE`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_the_project() {
        for ok in ["mlops-reports", "out/reports", "a.b/c_d"] {
            assert!(inside_project(ok), "{ok}");
        }
        for bad in [
            "",
            "/abs",
            "../../etc",
            "a/../b",
            "./a",
            "a//b",
            "a/",
            "a\\b",
        ] {
            assert!(!inside_project(bad), "{bad}");
        }
    }

    #[test]
    fn reserved_aliases() {
        for bad in ["latest", "Latest", "v1", "V12"] {
            assert!(reserved_alias(bad).is_some(), "{bad}");
        }
        for ok in ["staging", "v", "v1a", "version2", "latest-good"] {
            assert!(reserved_alias(ok).is_none(), "{ok}");
        }
    }
}
