//! GitLab's limits on a whole file, beyond its schema: the parsed size and nesting depth
//! ("The parsed YAML is too big", [`super::deep_size`]), the deployment jobs of one pipeline,
//! the paths of one `rules:changes`, and the jobs a merge request links (`expose_as`). The compiler runs these on the text it is about to
//! write and `mlops lint` on any file; `docs/limits.md` explains each limit and its way out.

use serde_json::Value;

use super::deep_size::{self, DeepSize};
use super::limits::{
    MAX_CHANGES, MAX_DEPLOYMENTS, MAX_YAML_DEPTH, MAX_YAML_SIZE, OLD_MAX_YAML_SIZE,
};
use super::semantics::jobs;
use super::violation::{Code, Violation, pointer_segment};
use crate::yaml::Node;

const WAY_OUT: &str = "split the pipeline: `mlops compile --child-pipeline` runs the models as child pipelines that each fit (see docs/limits.md)";

/// Every limit violation of a parsed document (`root`, and `json` its JSON form).
pub fn check(root: &Node, json: &Value) -> Vec<Violation> {
    let mut out = check_size(deep_size::measure(root));
    out.extend(check_deployments(json));
    out.extend(check_changes(json));
    out.extend(super::expose::check_count(json));
    out
}

/// The parsed size and depth against GitLab's limits: an error above today's default, a
/// warning above the older 1 MiB.
pub fn check_size(size: DeepSize) -> Vec<Violation> {
    let mut out = Vec::new();
    if size.bytes > MAX_YAML_SIZE {
        out.push(
            Violation::error(
                Code::ParsedSizeTooBig,
                "",
                format!(
                    "the parsed file is {} bytes; GitLab refuses more than {MAX_YAML_SIZE} (`max_yaml_size_bytes`): \"The parsed YAML is too big\"",
                    size.bytes
                ),
            )
            .with_help(WAY_OUT),
        );
    } else if size.bytes > OLD_MAX_YAML_SIZE {
        out.push(
            Violation::warning(
                Code::ParsedSizeOverOldLimit,
                "",
                format!(
                    "the parsed file is {} bytes: older GitLab releases (a fixed 1 MiB), and instances that lowered `max_yaml_size_bytes`, refuse more than {OLD_MAX_YAML_SIZE}",
                    size.bytes
                ),
            )
            .with_help(WAY_OUT),
        );
    }
    if size.depth > MAX_YAML_DEPTH {
        out.push(
            Violation::error(
                Code::TooDeep,
                "",
                format!(
                    "the file nests {} levels deep; GitLab refuses more than {MAX_YAML_DEPTH} (`max_yaml_depth`)",
                    size.depth
                ),
            )
            .with_help("flatten the nesting"),
        );
    }
    out
}

/// Whether a job creates a deployment: an `environment` whose `action` is `start`, the
/// default (`doc/ci/yaml/_index.md#environmentaction`: the other actions create none).
fn starts_environment(job: &Value) -> bool {
    match job.get("environment") {
        None | Some(Value::Null) => false,
        Some(Value::Object(env)) => {
            env.get("action").and_then(Value::as_str).unwrap_or("start") == "start"
        }
        Some(_) => true,
    }
}

/// The number of deployment jobs of one pipeline.
pub fn deployments(json: &Value) -> usize {
    jobs(json)
        .iter()
        .filter(|(_, j)| starts_environment(j))
        .count()
}

fn check_deployments(json: &Value) -> Vec<Violation> {
    let n = deployments(json);
    if n <= MAX_DEPLOYMENTS {
        return vec![];
    }
    vec![
        Violation::error(
            Code::TooManyDeployments,
            "",
            format!(
                "the pipeline has {n} deployment jobs (jobs with an `environment`); GitLab's default plan limit `ci_pipeline_deployments` is {MAX_DEPLOYMENTS}"
            ),
        )
        .with_help(WAY_OUT),
    ]
}

fn check_changes(json: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    for (name, job) in jobs(json) {
        let Some(rules) = job.get("rules").and_then(Value::as_array) else {
            continue;
        };
        for (i, rule) in rules.iter().enumerate() {
            let changes = rule.get("changes");
            let paths = changes
                .and_then(|c| c.get("paths").or(Some(c)))
                .and_then(Value::as_array);
            if let Some(paths) = paths.filter(|p| p.len() > MAX_CHANGES) {
                let mut pointer = format!("/{}/rules/{i}/changes", pointer_segment(name));
                if changes.is_some_and(Value::is_object) {
                    pointer.push_str("/paths");
                }
                out.push(
                    Violation::error(
                        Code::TooManyChanges,
                        pointer,
                        format!(
                            "`rules:changes` lists {} paths; GitLab allows {MAX_CHANGES}",
                            paths.len()
                        ),
                    )
                    .with_help("use globs such as `data/**` to cover several paths"),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(v: &[Violation]) -> Vec<Code> {
        v.iter().map(|v| v.code).collect()
    }

    #[test]
    fn size_limits() {
        let at = |bytes, depth| codes(&check_size(DeepSize { bytes, depth }));
        assert!(at(OLD_MAX_YAML_SIZE, 3).is_empty());
        assert_eq!(at(OLD_MAX_YAML_SIZE + 1, 3), [Code::ParsedSizeOverOldLimit]);
        assert_eq!(at(MAX_YAML_SIZE, 3), [Code::ParsedSizeOverOldLimit]);
        assert_eq!(at(MAX_YAML_SIZE + 1, 3), [Code::ParsedSizeTooBig]);
        assert_eq!(at(10, MAX_YAML_DEPTH), Vec::<Code>::new());
        assert_eq!(at(10, MAX_YAML_DEPTH + 1), [Code::TooDeep]);
    }

    #[test]
    fn deployments_and_changes() {
        let mut doc = serde_json::Map::new();
        for i in 0..=MAX_DEPLOYMENTS {
            doc.insert(
                format!("j{i}"),
                serde_json::json!({"script": ["x"], "environment": {"name": format!("e{i}")}}),
            );
        }
        doc.insert(
            "stop".into(),
            serde_json::json!({"script": ["x"], "environment": {"name": "e", "action": "stop"}}),
        );
        let paths: Vec<String> = (0..=MAX_CHANGES).map(|i| format!("p{i}")).collect();
        doc.insert(
            "c".into(),
            serde_json::json!({"script": ["x"], "rules": [{"changes": paths}, {"changes": {"paths": ["a"]}}]}),
        );
        let json = Value::Object(doc);
        assert_eq!(deployments(&json), MAX_DEPLOYMENTS + 1);
        let v = [check_deployments(&json), check_changes(&json)].concat();
        assert_eq!(codes(&v), [Code::TooManyDeployments, Code::TooManyChanges]);
        assert_eq!(v[1].pointer, "/c/rules/0/changes");
    }

    #[test]
    fn depth_is_measured_from_the_text() {
        let deep = format!(
            "a: {}1{}\n",
            "[".repeat(MAX_YAML_DEPTH),
            "]".repeat(MAX_YAML_DEPTH)
        );
        let root = crate::yaml::parse(&deep).expect("parses");
        assert_eq!(codes(&check(&root, &root.to_json())), [Code::TooDeep]);
    }
}
