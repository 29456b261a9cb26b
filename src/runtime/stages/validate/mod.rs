//! `mlops run validate`: schema, nulls, drift against a reference, a Great Expectations suite
//! and custom check scripts, on one CSV or Parquet file. Writes `validate.json`,
//! `validate.junit.xml` and a table in the log. Exit 0 when everything passes, 1 when a
//! check fails, 2 for bad input.

mod report;
mod settings;

use std::path::{Path, PathBuf};

use clap::Args;

pub use self::report::{CheckEntry, ValidateReport};
use self::settings::Settings;
use crate::artifacts::{self, StageFiles, page};
use crate::exit::Exit;
use crate::runtime::checks;
use crate::runtime::context::{CommonArgs, Context};
use crate::runtime::data::drift_columns::{self, DriftReport};
use crate::runtime::data::quality::{self, ColumnProfile, SchemaReport};
use crate::runtime::data::{self, DataError, Format, Need, Table};
use crate::runtime::error::Error;
use crate::runtime::expectations::{self, ExpectationResult, Suite};
use crate::runtime::{dvc, log};
use crate::stage::Stage;

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
    /// Write the report page here instead of `report.html` in the report directory.
    #[arg(
        long,
        value_name = "PATH",
        env = "MLOPS_HTML",
        conflicts_with = "no_html"
    )]
    pub html: Option<PathBuf>,
    /// Write no report page (`report.html`, `validate.plots.json`).
    #[arg(long, env = "MLOPS_NO_HTML")]
    pub no_html: bool,
}

/// Why validate cannot run, or what it found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidateError {
    /// Neither `--data` nor a model.
    #[error("no data to validate")]
    NoData,
    /// Drift is on but there is nothing to compare with.
    #[error("`enable_drift = true` but no reference data")]
    NoReference,
    /// A null ratio outside [0, 1].
    #[error("`max_null_ratio` must be in [0, 1], got {0}")]
    NullRatio(f64),
    /// Checks failed (exit 1): their names.
    #[error("the data checks failed: {}", .0.join(", "))]
    ChecksFailed(Vec<String>),
}

impl ValidateError {
    /// 1 for failed checks, 2 otherwise.
    pub fn exit(&self) -> Exit {
        match self {
            ValidateError::ChecksFailed(_) => Exit::Failure,
            _ => Exit::Error,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            ValidateError::NoData => {
                "pass `--data FILE`, or `--model NAME` to read `data_path` from mlops.toml"
            }
            ValidateError::NoReference => "set `reference_data_path` or pass `--reference FILE`",
            ValidateError::NullRatio(_) => "write a ratio, for example 0.05 for 5 %",
            ValidateError::ChecksFailed(_) => "see the tables above",
        }
        .to_owned()
    }
}

/// Runs the stage: settings, the data checks, then `validate.json` and `validate.junit.xml`.
pub fn validate(args: &ValidateArgs, ctx: &Context) -> Result<(), Error> {
    let settings = Settings::resolve(args, ctx.model.as_ref(), &ctx.config_dir)?;
    // With DVC on, the data is not in the checkout: pull it as train does.
    if let Some(model) = &ctx.model {
        dvc::pull_for_validate(model)?;
    }
    let html = (!args.no_html).then(|| {
        args.html
            .clone()
            .unwrap_or_else(|| ctx.report_dir.join(page::FILE))
    });
    let report = check(&settings, html.is_some())?;
    report::log_tables(&report);
    let files = StageFiles {
        junit: report::junit_cases(&report),
        ..StageFiles::default()
    };
    artifacts::write_stage(&ctx.report_dir, Stage::Validate, &report, &files)?;
    let page = html.map(|path| write_page(&path, &report, ctx));
    if args.no_html {
        // plots of an earlier run would end up on evaluate's page next to these results
        let _ = std::fs::remove_file(ctx.report_dir.join(page::PLOTS_FILE));
    }
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| c.status != "passed")
        .map(|c| c.name.clone())
        .collect();
    // A page that cannot be written is bad usage (exit 2), and says so before the verdict.
    let mut errors: Vec<Error> = page.and_then(Result::err).into_iter().collect();
    if failed.is_empty() {
        log::info(&format!(
            "validate: passed ({} rows, {} columns)",
            report.rows,
            report.columns.len()
        ));
    } else {
        errors.push(ValidateError::ChecksFailed(failed).into());
    }
    Error::all(errors)
}

/// Writes `validate.plots.json` into the report directory (evaluate renders the page again
/// from it) and the page to `path`.
fn write_page(path: &Path, report: &ValidateReport, ctx: &Context) -> Result<(), Error> {
    let plots = report::plots(report);
    // compact: a hundred histograms pretty-printed would be mostly indentation
    let text = format!("{plots}\n");
    artifacts::write_file(&ctx.report_dir.join(page::PLOTS_FILE), &text).map_err(|source| {
        artifacts::WriteError::Io {
            dir: ctx.report_dir.clone(),
            source,
        }
    })?;
    let json = serde_json::to_value(report).map_err(|e| {
        page::WritePageError::Page(page::PageError::Input {
            file: "validate.json",
            source: e,
        })
    })?;
    let meta = page::Meta::from_env(ctx.model.as_ref().map(|m| m.name.as_str()));
    let inputs = page::Inputs {
        validate: Some(&json),
        plots: Some(&plots),
        ..page::Inputs::default()
    };
    page::write(path, &meta, &inputs)?;
    log::info(&format!("report page: {}", path.display()));
    Ok(())
}

/// Reads the data and runs every check on it; with `plots`, drift keeps each tested column's
/// plot data.
fn check(s: &Settings, plots: bool) -> Result<ValidateReport, Error> {
    // Suite problems are bad input: find them before the (slow) data read.
    let suite = s
        .expectations
        .as_deref()
        .map(expectations::load)
        .transpose()?;
    let (table, reference) = read(s, suite.is_some())?;
    let columns = quality::profile(&table, &s.quality);
    let schema = quality::schema(&table, &columns, &s.quality);
    let mut checks = Vec::new();
    if table.rows == 0 {
        // A header alone passes every column check vacuously; no data is not data to train on.
        checks.push(CheckEntry::new(
            "rows",
            "schema",
            false,
            "the file has a header but no data rows",
        ));
    }
    checks.extend(schema_checks(s, &schema));
    checks.extend(null_checks(&table, &columns));
    let drift = reference.as_ref().map(|r| {
        let _s = log::Section::start("mlops_drift", "drift against the reference", true);
        drift_columns::compare(r, &table, plots)
    });
    checks.extend(drift.as_ref().map(drift_check));
    let mut results = Vec::new();
    if let (Some(suite), Some(path)) = (&suite, &s.expectations) {
        results = expectations::evaluate(&table, suite, path, s.allow_unknown)?;
        checks.push(suite_check(suite, &results));
    }
    for script in &s.checks {
        let _s = log::Section::start("mlops_check", &format!("check {script}"), false);
        let out = checks::run_script(script, &s.data)?;
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

/// The data and the reference, read side by side.
fn read(s: &Settings, with_suite: bool) -> Result<(Table, Option<Table>), DataError> {
    let load = |path: &PathBuf, need| data::load(path, s.format, need);
    std::thread::scope(|sc| {
        let r = s
            .reference
            .as_ref()
            .map(|p| sc.spawn(move || load(p, Need::Values)));
        // Schema and null checks alone need no float values.
        let need = if s.reference.is_some() || with_suite {
            Need::Values
        } else {
            Need::Profile
        };
        let table = load(&s.data, need);
        let reference = r
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataError::new(
                        Path::new(s.reference.as_deref().unwrap_or(Path::new(""))),
                        "the reader stopped unexpectedly",
                        "this is a bug in mlops; please report it",
                    ))
                })
            })
            .transpose();
        Ok((table?, reference?))
    })
}

/// Required columns and expected kinds.
fn schema_checks(s: &Settings, schema: &SchemaReport) -> Vec<CheckEntry> {
    let mut checks = Vec::new();
    for c in &s.quality.required_columns {
        let ok = !schema.missing_columns.contains(c);
        let msg = if ok {
            "present"
        } else {
            "required column is missing"
        };
        checks.push(CheckEntry::new(c, "schema", ok, msg));
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
    checks
}

/// One null-ratio verdict per column.
fn null_checks(
    table: &Table,
    columns: &indexmap::IndexMap<String, ColumnProfile>,
) -> Vec<CheckEntry> {
    columns
        .iter()
        .map(|(name, p)| {
            let cmp = if p.null_status == "passed" {
                if p.at_threshold { "=" } else { "<=" }
            } else {
                ">"
            };
            let msg = format!(
                "null ratio {} ({}/{}) {cmp} {}",
                p.null_ratio, p.null_count, table.rows, p.max_null_ratio
            );
            CheckEntry::new(name, "nulls", p.null_status == "passed", msg)
        })
        .collect()
}

/// The dataset drift verdict; an error when columns could not be tested and none drifted.
fn drift_check(d: &DriftReport) -> CheckEntry {
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
    e
}

/// The suite's verdict.
fn suite_check(suite: &Suite, results: &[ExpectationResult]) -> CheckEntry {
    let failed = results.iter().filter(|r| r.success == Some(false)).count();
    CheckEntry::new(
        suite.name.clone(),
        "expectations",
        failed == 0,
        format!("{} of {} expectations failed", failed, results.len()),
    )
}
