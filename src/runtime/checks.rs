//! Custom check scripts: `python SCRIPT --data FILE`, started from an argv vector (no shell).
//! Exit 0 passes; a JSON object on the last line of stdout is attached to the report.

use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;
use serde_json::Value;

/// The outcome of one script.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    /// The script path as configured.
    pub script: String,
    /// Whether it exited 0.
    pub passed: bool,
    /// Exit code, or `None` when killed by a signal.
    pub exit_code: Option<i32>,
    /// The last line of stderr (or stdout) for the report message.
    pub message: String,
    /// The JSON object the script printed last, if any.
    pub details: Option<Value>,
}

/// Why a script could not be run at all (exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CheckError {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// The interpreter: `$MLOPS_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("MLOPS_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Runs one script against `data`; its output is echoed to stderr with a prefix.
pub fn run_script(script: &str, data: &Path) -> Result<CheckOutcome, CheckError> {
    if !Path::new(script).is_file() {
        return Err(CheckError {
            message: format!("check script `{script}` does not exist"),
            hint: "check `validation.checks` in mlops.toml or the `--check` flag".into(),
        });
    }
    let py = python();
    let out = Command::new(&py)
        .arg(script)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CheckError {
            message: format!("cannot start `{py}` for check `{script}`: {e}"),
            hint: "install Python 3 or set `MLOPS_PYTHON` to the interpreter".into(),
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stdout.lines().chain(stderr.lines()) {
        crate::runtime::log::child_line(&format!("  [{script}] "), line);
    }
    let last = |s: &str| {
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(str::to_owned)
    };
    let details = last(&stdout)
        .and_then(|l| serde_json::from_str::<Value>(&l).ok())
        .filter(Value::is_object);
    let passed = out.status.success();
    let message = if passed {
        "exit 0".to_owned()
    } else {
        let why = last(&stderr).or_else(|| last(&stdout)).unwrap_or_default();
        match out.status.code() {
            Some(c) => format!("exit {c}: {why}"),
            None => format!("killed by a signal: {why}"),
        }
    };
    Ok(CheckOutcome {
        script: script.to_owned(),
        passed,
        exit_code: out.status.code(),
        message,
        details,
    })
}
