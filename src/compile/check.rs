//! `compile::check`: a CI document (as JSON) against the vendored GitLab CI schema and the
//! semantic rules GitLab applies when it creates a pipeline. Used on the compiler's own output
//! (where a finding is a bug) and by `mlops lint` on any file.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::Value;

/// GitLab's limit on `needs` entries per job.
pub const MAX_NEEDS: usize = 50;
/// GitLab's limit on job and stage names.
pub const MAX_NAME: usize = 255;
/// Top-level keys that are not jobs.
pub const RESERVED: [&str; 12] = [
    "stages",
    "variables",
    "default",
    "workflow",
    "include",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "spec",
    "pages:deploy",
];
/// The stages GitLab assumes when `stages:` is absent.
pub const DEFAULT_STAGES: [&str; 5] = [".pre", "build", "test", "deploy", ".post"];

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// GitLab would reject the pipeline, or it cannot work.
    Error,
    /// It runs, but not as the author expects.
    Warning,
}

/// One problem in a CI document, located by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Where, as a JSON pointer into the document.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Finding {
    fn error(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            pointer: pointer.into(),
            message: message.into(),
            help: None,
        }
    }
}

/// The vendored GitLab CI schema text (see `schema/GITLAB-CI-SCHEMA.md`).
pub const GITLAB_SCHEMA: &str = include_str!("../../schema/gitlab-ci.json");

fn gitlab_validator() -> &'static jsonschema::Validator {
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

/// Schema findings, one per violated keyword, located at the failing instance.
pub fn check_schema(doc: &Value) -> Vec<Finding> {
    gitlab_validator()
        .iter_errors(doc)
        .map(|e| {
            let pointer = e.instance_path().as_str().to_owned();
            let message = schema_message(&e);
            Finding::error(pointer, message)
        })
        .collect()
}

fn schema_message(e: &jsonschema::ValidationError<'_>) -> String {
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

fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

/// The jobs of a document: top-level mappings that are not reserved keys or hidden (`.x`).
pub fn jobs(doc: &Value) -> Vec<(&str, &Value)> {
    doc.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, v)| {
                    !RESERVED.contains(&k.as_str()) && !k.starts_with('.') && v.is_object()
                })
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        })
        .unwrap_or_default()
}

/// The `needs` of a job that name a job of this pipeline: `(index, name, optional)`.
pub fn needs_of(job: &Value) -> Vec<(usize, String, bool)> {
    let Some(list) = job.get("needs").and_then(Value::as_array) else {
        return vec![];
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            Value::String(s) => Some((i, s.clone(), false)),
            Value::Object(o) if o.get("project").is_none() && o.get("pipeline").is_none() => {
                let job = o.get("job")?.as_str()?.to_owned();
                let optional = o.get("optional").and_then(Value::as_bool).unwrap_or(false);
                Some((i, job, optional))
            }
            _ => None,
        })
        .collect()
}

/// The semantic rules GitLab applies at pipeline creation.
pub fn check_semantics(doc: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let jobs = jobs(doc);
    let runnable: Vec<&(&str, &Value)> = jobs
        .iter()
        .filter(|(_, j)| j.get("when").and_then(Value::as_str) != Some("never"))
        .collect();
    if runnable.is_empty() {
        out.push(Finding {
            help: Some("define at least one job with a `script` or `trigger`".to_owned()),
            ..Finding::error("", "the pipeline has no jobs")
        });
    }

    let stages: Vec<String> = match doc.get("stages").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .chain([".pre".to_owned(), ".post".to_owned()])
            .collect(),
        None => DEFAULT_STAGES.iter().map(|s| (*s).to_owned()).collect(),
    };
    if let Some(list) = doc.get("stages").and_then(Value::as_array) {
        for (i, s) in list.iter().enumerate() {
            if let Some(s) = s.as_str() {
                if s.chars().count() > MAX_NAME {
                    out.push(Finding::error(
                        format!("/stages/{i}"),
                        format!(
                            "stage name is {} characters; GitLab allows {MAX_NAME}",
                            s.chars().count()
                        ),
                    ));
                }
            }
        }
    }

    let names: HashSet<&str> = jobs.iter().map(|(n, _)| *n).collect();
    let mut graph: HashMap<&str, Vec<String>> = HashMap::new();
    for (name, job) in &jobs {
        let at = format!("/{}", escape(name));
        if name.chars().count() > MAX_NAME {
            out.push(Finding::error(
                at.clone(),
                format!(
                    "job name is {} characters; GitLab allows {MAX_NAME}",
                    name.chars().count()
                ),
            ));
        }
        let stage = job.get("stage").and_then(Value::as_str).unwrap_or("test");
        if job.get("extends").is_none() && !stages.iter().any(|s| s == stage) {
            out.push(Finding {
                help: Some(format!(
                    "add `{stage}` to `stages:` or use one of: {}",
                    stages.join(", ")
                )),
                ..Finding::error(
                    format!("{at}/stage"),
                    format!("job `{name}` uses stage `{stage}`, which is not in `stages:`"),
                )
            });
        }
        if job.get("script").is_none()
            && job.get("trigger").is_none()
            && job.get("run").is_none()
            && job.get("extends").is_none()
        {
            out.push(Finding::error(
                at.clone(),
                format!("job `{name}` has no `script`, `run` or `trigger`"),
            ));
        }
        let needs = needs_of(job);
        if needs.len() > MAX_NEEDS {
            out.push(Finding::error(
                format!("{at}/needs"),
                format!(
                    "job `{name}` has {} needs; GitLab allows {MAX_NEEDS}",
                    needs.len()
                ),
            ));
        }
        for (i, target, optional) in &needs {
            if !optional && !names.contains(target.as_str()) {
                out.push(Finding::error(
                    format!("{at}/needs/{i}"),
                    format!("job `{name}` needs `{target}`, which is not a job of this pipeline"),
                ));
            }
        }
        graph.insert(name, needs.into_iter().map(|(_, t, _)| t).collect());
    }

    if let Some(cycle) = find_cycle(&graph) {
        out.push(Finding {
            help: Some("remove one of these `needs`".to_owned()),
            ..Finding::error(
                format!("/{}/needs", escape(&cycle[0])),
                format!("`needs` form a cycle: {}", cycle.join(" → ")),
            )
        });
    }
    out
}

/// A cycle in the needs graph, as the list of jobs on it (first repeated at the end).
fn find_cycle(graph: &HashMap<&str, Vec<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut keys: Vec<&str> = graph.keys().copied().collect();
    keys.sort_unstable();
    let mut marks: HashMap<&str, Mark> = keys.iter().map(|k| (*k, Mark::New)).collect();
    for start in &keys {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next child index); the stack is the current path.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Active);
        while let Some((node, idx)) = stack.last().copied() {
            let children = &graph[node];
            if idx < children.len() {
                stack.last_mut().expect("non-empty").1 += 1;
                let child = children[idx].as_str();
                match marks.get(child).copied() {
                    Some(Mark::Active) => {
                        let from = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| (*n).to_owned()).collect();
                        cycle.push(child.to_owned());
                        return Some(cycle);
                    }
                    Some(Mark::New) => {
                        let child = graph.get_key_value(child).map_or(child, |(k, _)| *k);
                        marks.insert(child, Mark::Active);
                        stack.push((child, 0));
                    }
                    _ => {}
                }
            } else {
                marks.insert(node, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_missing_needs_and_cycles() {
        let doc = json!({
            "stages": ["a"],
            "x": {"stage": "a", "script": ["true"], "needs": ["y"]},
            "y": {"stage": "a", "script": ["true"], "needs": ["x", "nope"]},
        });
        let f = check_semantics(&doc);
        assert!(f.iter().any(|f| f.message.contains("`nope`")), "{f:?}");
        assert!(f.iter().any(|f| f.message.contains("cycle")), "{f:?}");
    }

    #[test]
    fn empty_pipeline_is_refused() {
        let f = check_semantics(&json!({"stages": ["a"]}));
        assert!(f.iter().any(|f| f.message.contains("no jobs")));
    }

    #[test]
    fn unknown_stage_and_limits() {
        let long = "j".repeat(256);
        let needs: Vec<String> = (0..51).map(|i| format!("n{i}")).collect();
        let mut doc =
            json!({"stages": ["a"], long.clone(): {"stage": "b", "script": ["x"], "needs": needs}});
        for i in 0..51 {
            doc[format!("n{i}")] = json!({"stage": "a", "script": ["x"]});
        }
        let f = check_semantics(&doc);
        assert!(f.iter().any(|f| f.message.contains("stage `b`")));
        assert!(f.iter().any(|f| f.message.contains("51 needs")));
        assert!(f.iter().any(|f| f.message.contains("256 characters")));
    }

    #[test]
    fn schema_rejects_retry_three() {
        let doc = json!({"j": {"script": ["x"], "retry": {"max": 3}}});
        assert!(!check_schema(&doc).is_empty());
        let ok = json!({"j": {"script": ["x"], "retry": {"max": 2, "exit_codes": [75]}}});
        assert!(check_schema(&ok).is_empty(), "{:?}", check_schema(&ok));
    }
}
