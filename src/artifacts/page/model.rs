//! What the page reads: the documented keys of `validate.json`, `validate.plots.json`,
//! `evaluate.json` and `train.json` (`docs/data-checks.md`, "The report page"), and what the
//! template receives: every value already worded and formatted, so the template holds
//! structure only.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::svg::{self, num};

/// `validate.json`, the keys the page shows.
#[derive(Debug, Clone, Deserialize)]
pub struct ValidateView {
    /// `passed` or `failed`.
    pub status: String,
    /// The data file.
    #[serde(default)]
    pub data: String,
    /// The reference file.
    #[serde(default)]
    pub reference: Option<String>,
    /// Data rows.
    #[serde(default)]
    pub rows: u64,
    /// Per column.
    #[serde(default)]
    pub columns: IndexMap<String, ColumnView>,
    /// Drift, when it ran.
    #[serde(default)]
    pub drift: Option<DriftView>,
    /// Suite results.
    #[serde(default)]
    pub expectations: Vec<ExpectationView>,
    /// Every verdict.
    #[serde(default)]
    pub checks: Vec<CheckView>,
}

/// `columns.<name>`.
#[derive(Debug, Clone, Deserialize)]
pub struct ColumnView {
    /// The kind.
    pub kind: String,
    /// The dtype.
    #[serde(default)]
    pub dtype: String,
    /// Nulls.
    pub null_count: u64,
    /// Their ratio.
    pub null_ratio: f64,
    /// The threshold.
    pub max_null_ratio: f64,
    /// `passed` or `failed`.
    pub null_status: String,
    /// Exactly at the threshold.
    #[serde(default)]
    pub at_threshold: bool,
}

/// `drift`.
#[derive(Debug, Clone, Deserialize)]
pub struct DriftView {
    /// The dataset verdict.
    pub dataset_drift: bool,
    /// Drifted share.
    pub share_of_drifted_columns: f64,
    /// Tested columns.
    pub number_of_columns: u64,
    /// Drifted columns.
    pub number_of_drifted_columns: u64,
    /// The dataset threshold.
    pub drift_share: f64,
    /// Per column.
    #[serde(default)]
    pub columns: IndexMap<String, DriftColumnView>,
}

/// `drift.columns.<name>`.
#[derive(Debug, Clone, Deserialize)]
pub struct DriftColumnView {
    /// The kind.
    pub kind: String,
    /// `tested`, `skipped` or `error`.
    pub status: String,
    /// The test.
    #[serde(default)]
    pub stattest: Option<String>,
    /// Its score.
    #[serde(default)]
    pub score: Option<f64>,
    /// Its threshold.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// The verdict.
    #[serde(default)]
    pub drift_detected: Option<bool>,
    /// Why not tested.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `expectations[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectationView {
    /// The expectation type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its arguments.
    #[serde(default)]
    pub kwargs: Value,
    /// `passed`, `failed` or `skipped`.
    pub status: String,
    /// Unexpected rows.
    #[serde(default)]
    pub unexpected_count: Option<u64>,
    /// Their share.
    #[serde(default)]
    pub unexpected_percent: Option<f64>,
    /// The measured value.
    #[serde(default)]
    pub observed_value: Option<Value>,
    /// The exception.
    #[serde(default)]
    pub exception_message: Option<String>,
}

/// `checks[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckView {
    /// What was checked.
    pub name: String,
    /// The check's kind.
    pub kind: String,
    /// The verdict.
    pub status: String,
    /// One line.
    #[serde(default)]
    pub message: String,
}

/// `validate.plots.json`'s `columns.<name>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PlotView {
    /// Shared bins.
    Histogram {
        /// Edges.
        edges: Vec<f64>,
        /// Reference counts.
        reference: Vec<u64>,
        /// Current counts.
        current: Vec<u64>,
    },
    /// Paired bars.
    Bars {
        /// Values.
        labels: Vec<String>,
        /// Reference counts.
        reference: Vec<u64>,
        /// Current counts.
        current: Vec<u64>,
        /// The rest.
        #[serde(default)]
        other: Option<OtherView>,
    },
}

/// The "other" bar.
#[derive(Debug, Clone, Deserialize)]
pub struct OtherView {
    /// How many values.
    pub categories: usize,
    /// Reference count.
    pub reference: u64,
    /// Current count.
    pub current: u64,
}

/// `validate.plots.json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlotsView {
    /// Per tested column.
    #[serde(default)]
    pub columns: IndexMap<String, PlotView>,
}

/// `evaluate.json`, the keys the page shows.
#[derive(Debug, Clone, Deserialize)]
pub struct EvaluateView {
    /// `pass`, `fail` or `error`.
    pub status: String,
    /// The run.
    #[serde(default)]
    pub run_id: String,
    /// The metric.
    pub metric: String,
    /// Its value.
    #[serde(default)]
    pub value: Option<f64>,
    /// Gate 1's threshold.
    pub threshold: f64,
    /// Direction.
    #[serde(default = "yes")]
    pub higher_is_better: bool,
    /// The production model.
    #[serde(default)]
    pub production: Option<ProductionView>,
    /// Each gate.
    #[serde(default)]
    pub gates: Vec<GateView>,
}

fn yes() -> bool {
    true
}

/// `evaluate.json`'s `production`.
#[derive(Debug, Clone, Deserialize)]
pub struct ProductionView {
    /// The alias.
    pub alias: String,
    /// Its version.
    #[serde(default)]
    pub version: Option<String>,
    /// Its value.
    #[serde(default)]
    pub value: Option<f64>,
}

/// `evaluate.json`'s `gates[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct GateView {
    /// `threshold` or `compare`.
    pub name: String,
    /// `pass`, `fail` or `error`.
    pub status: String,
    /// Why.
    #[serde(default)]
    pub message: String,
    /// The value to reach.
    #[serde(default)]
    pub required: Option<f64>,
}

/// A verdict in words, with a symbol and a style class: never colour alone.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// `✓`, `✗`, `▲`, `–` or `!`.
    pub symbol: &'static str,
    /// The word.
    pub word: String,
    /// `ok`, `bad`, `skip` or `err`.
    pub class: &'static str,
}

impl Verdict {
    fn ok(word: &str) -> Self {
        Self {
            symbol: "✓",
            word: word.to_owned(),
            class: "ok",
        }
    }
    fn bad(word: &str) -> Self {
        Self {
            symbol: "✗",
            word: word.to_owned(),
            class: "bad",
        }
    }
    fn skip(word: &str) -> Self {
        Self {
            symbol: "–",
            word: word.to_owned(),
            class: "skip",
        }
    }
    fn err(word: &str) -> Self {
        Self {
            symbol: "!",
            word: word.to_owned(),
            class: "err",
        }
    }

    /// From a status string of any stage (`passed`, `pass`, `failed`, `fail`, `error`, ...).
    pub fn of_status(status: &str) -> Self {
        match status {
            "passed" | "pass" => Self::ok("passed"),
            "failed" | "fail" => Self::bad("failed"),
            "skipped" => Self::skip("skipped"),
            other => Self::err(other),
        }
    }
}

/// One column's card.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnCard {
    /// The column name.
    pub name: String,
    /// Its anchor.
    pub anchor: String,
    /// The kind.
    pub kind: String,
    /// The dtype.
    pub dtype: String,
    /// `null_count (ratio) vs max`, or nothing for a reference-only column.
    pub nulls: Option<String>,
    /// The null verdict.
    pub null_verdict: Option<Verdict>,
    /// `test`, `score`, `threshold` and the comparison, when tested.
    pub drift: Option<DriftLine>,
    /// The drift verdict (drift, no drift, skipped, error), when drift ran.
    pub drift_verdict: Option<Verdict>,
    /// Why the column was not tested.
    pub reason: Option<String>,
    /// The plot, an SVG fragment built by [`svg`] (already escaped).
    pub svg: Option<String>,
}

/// The drift test's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct DriftLine {
    /// The test.
    pub test: String,
    /// What the score is.
    pub score_kind: &'static str,
    /// The score.
    pub score: String,
    /// The comparison that means drift.
    pub rule: String,
}

/// The expectations table's row.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectationRow {
    /// 1-based.
    pub n: usize,
    /// The type.
    pub kind: String,
    /// The column argument.
    pub column: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Unexpected rows.
    pub unexpected: String,
    /// The observed value or the exception.
    pub observed: String,
}

/// The gate table's row.
#[derive(Debug, Clone, Serialize)]
pub struct GateRow {
    /// The gate.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What it required.
    pub required: String,
    /// Why.
    pub message: String,
}

/// Builds the cards of every column: the current data's, then reference-only ones.
pub fn column_cards(v: &ValidateView, plots: &PlotsView) -> Vec<ColumnCard> {
    let drift = v.drift.as_ref();
    let mut names: Vec<&String> = v.columns.keys().collect();
    if let Some(d) = drift {
        names.extend(d.columns.keys().filter(|k| !v.columns.contains_key(*k)));
    }
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let col = v.columns.get(name);
            let dc = drift.and_then(|d| d.columns.get(name));
            let nulls = col.map(|c| {
                format!(
                    "{} ({}) {} max {}",
                    c.null_count,
                    num(c.null_ratio),
                    if c.null_status == "passed" {
                        if c.at_threshold { "=" } else { "≤" }
                    } else {
                        ">"
                    },
                    num(c.max_null_ratio)
                )
            });
            let null_verdict = col.map(|c| Verdict::of_status(&c.null_status));
            let drift_line = dc.filter(|d| d.status == "tested").map(|d| {
                let test = d.stattest.clone().unwrap_or_default();
                let p_value = matches!(test.as_str(), "ks" | "chisquare" | "z");
                let cmp = match test.as_str() {
                    "ks" => "≤",
                    "chisquare" | "z" => "<",
                    _ => "≥",
                };
                DriftLine {
                    score_kind: if p_value { "p-value" } else { "distance" },
                    score: d.score.map_or("-".into(), num),
                    rule: format!("drift when {cmp} {}", d.threshold.map_or("-".into(), num)),
                    test,
                }
            });
            let drift_verdict = dc.map(|d| match (d.status.as_str(), d.drift_detected) {
                ("tested", Some(true)) => Verdict {
                    symbol: "▲",
                    word: "drift".into(),
                    class: "bad",
                },
                ("tested", _) => Verdict::ok("no drift"),
                ("skipped", _) => Verdict::skip("not tested"),
                _ => Verdict::err("error"),
            });
            let svg = dc
                .filter(|d| d.status == "tested")
                .and_then(|_| plots.columns.get(name))
                .map(|p| svg::plot(name, p));
            ColumnCard {
                name: name.clone(),
                anchor: format!("col-{}", i + 1),
                kind: col.map_or_else(
                    || dc.map_or(String::new(), |d| d.kind.clone()),
                    |c| c.kind.clone(),
                ),
                dtype: col.map_or(String::new(), |c| c.dtype.clone()),
                nulls,
                null_verdict,
                drift: drift_line,
                drift_verdict,
                reason: dc.and_then(|d| d.reason.clone()),
                svg,
            }
        })
        .collect()
}

/// The expectations table.
pub fn expectation_rows(v: &ValidateView) -> Vec<ExpectationRow> {
    v.expectations
        .iter()
        .enumerate()
        .map(|(i, e)| ExpectationRow {
            n: i + 1,
            kind: e.kind.clone(),
            column: e
                .kwargs
                .get("column")
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_owned(),
            verdict: Verdict::of_status(&e.status),
            unexpected: match (e.unexpected_count, e.unexpected_percent) {
                (Some(n), Some(p)) => format!("{n} ({} %)", num(p)),
                (Some(n), None) => n.to_string(),
                _ => "-".into(),
            },
            observed: e.observed_value.as_ref().map_or_else(
                || e.exception_message.clone().unwrap_or_else(|| "-".into()),
                |v| cut_text(&v.to_string(), 200),
            ),
        })
        .collect()
}

fn cut_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The gate table.
pub fn gate_rows(e: &EvaluateView) -> Vec<GateRow> {
    e.gates
        .iter()
        .map(|g| GateRow {
            name: g.name.clone(),
            verdict: Verdict::of_status(&g.status),
            required: g.required.map_or("-".into(), num),
            message: g.message.clone(),
        })
        .collect()
}
