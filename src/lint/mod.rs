//! `mlops lint`: any GitLab CI file, offline. The document is read with the positioned YAML
//! 1.1 reader, checked against the vendored GitLab CI schema and the semantic rules of
//! [`crate::gitlab`] and GitLab's limits on a whole file ([`gitlab::capacity`]), then against lint-only rules for mistakes GitLab accepts silently:
//! dotenv variables in `rules:` ([`dotenv`]) and YAML 1.1 scalars that change meaning in
//! `variables:` ([`traps`]).
//!
//! Contract: [`lint`] is pure (text in, findings out), and every [`Finding`] has a line and
//! column in the text.

pub mod dotenv;
pub mod traps;

use crate::gitlab::{self, Code, Severity, Violation};
use crate::yaml::{self, Node, YamlError};

/// A violation located in the source text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule broken.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub col: usize,
    /// The JSON pointer of the node the finding is about.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Lints one CI document. A YAML syntax error is returned as the error.
pub fn lint(text: &str) -> Result<Vec<Finding>, YamlError> {
    let root = yaml::parse(text)?;
    let json = root.to_json();
    let mut violations: Vec<Violation> = Vec::new();
    if json.is_object() {
        violations.extend(gitlab::check_schema(&json));
        violations.extend(with_include_caveat(&json, gitlab::check_semantics(&json)));
        violations.extend(gitlab::capacity::check(&root, &json));
        violations.extend(dotenv::check(&json));
        violations.extend(traps::check(&root, text));
    } else {
        violations.push(
            Violation::error(
                Code::NotAMapping,
                "",
                "a CI file must be a mapping of keywords and jobs",
            )
            .with_help("start with `stages:` and one `job-name:` mapping per job"),
        );
    }
    Ok(locate(&root, violations))
}

/// Jobs and stages may come from `include:`d files, which lint does not fetch: findings that
/// depend on what is missing from this file (unknown `needs` and stages) become warnings
/// there.
fn with_include_caveat(doc: &serde_json::Value, violations: Vec<Violation>) -> Vec<Violation> {
    if doc.get("include").is_none() {
        return violations;
    }
    violations
        .into_iter()
        .map(|mut v| {
            if matches!(v.code, Code::UnknownNeed | Code::UnknownStage) {
                v.severity = Severity::Warning;
                v.message
                    .push_str(" (unless an `include:`d file defines it)");
            }
            v
        })
        .collect()
}

fn locate(root: &Node, violations: Vec<Violation>) -> Vec<Finding> {
    let mut out: Vec<Finding> = violations
        .into_iter()
        .map(|f| {
            let (line, col) = root.locate_nearest(&f.pointer);
            Finding {
                code: f.code,
                severity: f.severity,
                line,
                col,
                pointer: f.pointer,
                message: f.message,
                help: f.help,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.line, a.col, a.severity, &a.message).cmp(&(b.line, b.col, b.severity, &b.message))
    });
    out.dedup();
    out
}

/// Counts of errors and warnings.
pub fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    (errors, findings.len() - errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_turns_unknown_needs_and_stages_into_warnings() {
        let text = "include: other.yml\nstages: [a]\nj:\n  stage: b\n  script: [x]\n  needs: [elsewhere]\n";
        let findings = lint(text).expect("YAML");
        let relabelled: Vec<&Finding> = findings
            .iter()
            .filter(|f| matches!(f.code, Code::UnknownNeed | Code::UnknownStage))
            .collect();
        assert_eq!(relabelled.len(), 2, "{findings:#?}");
        for f in relabelled {
            assert_eq!(f.severity, Severity::Warning);
            assert!(
                f.message
                    .ends_with(" (unless an `include:`d file defines it)"),
                "{}",
                f.message
            );
        }
        let without = lint(text.trim_start_matches("include: other.yml\n")).expect("YAML");
        assert_eq!(counts(&without).0, 2, "{without:#?}");
    }
}
