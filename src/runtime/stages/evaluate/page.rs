//! Evaluate's part of the report page: it renders `report.html` again from what validate left
//! in the report directory (`validate.json`, `validate.plots.json`, which reach this job
//! through the artifacts of the jobs it needs) plus its own gates and train's run link
//! (`docs/data-checks.md`, "The report page"). A page that cannot be made is a warning: the
//! gate's verdict stands either way.

use std::path::Path;

use serde_json::Value;

use super::EvaluateReport;
use crate::artifacts::page;
use crate::runtime::context::Context;
use crate::runtime::log;

fn read(dir: &Path, name: &str) -> Result<Option<Value>, String> {
    match std::fs::read_to_string(dir.join(name)) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("`{name}` is not JSON: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read `{name}`: {e}")),
    }
}

/// Writes `report.html` into the report directory; logs a warning instead of failing.
pub(super) fn render(ctx: &Context, report: &EvaluateReport) {
    if let Err(e) = try_render(ctx, report) {
        log::warn(&format!("the report page was not written: {e}"));
    }
}

fn try_render(ctx: &Context, report: &EvaluateReport) -> Result<(), String> {
    let dir = &ctx.report_dir;
    let validate = read(dir, "validate.json")?;
    let plots = read(dir, page::PLOTS_FILE)?;
    let run_url = read(dir, "train.json")?
        .and_then(|t| t.get("run_url").and_then(Value::as_str).map(str::to_owned));
    let evaluate = serde_json::to_value(report).map_err(|e| e.to_string())?;
    let meta = page::Meta::from_env(ctx.model.as_ref().map(|m| m.name.as_str()));
    let inputs = page::Inputs {
        validate: validate.as_ref(),
        plots: plots.as_ref(),
        evaluate: Some(&evaluate),
        run_url,
    };
    let path = dir.join(page::FILE);
    page::write(&path, &meta, &inputs).map_err(|e| e.to_string())?;
    log::info(&format!("report page: {}", path.display()));
    Ok(())
}
