//! The rules GitLab applies when it creates a pipeline, beyond its schema: at least one job,
//! known stages, a `script`, existing and acyclic `needs`, and the limits of [`super::limits`].
//! Used on the compiler's own output (where a violation is a bug) and by `mlops lint` on any
//! file.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::limits::{DEFAULT_STAGES, MAX_NAME, MAX_NEEDS, RESERVED};
use super::violation::{Code, Violation, pointer_segment};

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

/// The semantic rules GitLab applies at pipeline creation, in document order: the pipeline,
/// its stages, each job, then the `needs` graph.
pub fn check_semantics(doc: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let jobs = jobs(doc);
    if jobs
        .iter()
        .all(|(_, j)| j.get("when").and_then(Value::as_str) == Some("never"))
    {
        out.push(
            Violation::error(Code::NoJobs, "", "the pipeline has no jobs")
                .with_help("define at least one job with a `script` or `trigger`"),
        );
    }
    let stages = check_stages(doc, &mut out);
    let names: HashSet<&str> = jobs.iter().map(|(n, _)| *n).collect();
    let mut graph: HashMap<&str, Vec<String>> = HashMap::new();
    for (name, job) in &jobs {
        let needs = check_job(name, job, &stages, &names, &mut out);
        graph.insert(name, needs);
    }
    if let Some(cycle) = find_cycle(&graph) {
        out.push(
            Violation::error(
                Code::NeedsCycle,
                format!("/{}/needs", pointer_segment(&cycle[0])),
                format!("`needs` form a cycle: {}", cycle.join(" → ")),
            )
            .with_help("remove one of these `needs`"),
        );
    }
    out
}

/// The stages jobs may use (`stages:` plus `.pre` and `.post`, or GitLab's defaults), after
/// checking the length of each declared name.
fn check_stages(doc: &Value, out: &mut Vec<Violation>) -> Vec<String> {
    let Some(list) = doc.get("stages").and_then(Value::as_array) else {
        return DEFAULT_STAGES.iter().map(|s| (*s).to_owned()).collect();
    };
    for (i, s) in list.iter().enumerate() {
        let length = s.as_str().map_or(0, |s| s.chars().count());
        if length > MAX_NAME {
            out.push(Violation::error(
                Code::StageNameTooLong,
                format!("/stages/{i}"),
                format!("stage name is {length} characters; GitLab allows {MAX_NAME}"),
            ));
        }
    }
    list.iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .chain([".pre".to_owned(), ".post".to_owned()])
        .collect()
}

/// One job's name, stage, script and `needs`; returns the jobs it needs, for the graph.
fn check_job(
    name: &str,
    job: &Value,
    stages: &[String],
    names: &HashSet<&str>,
    out: &mut Vec<Violation>,
) -> Vec<String> {
    let at = format!("/{}", pointer_segment(name));
    let length = name.chars().count();
    if length > MAX_NAME {
        out.push(Violation::error(
            Code::JobNameTooLong,
            at.clone(),
            format!("job name is {length} characters; GitLab allows {MAX_NAME}"),
        ));
    }
    let stage = job.get("stage").and_then(Value::as_str).unwrap_or("test");
    if job.get("extends").is_none() && !stages.iter().any(|s| s == stage) {
        out.push(
            Violation::error(
                Code::UnknownStage,
                format!("{at}/stage"),
                format!("job `{name}` uses stage `{stage}`, which is not in `stages:`"),
            )
            .with_help(format!(
                "add `{stage}` to `stages:` or use one of: {}",
                stages.join(", ")
            )),
        );
    }
    if ["script", "trigger", "run", "extends"]
        .iter()
        .all(|k| job.get(k).is_none())
    {
        out.push(Violation::error(
            Code::NoScript,
            at.clone(),
            format!("job `{name}` has no `script`, `run` or `trigger`"),
        ));
    }
    super::expose::check_job(&at, name, job, out);
    let needs = needs_of(job);
    if needs.len() > MAX_NEEDS {
        out.push(Violation::error(
            Code::TooManyNeeds,
            format!("{at}/needs"),
            format!(
                "job `{name}` has {} needs; GitLab allows {MAX_NEEDS}",
                needs.len()
            ),
        ));
    }
    for (i, target, optional) in &needs {
        if !optional && !names.contains(target.as_str()) {
            out.push(Violation::error(
                Code::UnknownNeed,
                format!("{at}/needs/{i}"),
                format!("job `{name}` needs `{target}`, which is not a job of this pipeline"),
            ));
        }
    }
    needs.into_iter().map(|(_, t, _)| t).collect()
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
    fn each_rule_has_its_code() {
        let doc = json!({"stages": ["a"], "x": {"stage": "b", "needs": ["nope"]}});
        let codes: Vec<Code> = check_semantics(&doc).iter().map(|v| v.code).collect();
        assert_eq!(
            codes,
            vec![Code::UnknownStage, Code::NoScript, Code::UnknownNeed]
        );
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
}
