//! The merge-request note evaluate posts: GitLab Flavored Markdown, pure and deterministic
//! (the same report gives the same bytes), found again on later pipelines by its first line,
//! a hidden marker ([`marker`]). `docs/runtime.md` shows an example.
//!
//! Every name that comes from the user (model, metric, column, alias) is shown as a code
//! span ([`code`]): GitLab renders neither HTML nor references (`@user`, `#1`, `!2`) inside
//! one, so a name cannot ping anyone or inject markup; `|` is escaped for tables and line
//! breaks become spaces.

use std::fmt::Write as _;

use serde_json::Value;

use super::EvaluateReport;
use crate::runtime::gate::{GateResult, Verdict};

/// GitLab refuses a longer note: `validates :note, length: { maximum:
/// Gitlab::Database::MAX_TEXT_SIZE_LIMIT }` (1 000 000 characters) in
/// `app/models/concerns/notes/active_record.rb`.
pub const MAX_NOTE_CHARS: usize = 1_000_000;

/// Names longer than this are cut in the note (the reports keep them whole).
const MAX_NAME_CHARS: usize = 80;

/// Columns named at most in one data-check row.
const MAX_LISTED: usize = 5;

/// The note's first line: an HTML comment naming the model. The name is percent-encoded
/// (everything but ASCII letters, digits, `.` and `_`), so it can neither end the comment
/// (`-->`, `--!>`) nor match another model's marker.
pub fn marker(model: &str) -> String {
    let mut enc = String::with_capacity(model.len());
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' {
            enc.push(char::from(b));
        } else {
            let _ = write!(enc, "%{b:02X}");
        }
    }
    format!("<!-- mlops:evaluate-note model={enc} -->")
}

/// `text` as an inline code span. In a table cell (`cell`), `|` is escaped as GitLab's
/// table parser expects; control characters and line breaks become spaces; the fence is one
/// backtick longer than the longest run inside.
pub fn code(text: &str, cell: bool) -> String {
    code_max(text, cell, MAX_NAME_CHARS)
}

/// [`code`] with another length limit.
fn code_max(text: &str, cell: bool, max: usize) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() > max {
        clean = clean.chars().take(max - 1).collect::<String>() + "…";
    }
    if cell {
        clean = clean.replace('|', "\\|");
    }
    let longest = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A space inside the fence keeps a leading or trailing backtick out of it.
    let pad = if clean.starts_with('`') || clean.ends_with('`') || clean.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

/// What validate found, read from `validate.json` (absent: "not available").
#[derive(Debug, Clone, PartialEq)]
pub struct DataChecks {
    /// `passed` or `failed`.
    pub passed: bool,
    /// Data rows.
    pub rows: u64,
    /// Columns read.
    pub columns: usize,
    /// Required columns that are missing.
    pub missing: Vec<String>,
    /// Null cells in all columns.
    pub nulls: u64,
    /// Columns over their null limit.
    pub null_failures: Vec<String>,
    /// `(drifted, tested, share, dataset drift)`, when drift ran.
    pub drift: Option<(u64, u64, f64, bool)>,
    /// Drifted columns.
    pub drifted: Vec<String>,
    /// Expectations passed and failed (`None` without a suite).
    pub expectations: Option<(usize, usize)>,
}

impl DataChecks {
    /// Reads the keys of `validate.json` (`docs/runtime.md`); `None` when it is not one.
    pub fn from_report(v: &Value) -> Option<Self> {
        let status = v["status"].as_str()?;
        let columns = v["columns"].as_object()?;
        let mut nulls = 0;
        let mut null_failures = Vec::new();
        for (name, c) in columns {
            nulls += c["null_count"].as_u64().unwrap_or(0);
            if c["null_status"] == "failed" {
                null_failures.push(name.clone());
            }
        }
        let strings = |x: &Value| -> Vec<String> {
            x.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        let drift = v["drift"].as_object().map(|d| {
            (
                d.get("number_of_drifted_columns")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                d.get("number_of_columns")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                d.get("share_of_drifted_columns")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                d.get("dataset_drift")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            )
        });
        let drifted = v["drift"]["columns"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, c)| c["drift_detected"] == true)
            .map(|(n, _)| n.clone())
            .collect();
        let expectations = v["expectations"]
            .as_array()
            .filter(|a| !a.is_empty())
            .map(|a| {
                let count = |s: &str| a.iter().filter(|e| e["status"] == s).count();
                (count("passed"), count("failed"))
            });
        Some(Self {
            passed: status == "passed",
            rows: v["rows"].as_u64().unwrap_or(0),
            columns: columns.len(),
            missing: strings(&v["schema"]["missing_columns"]),
            nulls,
            null_failures,
            drift,
            drifted,
            expectations,
        })
    }
}

/// The links under the tables; each one is left out when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The MLflow run (or GitLab's experiment page).
    pub run: Option<String>,
    /// `CI_JOB_URL`.
    pub job: Option<String>,
    /// The report page in the job's artifacts.
    pub report: Option<String>,
}

/// Everything in one note.
#[derive(Debug, Clone)]
pub struct NoteInput<'a> {
    /// The model the note is about (its marker).
    pub model: &'a str,
    /// evaluate's report.
    pub report: &'a EvaluateReport,
    /// What validate found, when its report is in the report directory.
    pub data: Option<DataChecks>,
    /// The links.
    pub links: Links,
    /// `CI_PIPELINE_ID` and `CI_COMMIT_SHA`, for the footer.
    pub pipeline: Option<String>,
    /// The commit.
    pub commit: Option<String>,
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ pass",
        Verdict::Fail => "❌ fail",
        Verdict::Error => "⚠️ error",
    }
}

/// A number as the log shows it.
fn num(v: f64) -> String {
    format!("{v}")
}

/// A signed difference, rounded to 6 decimals (no binary noise such as `0.0121999…`).
fn delta(d: f64) -> String {
    let r = (d * 1e6).round() / 1e6;
    if r == 0.0 {
        "±0".to_owned()
    } else {
        format!("{r:+}")
    }
}

fn gate_row(r: &EvaluateReport, g: &GateResult) -> String {
    let dir = if r.higher_is_better { "≥" } else { "≤" };
    let value = r.value.map_or_else(|| "—".to_owned(), num);
    let required = g
        .required
        .map_or_else(|| "—".to_owned(), |t| format!("{dir} {}", num(t)));
    let (production, reference) = match (g.name.as_str(), &r.production) {
        ("compare", Some(p)) => {
            let shown = match (&p.version, p.value) {
                (Some(ver), Some(v)) => format!(
                    "{} (version {}, alias {})",
                    num(v),
                    code(ver, true),
                    code(&p.alias, true)
                ),
                (Some(ver), None) => format!(
                    "unknown (version {}, alias {})",
                    code(ver, true),
                    code(&p.alias, true)
                ),
                _ => format!("none yet (alias {})", code(&p.alias, true)),
            };
            (shown, p.value)
        }
        _ => ("—".to_owned(), g.required),
    };
    let d = match (r.value, reference) {
        (Some(v), Some(x)) if v.is_finite() && x.is_finite() => delta(v - x),
        _ => "—".to_owned(),
    };
    format!(
        "| {} | {} | {value} | {required} | {production} | {d} | {} |",
        g.name,
        code(&r.metric, true),
        verdict(g.status)
    )
}

fn listed(names: &[String]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_LISTED)
        .map(|n| code(n, true))
        .collect();
    if names.len() > MAX_LISTED {
        shown.push(format!("and {} more", names.len() - MAX_LISTED));
    }
    shown.join(", ")
}

fn data_section(out: &mut Vec<String>, data: Option<&DataChecks>) {
    let Some(d) = data else {
        out.push(
            "**Data checks:** not available (no `validate.json` from the validate job).".to_owned(),
        );
        return;
    };
    let head = if d.passed { "✅ passed" } else { "❌ failed" };
    out.push(format!("**Data checks: {head}** ({} rows)", d.rows));
    out.push(String::new());
    out.push("| check | result |".to_owned());
    out.push("|---|---|".to_owned());
    let mut cols = format!("{} read", d.columns);
    if !d.missing.is_empty() {
        let _ = write!(cols, "; ❌ missing: {}", listed(&d.missing));
    }
    out.push(format!("| columns | {cols} |"));
    let nulls = if d.null_failures.is_empty() {
        format!("✅ {} null cells, every column within its limit", d.nulls)
    } else {
        format!(
            "❌ {} null cells; over the limit: {}",
            d.nulls,
            listed(&d.null_failures)
        )
    };
    out.push(format!("| nulls | {nulls} |"));
    let drift = match d.drift {
        None => "not checked (no reference data)".to_owned(),
        Some((drifted, tested, share, dataset)) => {
            let mark = if dataset {
                "❌ dataset drift"
            } else {
                "✅ no dataset drift"
            };
            let mut s = format!(
                "{mark}: {drifted} of {tested} columns drifted ({} %)",
                num((share * 1000.0).round() / 10.0)
            );
            if !d.drifted.is_empty() {
                let _ = write!(s, ": {}", listed(&d.drifted));
            }
            s
        }
    };
    out.push(format!("| drift | {drift} |"));
    let exp = match d.expectations {
        None => "no suite".to_owned(),
        Some((ok, 0)) => format!("✅ {ok} passed, 0 failed"),
        Some((ok, bad)) => format!("❌ {ok} passed, {bad} failed"),
    };
    out.push(format!("| expectations | {exp} |"));
}

/// A URL safe inside `(...)` of a Markdown link.
fn link_target(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '(' => "%28".to_owned(),
            ')' => "%29".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// The note's Markdown, at most [`MAX_NOTE_CHARS`] characters.
pub fn render(input: &NoteInput<'_>) -> String {
    let r = input.report;
    let model = code(input.model, false);
    let heading = match r.status {
        Verdict::Pass => format!("### ✅ {model} passed the quality gate"),
        Verdict::Fail => format!("### ❌ {model} failed the quality gate"),
        Verdict::Error => format!("### ⚠️ {model}: the quality gate could not be decided"),
    };
    let mut out = vec![marker(input.model), heading, String::new()];
    out.push("| gate | metric | value | threshold | production | delta | verdict |".to_owned());
    out.push("|---|---|---|---|---|---|---|".to_owned());
    for g in &r.gates {
        out.push(gate_row(r, g));
    }
    out.push(String::new());
    out.push(
        "<sub>delta: the value minus the threshold, or minus production's value</sub>".to_owned(),
    );
    out.push(String::new());
    let failing: Vec<&GateResult> = r
        .gates
        .iter()
        .filter(|g| g.status != Verdict::Pass)
        .collect();
    if !failing.is_empty() {
        for g in failing {
            // Messages hold the metric's name: as plain text, but inside a code span.
            out.push(format!(
                "- {}: {}",
                g.name,
                code_max(&g.message, false, 400)
            ));
        }
        out.push(String::new());
    }
    data_section(&mut out, input.data.as_ref());
    out.push(String::new());
    let links: Vec<String> = [
        ("MLflow run", &input.links.run),
        ("job", &input.links.job),
        ("report", &input.links.report),
    ]
    .iter()
    .filter_map(|(label, url)| {
        url.as_ref()
            .map(|u| format!("[{label}]({})", link_target(u)))
    })
    .collect();
    if !links.is_empty() {
        out.push(links.join(" · "));
        out.push(String::new());
    }
    let mut footer = format!("mlops {}", crate::VERSION);
    if let Some(p) = &input.pipeline {
        let _ = write!(footer, " · pipeline {}", code(p, false));
    }
    if let Some(c) = &input.commit {
        let short: String = c.chars().take(8).collect();
        let _ = write!(footer, " · commit {}", code(&short, false));
    }
    footer.push_str(" · this note is updated by every pipeline of the merge request");
    out.push(format!("<sub>{footer}</sub>"));
    truncate(&(out.join("\n") + "\n"))
}

/// `text` cut at a line boundary to fit GitLab's limit, with a last line saying so.
fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_NOTE_CHARS {
        return text.to_owned();
    }
    // Every kept line ends with `\n`: one more makes the blank line before the notice.
    let tail = "\n… (cut to fit GitLab's note limit; see the job's `evaluate.json`)\n";
    let budget = MAX_NOTE_CHARS - tail.chars().count();
    let mut out = String::new();
    let mut used = 0;
    for line in text.split_inclusive('\n') {
        let n = line.chars().count();
        if used + n > budget {
            break;
        }
        out.push_str(line);
        used += n;
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
#[path = "note_tests.rs"]
mod tests;
