//! `report.html`: one self-contained page per model (`docs/data-checks.md`, "The report
//! page"). Validate writes it from its results; evaluate renders it again from
//! `validate.json` and `validate.plots.json` (which reach it through the job artifacts) plus
//! its own gates.
//!
//! Contract: inline CSS and inline SVG only, no script and no URL the browser would load by
//! itself (links are followed only when clicked), every user string escaped (minijinja's
//! HTML autoescape in the template, [`svg::esc`] in the plots), and the same inputs give the
//! same bytes: nothing here reads a clock.

pub mod model;
pub mod svg;

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use self::model::{EvaluateView, PlotsView, ValidateView, Verdict};
use crate::templates;

/// The page's file name in the report directory.
pub const FILE: &str = "report.html";
/// The plot data validate leaves for evaluate, next to `validate.json`.
pub const PLOTS_FILE: &str = "validate.plots.json";

/// Where the page comes from: the CI variables it shows (empty outside CI).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Meta {
    /// The model, when run with `--model`.
    pub model: Option<String>,
    /// `CI_COMMIT_SHA`.
    pub commit_sha: Option<String>,
    /// `CI_COMMIT_SHORT_SHA`.
    pub commit_short_sha: Option<String>,
    /// `CI_PIPELINE_ID`.
    pub pipeline_id: Option<String>,
    /// `CI_PIPELINE_URL`.
    pub pipeline_url: Option<String>,
    /// `CI_JOB_NAME`.
    pub job_name: Option<String>,
    /// `CI_JOB_URL`.
    pub job_url: Option<String>,
}

impl Meta {
    /// Reads GitLab's predefined variables.
    pub fn from_env(model: Option<&str>) -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        Self {
            model: model.map(str::to_owned),
            commit_sha: var("CI_COMMIT_SHA"),
            commit_short_sha: var("CI_COMMIT_SHORT_SHA"),
            pipeline_id: var("CI_PIPELINE_ID"),
            pipeline_url: var("CI_PIPELINE_URL"),
            job_name: var("CI_JOB_NAME"),
            job_url: var("CI_JOB_URL"),
        }
    }
}

/// What the page is rendered from.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    /// `validate.json`.
    pub validate: Option<&'a Value>,
    /// `validate.plots.json`.
    pub plots: Option<&'a Value>,
    /// `evaluate.json`.
    pub evaluate: Option<&'a Value>,
    /// The MLflow run's browser link (`train.json`'s `run_url`).
    pub run_url: Option<String>,
}

/// Why the page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// An input file does not have the documented keys.
    #[error("`{file}` is not a report mlops wrote: {source}")]
    Input {
        /// Which file.
        file: &'static str,
        /// What is wrong.
        source: serde_json::Error,
    },
    /// The template failed (a bug).
    #[error("the report page template failed: {0}")]
    Template(#[from] minijinja::Error),
}

/// Only `http(s)` links become links; anything else is shown as text.
fn link(url: Option<&str>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned)
}

fn parse<T: serde::de::DeserializeOwned>(
    file: &'static str,
    v: Option<&Value>,
) -> Result<Option<T>, PageError> {
    v.map(|v| T::deserialize(v).map_err(|source| PageError::Input { file, source }))
        .transpose()
}

/// The template's context.
#[derive(Serialize)]
struct Context {
    model: Option<String>,
    commit_sha: Option<String>,
    commit_short_sha: Option<String>,
    pipeline_id: Option<String>,
    pipeline_url: Option<String>,
    job_name: Option<String>,
    job_url: Option<String>,
    run_url: Option<String>,
    overall: Verdict,
    data: Option<String>,
    reference: Option<String>,
    rows: Option<u64>,
    columns: Vec<model::ColumnCard>,
    failed_checks: Vec<CheckRow>,
    drift: Option<DriftSummary>,
    expectations: Vec<model::ExpectationRow>,
    gates: Option<Gates>,
    version: &'static str,
}

#[derive(Serialize)]
struct CheckRow {
    name: String,
    kind: String,
    message: String,
    verdict: Verdict,
}

#[derive(Serialize)]
struct DriftSummary {
    verdict: Verdict,
    drifted: u64,
    tested: u64,
    share: String,
    drift_share: String,
}

#[derive(Serialize)]
struct Gates {
    verdict: Verdict,
    metric: String,
    value: String,
    threshold: String,
    direction: &'static str,
    production: Option<ProductionLine>,
    rows: Vec<model::GateRow>,
    /// SVG built by [`svg::gate`], already escaped.
    chart: String,
    run_id: String,
}

#[derive(Serialize)]
struct ProductionLine {
    alias: String,
    version: String,
    value: String,
}

/// Renders the page.
pub fn render(meta: &Meta, inputs: &Inputs<'_>) -> Result<String, PageError> {
    let validate: Option<ValidateView> = parse("validate.json", inputs.validate)?;
    let plots: PlotsView = parse(PLOTS_FILE, inputs.plots)?.unwrap_or_default();
    let evaluate: Option<EvaluateView> = parse("evaluate.json", inputs.evaluate)?;
    let statuses: Vec<&str> = validate
        .iter()
        .map(|v| v.status.as_str())
        .chain(evaluate.iter().map(|e| e.status.as_str()))
        .collect();
    let overall = if statuses.contains(&"error") {
        Verdict::of_status("error")
    } else if statuses.iter().any(|s| matches!(*s, "failed" | "fail")) {
        Verdict::of_status("failed")
    } else {
        Verdict::of_status("passed")
    };
    let columns = validate
        .as_ref()
        .map(|v| model::column_cards(v, &plots))
        .unwrap_or_default();
    let failed_checks: Vec<CheckRow> = validate
        .iter()
        .flat_map(|v| v.checks.iter())
        .filter(|c| c.status != "passed")
        .map(|c| CheckRow {
            name: c.name.clone(),
            kind: c.kind.clone(),
            message: c.message.clone(),
            verdict: Verdict::of_status(&c.status),
        })
        .collect();
    let drift = validate
        .as_ref()
        .and_then(|v| v.drift.as_ref())
        .map(|d| DriftSummary {
            verdict: if d.dataset_drift {
                Verdict {
                    symbol: "▲",
                    word: "dataset drift".into(),
                    class: "bad",
                }
            } else {
                Verdict::of_status("passed")
            },
            drifted: d.number_of_drifted_columns,
            tested: d.number_of_columns,
            share: svg::num(d.share_of_drifted_columns),
            drift_share: svg::num(d.drift_share),
        });
    let gates = evaluate.as_ref().map(|e| {
        let production = e.production.as_ref();
        Gates {
            verdict: Verdict::of_status(&e.status),
            metric: e.metric.clone(),
            value: e.value.map_or("none".into(), svg::num),
            threshold: svg::num(e.threshold),
            direction: if e.higher_is_better {
                "higher is better"
            } else {
                "lower is better"
            },
            production: production.map(|p| ProductionLine {
                alias: p.alias.clone(),
                version: p.version.clone().unwrap_or_else(|| "none".into()),
                value: p.value.map_or("none".into(), svg::num),
            }),
            rows: model::gate_rows(e),
            chart: svg::gate(
                &e.metric,
                e.value,
                e.threshold,
                production.and_then(|p| p.value),
            ),
            run_id: e.run_id.clone(),
        }
    });
    let ctx = Context {
        model: meta.model.clone(),
        commit_sha: meta.commit_sha.clone(),
        commit_short_sha: meta.commit_short_sha.clone().or_else(|| {
            meta.commit_sha
                .as_ref()
                .map(|s| s.chars().take(8).collect())
        }),
        pipeline_id: meta.pipeline_id.clone(),
        pipeline_url: link(meta.pipeline_url.as_deref()),
        job_name: meta.job_name.clone(),
        job_url: link(meta.job_url.as_deref()),
        run_url: link(inputs.run_url.as_deref()),
        overall,
        data: validate.as_ref().map(|v| v.data.clone()),
        reference: validate.as_ref().and_then(|v| v.reference.clone()),
        rows: validate.as_ref().map(|v| v.rows),
        columns,
        failed_checks,
        drift,
        expectations: validate
            .as_ref()
            .map(model::expectation_rows)
            .unwrap_or_default(),
        gates,
        version: crate::VERSION,
    };
    let ctx = minijinja::Value::from(minijinja::value::Serde(&ctx));
    Ok(templates::render("report.html", ctx)?)
}

/// Renders the page and writes it to `path` (atomically, secrets masked).
pub fn write(path: &Path, meta: &Meta, inputs: &Inputs<'_>) -> Result<(), WritePageError> {
    let html = render(meta, inputs)?;
    super::write_file(path, &html).map_err(|source| WritePageError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Why the page was not written.
#[derive(Debug, thiserror::Error)]
pub enum WritePageError {
    /// The inputs or the template.
    #[error(transparent)]
    Page(#[from] PageError),
    /// The file.
    #[error("cannot write the report page `{}`: {source}", path.display())]
    Io {
        /// Where.
        path: std::path::PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn validate() -> Value {
        json!({
            "status": "passed", "data": "d.csv", "reference": "r.csv", "rows": 3,
            "columns": {"x": {"kind": "num", "dtype": "float64", "null_count": 0,
                "null_ratio": 0.0, "max_null_ratio": 0.05, "null_status": "passed",
                "at_threshold": false}},
            "drift": {"dataset_drift": false, "share_of_drifted_columns": 0.0,
                "number_of_columns": 1, "number_of_drifted_columns": 0, "drift_share": 0.5,
                "columns": {"x": {"kind": "num", "status": "tested", "stattest": "ks",
                    "score": 0.5, "threshold": 0.05, "drift_detected": false}}},
            "expectations": [], "checks": []
        })
    }

    #[test]
    fn evaluate_adds_the_gates_and_their_chart() {
        let v = validate();
        let plots = json!({"columns": {"x": {"type": "histogram", "edges": [0.0, 1.0, 2.0],
            "reference": [1, 2], "current": [2, 1]}}});
        let e = json!({"status": "fail", "run_id": "abc", "metric": "accuracy", "value": 0.8,
            "threshold": 0.85, "higher_is_better": true,
            "production": {"alias": "production", "version": "3", "run_id": "p", "value": 0.9},
            "gates": [{"name": "threshold", "status": "fail", "message": "0.8 < 0.85",
                "required": 0.85}]});
        let meta = Meta {
            model: Some("wine".into()),
            job_url: Some("javascript:alert(1)".into()),
            ..Meta::default()
        };
        let inputs = Inputs {
            validate: Some(&v),
            plots: Some(&plots),
            evaluate: Some(&e),
            run_url: Some("https://mlflow.example/#/runs/abc".into()),
        };
        let html = render(&meta, &inputs).unwrap();
        assert!(html.contains("id=\"overall\">✗ failed"), "{html}");
        assert!(html.contains("Quality gates: <span class=\"v bad\">✗ failed"));
        assert!(html.contains("<svg class=\"plot gate\""));
        assert!(html.contains("● accuracy 0.8") && html.contains("◆ production 0.9"));
        assert!(html.contains("threshold 0.85"));
        assert!(html.contains("<td>threshold</td>"));
        assert!(html.contains(
            "href=\"https:&#x2f;&#x2f;mlflow.example&#x2f;#&#x2f;runs&#x2f;abc\">abc</a>"
        ));
        // only http(s) becomes a link
        assert!(!html.contains("javascript:"));
        assert_eq!(html.matches("<svg class=\"plot\"").count(), 1);
        assert_eq!(render(&meta, &inputs).unwrap(), html, "deterministic");
    }

    #[test]
    fn a_foreign_file_is_an_input_error() {
        let bad = json!({"status": 3});
        let Err(PageError::Input { file, .. }) = render(
            &Meta::default(),
            &Inputs {
                validate: Some(&bad),
                ..Inputs::default()
            },
        ) else {
            panic!("refused");
        };
        assert_eq!(file, "validate.json");
    }
}
