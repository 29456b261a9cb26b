//! `artifacts:expose_as`, which links a job's artifacts in the merge request. The rules, from
//! GitLab's source and documentation (`docs/pipeline.md`, "The report link"):
//!
//! - GitLab refuses the pipeline when the name does not match `\A\w[-\w ]*\z` (ASCII letters,
//!   digits, `_`, then also `-` and spaces) or is longer than 100 characters, when
//!   `artifacts:paths` is missing, or when a path holds `*`
//!   (`lib/gitlab/ci/config/entry/artifacts.rb`, `EXPOSE_AS_REGEX`, at gitlabhq commit
//!   f2e8d3f28858dfab923024c30259e3bc08c0ccdb).
//! - It accepts, but never shows, paths that use CI/CD variables or start with `./`, and
//!   directories written without a trailing `/` (`doc/ci/yaml/_index.md`, `artifacts:expose_as`).
//! - It shows at most 10 exposing jobs per merge request pipeline, and links the one file
//!   directly only when the paths find exactly one file; otherwise the link opens the job's
//!   artifact browser (`app/services/ci/find_exposed_artifacts_service.rb`,
//!   `MAX_EXPOSED_ARTIFACTS`, at commit c23740d67e7b0933d86398a9e722e40f08357783).

use serde_json::Value;

use super::limits::{MAX_EXPOSE_AS, MAX_EXPOSED_JOBS};
use super::semantics::jobs;
use super::violation::{Code, Violation, pointer_segment};

/// Whether GitLab accepts `name` as an `expose_as` value.
pub fn valid_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = name.chars();
    name.chars().count() <= MAX_EXPOSE_AS
        && chars.next().is_some_and(word)
        && chars.all(|c| word(c) || c == '-' || c == ' ')
}

/// `prefix` + `name` made acceptable: characters GitLab refuses become `-`, and the result is
/// cut to 100 characters. `prefix` must start with a letter.
pub fn label(prefix: &str, name: &str) -> String {
    let clean: String = format!("{prefix}{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_EXPOSE_AS)
        .collect();
    clean
}

/// The `expose_as` rules of one job, at JSON pointer `at`.
pub fn check_job(at: &str, name: &str, job: &Value, out: &mut Vec<Violation>) {
    let Some(artifacts) = job.get("artifacts") else {
        return;
    };
    let Some(expose) = artifacts.get("expose_as") else {
        return;
    };
    let here = format!("{at}/artifacts/expose_as");
    if let Some(text) = expose.as_str() {
        if !valid_name(text) {
            out.push(
                Violation::error(
                    Code::ExposeAsName,
                    here.clone(),
                    format!(
                        "job `{name}`: `expose_as` {text:?} can contain only letters, digits, '-', '_' and spaces (starting with a letter, digit or '_'), at most {MAX_EXPOSE_AS} characters"
                    ),
                )
                .with_help("GitLab refuses the pipeline; replace the other characters"),
            );
        }
    }
    let paths: Vec<&str> = artifacts
        .get("paths")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if paths.is_empty() {
        out.push(
            Violation::error(
                Code::ExposeAsPaths,
                here,
                format!("job `{name}`: `expose_as` needs `artifacts:paths`"),
            )
            .with_help("list the file or directory (ending in `/`) to link"),
        );
        return;
    }
    for (i, p) in paths.iter().enumerate() {
        let at_path = format!("{at}/artifacts/paths/{i}");
        if p.contains('*') {
            out.push(Violation::error(
                Code::ExposeAsPaths,
                at_path,
                format!("job `{name}`: path {p:?} can't contain '*' when used with 'expose_as'"),
            ));
        } else if p.contains('$') || p.starts_with("./") {
            out.push(
                Violation::warning(
                    Code::ExposeAsHidden,
                    at_path,
                    format!(
                        "job `{name}`: GitLab does not show exposed artifacts whose path {}",
                        if p.contains('$') {
                            "uses a CI/CD variable"
                        } else {
                            "starts with `./`"
                        }
                    ),
                )
                .with_help("write the path literally, relative to the project directory"),
            );
        }
    }
}

/// More exposing jobs than a merge request shows.
pub fn check_count(doc: &Value) -> Option<Violation> {
    let exposing: Vec<&str> = jobs(doc)
        .into_iter()
        .filter(|(_, j)| j.pointer("/artifacts/expose_as").is_some())
        .map(|(n, _)| n)
        .collect();
    (exposing.len() > MAX_EXPOSED_JOBS).then(|| {
        Violation::warning(
            Code::TooManyExposed,
            format!("/{}/artifacts/expose_as", pointer_segment(exposing[MAX_EXPOSED_JOBS])),
            format!(
                "{} jobs use `expose_as`; a merge request shows the links of the first {MAX_EXPOSED_JOBS} only",
                exposing.len()
            ),
        )
        .with_help("the other artifacts stay on their jobs' pages")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_gitlabs_regex() {
        for ok in [
            "mlops report wine-classifier",
            "_x",
            "9 a_b-c",
            &"a".repeat(100),
        ] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", " x", "-x", "a.b", "a/b", "é", "a\n", &"a".repeat(101)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert_eq!(label("mlops report ", "a.b/é"), "mlops report a-b--");
        assert!(valid_name(&label("mlops report ", &"m".repeat(300))));
        assert_eq!(label("mlops report ", &"m".repeat(300)).len(), 100);
    }

    fn codes(job: &Value) -> Vec<(Code, crate::gitlab::Severity)> {
        let mut out = Vec::new();
        check_job("/j", "j", job, &mut out);
        out.iter().map(|v| (v.code, v.severity)).collect()
    }

    #[test]
    fn each_rule_has_its_code() {
        use crate::gitlab::Severity::{Error, Warning};
        let ok = json!({"artifacts": {"expose_as": "r", "paths": ["d/"]}});
        assert!(codes(&ok).is_empty());
        assert_eq!(
            codes(&json!({"artifacts": {"expose_as": "a.b", "paths": ["d/"]}})),
            [(Code::ExposeAsName, Error)]
        );
        assert_eq!(
            codes(&json!({"artifacts": {"expose_as": "r"}})),
            [(Code::ExposeAsPaths, Error)]
        );
        assert_eq!(
            codes(&json!({"artifacts": {"expose_as": "r", "paths": ["d/*.html"]}})),
            [(Code::ExposeAsPaths, Error)]
        );
        assert_eq!(
            codes(&json!({"artifacts": {"expose_as": "r", "paths": ["$D/", "./f"]}})),
            [
                (Code::ExposeAsHidden, Warning),
                (Code::ExposeAsHidden, Warning)
            ]
        );
        let mut doc = json!({});
        for i in 0..11 {
            doc[format!("j{i}")] =
                json!({"script": ["x"], "artifacts": {"expose_as": "r", "paths": ["f"]}});
        }
        let v = check_count(&doc).unwrap();
        assert_eq!(
            (v.code, v.pointer.as_str()),
            (Code::TooManyExposed, "/j10/artifacts/expose_as")
        );
        doc.as_object_mut().unwrap().remove("j10");
        assert!(check_count(&doc).is_none());
    }
}
