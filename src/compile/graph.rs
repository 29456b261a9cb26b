//! The job DAG of a pipeline as text, edges from `needs`: Mermaid (renders in GitLab merge
//! requests and READMEs) or Graphviz DOT. Deterministic: nodes in job order, edges in
//! `needs` order. A manual job (every rule `when: manual`, such as promote) is drawn dashed.

use std::fmt::Write as _;

use crate::gitlab::ir::{Job, Pipeline};

/// Whether the job only ever runs when someone starts it.
fn manual(job: &Job) -> bool {
    !job.rules.is_empty()
        && job
            .rules
            .iter()
            .all(|r| r.when.as_deref() == Some("manual"))
}

/// `(from, to)` index pairs: `to` needs `from`.
fn edges(p: &Pipeline) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (to, job) in p.jobs.values().enumerate() {
        for need in job.needs.iter().flatten() {
            if let Some(from) = p.jobs.get_index_of(need.job()) {
                out.push((from, to));
            }
        }
    }
    out
}

/// Mermaid text. Node ids are `j0`, `j1`, ... so any job name is safe; labels are quoted
/// (job names contain `:`) with `"` written as `#quot;`.
pub fn mermaid(p: &Pipeline) -> String {
    let mut out = String::from("graph LR\n");
    let jobs: Vec<&Job> = p.jobs.values().collect();
    for (i, name) in p.jobs.keys().enumerate() {
        let label = name.replace('"', "#quot;");
        let suffix = if manual(jobs[i]) { " (manual)" } else { "" };
        let _ = writeln!(out, "  j{i}[\"{label}{suffix}\"]");
    }
    for (from, to) in edges(p) {
        let arrow = if manual(jobs[to]) { "-.->" } else { "-->" };
        let _ = writeln!(out, "  j{from} {arrow} j{to}");
    }
    out
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz DOT text.
pub fn dot(p: &Pipeline) -> String {
    let mut out = String::from("digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n");
    let names: Vec<&String> = p.jobs.keys().collect();
    for (name, job) in &p.jobs {
        if manual(job) {
            let _ = writeln!(out, "  {} [style=dashed];", dot_quote(name));
        } else {
            let _ = writeln!(out, "  {};", dot_quote(name));
        }
    }
    for (from, to) in edges(p) {
        let _ = writeln!(
            out,
            "  {} -> {};",
            dot_quote(names[from]),
            dot_quote(names[to])
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ir::{Need, Rule};

    fn pipeline() -> Pipeline {
        let mut p = Pipeline::default();
        p.jobs.insert("a:validate".into(), Job::default());
        p.jobs.insert(
            "a\"b:train".into(),
            Job {
                needs: Some(vec![
                    Need::Job("a:validate".into()),
                    Need::Job("elsewhere".into()),
                ]),
                ..Job::default()
            },
        );
        p
    }

    #[test]
    fn mermaid_quotes_labels() {
        assert_eq!(
            mermaid(&pipeline()),
            "graph LR\n  j0[\"a:validate\"]\n  j1[\"a#quot;b:train\"]\n  j0 --> j1\n"
        );
    }

    #[test]
    fn manual_jobs_are_dashed() {
        let mut p = pipeline();
        p.jobs.insert(
            "a:promote".into(),
            Job {
                needs: Some(vec![Need::Job("a:validate".into())]),
                rules: vec![Rule {
                    if_: Some("$CI_COMMIT_TAG".into()),
                    changes: None,
                    when: Some("manual".into()),
                }],
                ..Job::default()
            },
        );
        let m = mermaid(&p);
        assert!(m.contains("  j2[\"a:promote (manual)\"]\n"), "{m}");
        assert!(m.contains("  j0 -.-> j2\n"), "{m}");
        assert!(dot(&p).contains("\"a:promote\" [style=dashed];"));
    }

    #[test]
    fn dot_escapes() {
        let d = dot(&pipeline());
        assert!(d.contains("\"a:validate\" -> \"a\\\"b:train\";"), "{d}");
    }
}
