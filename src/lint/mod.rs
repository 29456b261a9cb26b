//! `mlops lint`: any GitLab CI file, offline. The document is read with the positioned YAML
//! 1.1 reader, checked against the vendored GitLab CI schema and the semantic rules of
//! [`crate::compile::check`], then against lint-only rules for mistakes GitLab accepts
//! silently: dotenv variables in `rules:` ([`dotenv`]) and YAML 1.1 scalars that change
//! meaning in `variables:` ([`traps`]).
//!
//! Contract: [`lint`] is pure (text in, findings out), and every finding has a line and
//! column in the text.

pub mod dotenv;
pub mod traps;

use crate::compile::check::{self, Finding, Severity};
use crate::yaml::{self, Node, YamlError};

/// A finding located in the source text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
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
pub fn lint(text: &str) -> Result<Vec<Diagnostic>, YamlError> {
    let root = yaml::parse(text)?;
    let json = root.to_json();
    let mut findings: Vec<Finding> = Vec::new();
    if json.is_object() {
        findings.extend(check::check_schema(&json));
        findings.extend(with_include_caveat(&json, check::check_semantics(&json)));
        findings.extend(dotenv::check(&json));
        findings.extend(traps::check(&root, text));
    } else {
        findings.push(Finding {
            severity: Severity::Error,
            pointer: String::new(),
            message: "a CI file must be a mapping of keywords and jobs".to_owned(),
            help: Some("start with `stages:` and one `job-name:` mapping per job".to_owned()),
        });
    }
    Ok(locate(&root, findings))
}

/// Jobs and stages may come from `include:`d files, which lint does not fetch: findings that
/// depend on what is missing from this file become warnings there.
fn with_include_caveat(doc: &serde_json::Value, findings: Vec<Finding>) -> Vec<Finding> {
    if doc.get("include").is_none() {
        return findings;
    }
    findings
        .into_iter()
        .map(|mut f| {
            if f.message.contains("not a job of this pipeline")
                || f.message.contains("not in `stages:`")
            {
                f.severity = Severity::Warning;
                f.message
                    .push_str(" (unless an `include:`d file defines it)");
            }
            f
        })
        .collect()
}

fn locate(root: &Node, findings: Vec<Finding>) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = findings
        .into_iter()
        .map(|f| {
            let (line, col) = root.locate_nearest(&f.pointer);
            Diagnostic {
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
pub fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}
