//! Report files every stage writes under `--report-dir`: `<stage>.json`, `<stage>.junit.xml`,
//! dotenv files, `metrics.txt` (OpenMetrics) and `<stage>.annotations.json`.
//!
//! Contract: writers are atomic (temp file + rename), output is deterministic for the same
//! input, and nothing here ever sees a token (callers pass redacted values).

pub mod annotations;
pub mod dotenv;
pub mod junit;
pub mod openmetrics;

use std::path::Path;

pub use crate::atomic::write as write_file;

/// Writes a value as pretty JSON with a trailing newline.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    write_file(path, &text)
}
