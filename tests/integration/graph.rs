//! `mlops graph`: the DAG of the compiled pipeline, as Mermaid and DOT.

use crate::harness::{self, transcript};

#[test]
fn mermaid_and_dot_of_multi_model() {
    let dir = harness::root().join("examples/multi-model");
    let (code, mermaid) = transcript(harness::mlops().current_dir(&dir).arg("graph"));
    assert_eq!(code, 0, "{mermaid}");
    insta::with_settings!({snapshot_path => "../../snapshots/lint", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("graph-multi-model-mermaid", mermaid);
    });
    // Every `needs` edge of the compiled file is in the picture, and nothing else.
    let compiled = harness::mlops()
        .current_dir(&dir)
        .args(["compile", "--stdout"])
        .output()
        .expect("runs");
    let doc = mlops::yaml::parse(&String::from_utf8_lossy(&compiled.stdout))
        .expect("yaml")
        .to_json();
    let jobs: Vec<&String> = doc
        .as_object()
        .expect("map")
        .iter()
        .filter(|(_, v)| v.get("script").is_some())
        .map(|(k, _)| k)
        .collect();
    let mut edges = 0;
    let mut manual = 0;
    for (i, job) in jobs.iter().enumerate() {
        // A manual job (wine's promote) is labelled so and reached by a dashed edge.
        let is_manual = doc[job.as_str()]["rules"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["when"] == "manual"));
        let (suffix, arrow) = if is_manual {
            (" (manual)", "-.->")
        } else {
            ("", "-->")
        };
        assert!(
            mermaid.contains(&format!("  j{i}[\"{job}{suffix}\"]\n")),
            "{job}"
        );
        for need in doc[job.as_str()]["needs"].as_array().into_iter().flatten() {
            let from = jobs
                .iter()
                .position(|j| Some(j.as_str()) == need.as_str())
                .expect("need exists");
            assert!(
                mermaid.contains(&format!("  j{from} {arrow} j{i}\n")),
                "{need} -> {job}"
            );
            edges += 1;
            manual += usize::from(is_manual);
        }
    }
    assert_eq!(manual, 1, "wine:promote needs wine:register");
    assert_eq!(
        mermaid.matches(" --> ").count() + mermaid.matches(" -.-> ").count(),
        edges
    );

    let (code, dot) = transcript(
        harness::mlops()
            .current_dir(&dir)
            .args(["graph", "--format", "dot"]),
    );
    assert_eq!(code, 0, "{dot}");
    assert!(dot.contains("digraph pipeline {"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), edges);

    // Deterministic.
    let (_, again) = transcript(harness::mlops().current_dir(&dir).arg("graph"));
    assert_eq!(mermaid, again);
}

#[test]
fn graph_reports_config_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, text) = transcript(harness::mlops().current_dir(tmp.path()).arg("graph"));
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("hint: run `mlops init`"), "{text}");
}
