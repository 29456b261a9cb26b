//! `mlops run validate`: schema, nulls, drift against a reference, a Great Expectations suite
//! and custom check scripts, on one CSV or Parquet file. Writes `validate.json`,
//! `validate.junit.xml` and a table in the log. Exit 0 when everything passes, 1 when a
//! check fails, 2 for bad input.

use std::path::{Path, PathBuf};

use clap::Args;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::cli::report;
use crate::exit::Exit;
use crate::artifacts::junit::{Case, Outcome};
use crate::runtime::checks;
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::data::drift_columns::{self, DriftReport};
use crate::runtime::data::quality::{
    self, ColumnProfile, DEFAULT_MAX_NULL_RATIO, QualitySettings, SchemaReport,
};
use crate::runtime::data::{self, Format, Need, Table};
use crate::runtime::expectations::{self, ExpectationResult};
use crate::runtime::log;

/// Arguments of `mlops run validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
    /// The data to check (CSV or Parquet). Default: the model's `data_path`.
    #[arg(long, env = "MLOPS_DATA")]
    pub data: Option<PathBuf>,
    /// A reference to test drift against; giving it turns drift on. Default: the model's
    /// `reference_data_path` when `enable_drift = true`.
    #[arg(long, env = "MLOPS_REFERENCE")]
    pub reference: Option<PathBuf>,
    /// Columns that must be present (comma-separated).
    #[arg(long, env = "MLOPS_REQUIRED_COLUMNS", value_delimiter = ',')]
    pub required_columns: Option<Vec<String>>,
    /// The largest null ratio a column may have (default 0.05; equal passes).
    #[arg(long, env = "MLOPS_MAX_NULL_RATIO")]
    pub max_null_ratio: Option<f64>,
    /// A Great Expectations 1.x suite (JSON).
    #[arg(long, env = "MLOPS_EXPECTATIONS")]
    pub expectations: Option<PathBuf>,
    /// Report unknown expectation types as skipped instead of failing with exit 2.
    #[arg(long, env = "MLOPS_ALLOW_UNKNOWN")]
    pub allow_unknown: bool,
    /// A custom check script, run as `python SCRIPT --data FILE` (repeatable).
    #[arg(long = "check", env = "MLOPS_CHECKS", value_delimiter = ',')]
    pub checks: Vec<String>,
    /// Read the data as this format instead of guessing from the extension.
    #[arg(long, env = "MLOPS_FORMAT", value_enum)]
    pub format: Option<Format>,
}

/// Everything the stage does, resolved from the model and the flags.
#[derive(Debug, Clone)]
struct Settings {
    data: PathBuf,
    reference: Option<PathBuf>,
    quality: QualitySettings,
    expectations: Option<PathBuf>,
    allow_unknown: bool,
    checks: Vec<String>,
    format: Option<Format>,
}

fn settings(args: &ValidateArgs, ctx: &Context) -> Result<Settings, Exit> {
    // Paths in mlops.toml are relative to the directory that holds it.
    let base = args
        .common
        .config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let rel = |p: &str| base.join(p);
    let m = ctx.model.as_ref();
    let v = m.map(|m| m.validation.clone()).unwrap_or_default();
    let Some(data) = args.data.clone().or_else(|| m.map(|m| rel(&m.data_path))) else {
        report::error(
            "no data to validate",
            Some("pass `--data FILE`, or `--model NAME` to read `data_path` from mlops.toml"),
        );
        return Err(Exit::Error);
    };
    let reference = args.reference.clone().or_else(|| {
        m.filter(|m| m.enable_drift)
            .and_then(|m| m.reference_data_path.as_deref())
            .map(rel)
    });
    if m.is_some_and(|m| m.enable_drift) && reference.is_none() {
        report::error(
            "`enable_drift = true` but no reference data",
            Some("set `reference_data_path` or pass `--reference FILE`"),
        );
        return Err(Exit::Error);
    }
    let max_null_ratio = args
        .max_null_ratio
        .or(v.max_null_ratio)
        .unwrap_or(DEFAULT_MAX_NULL_RATIO);
    if !(0.0..=1.0).contains(&max_null_ratio) {
        report::error(
            &format!("`max_null_ratio` must be in [0, 1], got {max_null_ratio}"),
            Some("write a ratio, for example 0.05 for 5 %"),
        );
        return Err(Exit::Error);
    }
    let mut checks = args.checks.clone();
    if checks.is_empty() {
        checks = v
            .checks
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|c| rel(c).to_string_lossy().into_owned())
            .collect();
    }
    Ok(Settings {
        data,
        reference,
        quality: QualitySettings {
            required_columns: args
                .required_columns
                .clone()
                .or(v.required_columns)
                .unwrap_or_default(),
            column_kinds: v.column_kinds.unwrap_or_default(),
            max_null_ratio,
            null_ratio: v.null_ratio.unwrap_or_default(),
        },
        expectations: args
            .expectations
            .clone()
            .or_else(|| v.expectations.as_deref().map(rel)),
        allow_unknown: args.allow_unknown || v.allow_unknown_expectations.unwrap_or(false),
        checks,
        format: args.format,
    })
}

/// One entry of `checks[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckEntry {
    /// What was checked (a column, a script, `dataset`).
    pub name: String,
    /// `schema`, `nulls`, `drift`, `expectations` or `script`.
    pub kind: &'static str,
    /// `passed`, `failed` or `error`.
    pub status: &'static str,
    /// One line for people.
    pub message: String,
    /// A script's JSON output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl CheckEntry {
    fn new(
        name: impl Into<String>,
        kind: &'static str,
        ok: bool,
        message: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            kind,
            status: if ok { "passed" } else { "failed" },
            message: message.into(),
            details: None,
        }
    }
}

/// `validate.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    /// `passed` or `failed`.
    pub status: &'static str,
    /// The data file.
    pub data: String,
    /// The reference file, when drift ran.
    pub reference: Option<String>,
    /// Data rows.
    pub rows: usize,
    /// Per column.
    pub columns: IndexMap<String, ColumnProfile>,
    /// Required columns and kinds.
    pub schema: SchemaReport,
    /// Drift, when a reference was given.
    pub drift: Option<DriftReport>,
    /// Suite results, in suite order.
    pub expectations: Vec<ExpectationResult>,
    /// Every verdict, flat.
    pub checks: Vec<CheckEntry>,
}

fn load(path: &Path, format: Option<Format>, need: Need) -> Result<Table, Exit> {
    data::load(path, format, need).map_err(|e| {
        report::error(&e.message, Some(&e.hint));
        Exit::Error
    })
}

/// Runs the stage.
pub fn run(args: &ValidateArgs) -> Exit {
    let ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let s = match settings(args, &ctx) {
        Ok(s) => s,
        Err(e) => return e,
    };
    // With DVC on, the data is not in the checkout: pull it as train does.
    if let Some(model) = &ctx.model {
        if let Err(e) = crate::runtime::dvc::pull_for_validate(model) {
            return e;
        }
    }
    match execute(&s) {
        Ok(r) => finish(&r, &ctx.report_dir),
        Err(e) => e,
    }
}

fn execute(s: &Settings) -> Result<ValidateReport, Exit> {
    // Suite problems are bad input: find them before the (slow) data read.
    let suite = match &s.expectations {
        Some(p) => Some(expectations::load(p).map_err(|e| {
            report::error(&e.message, Some(&e.hint));
            Exit::Error
        })?),
        None => None,
    };
    let (table, reference) = std::thread::scope(|sc| {
        let r = s
            .reference
            .as_ref()
            .map(|p| sc.spawn(move || load(p, s.format, Need::Values)));
        // Schema and null checks alone need no float values.
        let need = if s.reference.is_some() || suite.is_some() {
            Need::Values
        } else {
            Need::Profile
        };
        let t = load(&s.data, s.format, need);
        (t, r.map(|h| h.join().unwrap_or(Err(Exit::Error))))
    });
    let table = table?;
    let reference = reference.transpose()?;
    let mut checks = Vec::new();
    let columns = quality::profile(&table, &s.quality);
    let schema = quality::schema(&table, &columns, &s.quality);
    for c in &s.quality.required_columns {
        let ok = !schema.missing_columns.contains(c);
        checks.push(CheckEntry::new(
            c,
            "schema",
            ok,
            if ok {
                "present"
            } else {
                "required column is missing"
            },
        ));
    }
    for (c, want) in &s.quality.column_kinds {
        let m = schema.kind_mismatches.iter().find(|m| &m.column == c);
        let want = data::kinds::name(*want);
        let msg = m.map_or_else(
            || format!("kind {want}"),
            |m| format!("expected kind {want}, found {}", m.actual),
        );
        checks.push(CheckEntry::new(
            format!("{c} kind"),
            "schema",
            m.is_none(),
            msg,
        ));
    }
    for (name, p) in &columns {
        let cmp = if p.null_status == "passed" {
            if p.at_threshold { "=" } else { "<=" }
        } else {
            ">"
        };
        let msg = format!(
            "null ratio {} ({}/{}) {cmp} {}",
            p.null_ratio, p.null_count, table.rows, p.max_null_ratio
        );
        checks.push(CheckEntry::new(
            name,
            "nulls",
            p.null_status == "passed",
            msg,
        ));
    }
    let drift = reference.as_ref().map(|r| {
        let _s = log::Section::start("mlops_drift", "drift against the reference", true);
        drift_columns::run(r, &table)
    });
    if let Some(d) = &drift {
        let errors = d.columns.values().filter(|c| c.status == "error").count();
        let mut e = CheckEntry::new(
            "dataset",
            "drift",
            !d.dataset_drift && errors == 0,
            format!(
                "{} of {} tested columns drifted (share {:.4}, dataset drift at >= {}){}",
                d.number_of_drifted_columns,
                d.number_of_columns,
                d.share_of_drifted_columns,
                d.drift_share,
                if errors > 0 {
                    format!("; {errors} column(s) could not be tested")
                } else {
                    String::new()
                }
            ),
        );
        if errors > 0 && !d.dataset_drift {
            e.status = "error";
        }
        checks.push(e);
    }
    let mut results = Vec::new();
    if let (Some(suite), Some(path)) = (&suite, &s.expectations) {
        results = expectations::run(&table, suite, path, s.allow_unknown).map_err(|e| {
            report::error(&e.message, Some(&e.hint));
            Exit::Error
        })?;
        let failed = results.iter().filter(|r| r.success == Some(false)).count();
        checks.push(CheckEntry::new(
            suite.name.clone(),
            "expectations",
            failed == 0,
            format!("{} of {} expectations failed", failed, results.len()),
        ));
    }
    for script in &s.checks {
        let _s = log::Section::start("mlops_check", &format!("check {script}"), false);
        let out = checks::run(script, &s.data).map_err(|e| {
            report::error(&e.message, Some(&e.hint));
            Exit::Error
        })?;
        let mut e = CheckEntry::new(script, "script", out.passed, out.message);
        e.details = out.details;
        checks.push(e);
    }
    let ok = checks.iter().all(|c| c.status == "passed");
    Ok(ValidateReport {
        status: if ok { "passed" } else { "failed" },
        data: s.data.display().to_string(),
        reference: s.reference.as_ref().map(|p| p.display().to_string()),
        rows: table.rows,
        columns,
        schema,
        drift,
        expectations: results,
        checks,
    })
}

fn f(x: Option<f64>) -> String {
    x.map_or_else(
        || "-".into(),
        |v| {
            format!("{v:.6}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned()
        },
    )
}

/// The `JUnit` cases: one per check (drift as one per tested column plus the dataset
/// verdict), one per expectation.
fn junit_cases(r: &ValidateReport) -> Vec<Case> {
    let mut cases = Vec::new();
    for c in r.checks.iter().filter(|c| c.kind != "expectations") {
        let outcome = match c.status {
            "passed" => Outcome::Pass,
            "error" => Outcome::Error(c.message.clone()),
            _ => Outcome::Failure(c.message.clone()),
        };
        cases.push(Case::new(
            format!("validate.{}", c.kind),
            c.name.clone(),
            outcome,
        ));
    }
    if let Some(d) = &r.drift {
        for (name, c) in &d.columns {
            let outcome = match (c.status, c.drift_detected) {
                ("tested", Some(true)) => Outcome::Failure(format!(
                    "drift detected: {} = {} (threshold {})",
                    c.stattest.unwrap_or_default(),
                    f(c.score),
                    f(c.threshold)
                )),
                ("tested", _) => Outcome::Pass,
                ("error", _) => Outcome::Error(c.reason.clone().unwrap_or_default()),
                _ => Outcome::Skipped(c.reason.clone().unwrap_or_default()),
            };
            cases.push(Case::new("validate.drift.columns", name.clone(), outcome));
        }
    }
    for (i, e) in r.expectations.iter().enumerate() {
        let col = e
            .kwargs
            .get("column")
            .and_then(Value::as_str)
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let name = format!("#{} {}{col}", i + 1, e.kind);
        let outcome = match (e.status, &e.exception_message) {
            ("passed", _) => Outcome::Pass,
            ("skipped", m) => Outcome::Skipped(m.clone().unwrap_or_default()),
            (_, Some(m)) => Outcome::Error(m.clone()),
            _ => Outcome::Failure(format!(
                "unexpected {} ({}%), observed {}",
                e.unexpected_count.map_or("-".into(), |n| n.to_string()),
                f(e.unexpected_percent),
                e.observed_value
                    .as_ref()
                    .map_or("-".into(), Value::to_string)
            )),
        };
        cases.push(Case::new("validate.expectations", name, outcome));
    }
    cases
}

fn log_tables(r: &ValidateReport) {
    let mut rows = vec![vec![
        "column".into(),
        "kind".into(),
        "nulls".into(),
        "ratio".into(),
        "max".into(),
        "result".into(),
    ]];
    for (n, p) in &r.columns {
        let res = if p.null_status == "failed" {
            "FAIL"
        } else if p.at_threshold {
            "ok (at threshold)"
        } else {
            "ok"
        };
        rows.push(vec![
            n.clone(),
            p.kind.into(),
            p.null_count.to_string(),
            f(Some(p.null_ratio)),
            f(Some(p.max_null_ratio)),
            res.into(),
        ]);
    }
    log::info(&log::table(&rows));
    if let Some(d) = &r.drift {
        let mut rows = vec![vec![
            "column".into(),
            "kind".into(),
            "test".into(),
            "score".into(),
            "threshold".into(),
            "drift".into(),
        ]];
        for (n, c) in &d.columns {
            let verdict = match (c.status, c.drift_detected) {
                ("tested", Some(true)) => "DRIFT".to_owned(),
                ("tested", _) => "no".to_owned(),
                (s, _) => format!("{s}: {}", c.reason.clone().unwrap_or_default()),
            };
            rows.push(vec![
                n.clone(),
                c.kind.into(),
                c.stattest.unwrap_or("-").into(),
                f(c.score),
                f(c.threshold),
                verdict,
            ]);
        }
        log::info(&log::table(&rows));
        log::info(&format!(
            "dataset drift: {} ({} of {} columns, share {})",
            d.dataset_drift,
            d.number_of_drifted_columns,
            d.number_of_columns,
            f(Some(d.share_of_drifted_columns))
        ));
    }
    if !r.expectations.is_empty() {
        let mut rows = vec![vec![
            "#".into(),
            "expectation".into(),
            "column".into(),
            "result".into(),
            "unexpected".into(),
            "observed".into(),
        ]];
        for (i, e) in r.expectations.iter().enumerate() {
            rows.push(vec![
                (i + 1).to_string(),
                e.kind.clone(),
                e.kwargs
                    .get("column")
                    .and_then(Value::as_str)
                    .unwrap_or("-")
                    .into(),
                e.status.to_uppercase(),
                e.unexpected_count.map_or("-".into(), |n| n.to_string()),
                e.observed_value.as_ref().map_or_else(
                    || e.exception_message.clone().unwrap_or("-".into()),
                    Value::to_string,
                ),
            ]);
        }
        log::info(&log::table(&rows));
    }
    let mut rows = vec![vec![
        "check".into(),
        "kind".into(),
        "result".into(),
        "message".into(),
    ]];
    for c in r
        .checks
        .iter()
        .filter(|c| c.status != "passed" || c.kind != "nulls")
    {
        rows.push(vec![
            c.name.clone(),
            c.kind.into(),
            c.status.to_uppercase(),
            c.message.clone(),
        ]);
    }
    log::info(&log::table(&rows));
}

fn finish(r: &ValidateReport, dir: &Path) -> Exit {
    log_tables(r);
    let json = dir.join("validate.json");
    let xml = dir.join("validate.junit.xml");
    let written = crate::artifacts::write_json(&json, r).and_then(|()| {
        crate::artifacts::write_file(
            &xml,
            &crate::artifacts::junit::render("validate", &junit_cases(r)),
        )
    });
    if let Err(e) = written {
        report::error(
            &format!("cannot write reports to `{}`: {e}", dir.display()),
            Some("check `--report-dir` and its permissions"),
        );
        return Exit::Error;
    }
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status != "passed")
        .map(|c| c.name.as_str())
        .collect();
    if failed.is_empty() {
        log::info(&format!(
            "validate: passed ({} rows, {} columns)",
            r.rows,
            r.columns.len()
        ));
        Exit::Success
    } else {
        log::info(&format!("validate: FAILED: {}", failed.join(", ")));
        Exit::Failure
    }
}
