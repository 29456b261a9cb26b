//! The vendored GitLab CI JSON Schema (`schema/gitlab-ci.json`; its origin, commit and hash
//! are in `schema/GITLAB-CI-SCHEMA.md`), compiled once per process.

use std::sync::OnceLock;

use serde_json::Value;

use super::violation::{Code, Violation};

/// The vendored GitLab CI schema text.
pub const GITLAB_SCHEMA: &str = include_str!("../../schema/gitlab-ci.json");

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(GITLAB_SCHEMA).expect("the vendored schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            // `format` is an annotation in draft-07, and GitLab documents `url: $VAR` forms
            // that are not URIs until expanded.
            .should_validate_formats(false)
            .build(&schema)
            .expect("the vendored schema compiles")
    })
}

/// Schema violations, one per violated keyword, located at the failing instance.
pub fn check_schema(doc: &Value) -> Vec<Violation> {
    validator()
        .iter_errors(doc)
        .map(|e| {
            let pointer = e.instance_path().as_str().to_owned();
            Violation::error(Code::Schema, pointer, message(&e))
        })
        .collect()
}

fn message(e: &jsonschema::ValidationError<'_>) -> String {
    let text = e.to_string();
    // Errors on a whole job repeat the job body; keep messages to one readable line.
    let one_line: String = text.split('\n').next().unwrap_or_default().to_owned();
    if one_line.chars().count() > 200 {
        let cut: String = one_line.chars().take(200).collect();
        format!("{cut}… (GitLab CI schema)")
    } else {
        format!("{one_line} (GitLab CI schema)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_rejects_retry_three() {
        let doc = json!({"j": {"script": ["x"], "retry": {"max": 3}}});
        assert!(!check_schema(&doc).is_empty());
        let ok = json!({"j": {"script": ["x"], "retry": {"max": 2, "exit_codes": [75]}}});
        assert!(check_schema(&ok).is_empty(), "{:?}", check_schema(&ok));
    }
}
