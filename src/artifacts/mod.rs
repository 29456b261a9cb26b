//! Report files every stage writes under `--report-dir`: `<stage>.json`, `<stage>.junit.xml`,
//! dotenv files, `metrics.txt` (OpenMetrics) and `<stage>.annotations.json`.
//!
//! Contract: writers are atomic (temp file + rename), output is deterministic for the same
//! input, and nothing here ever sees a token (callers pass redacted values). [`write_stage`]
//! is the one way a stage writes its reports: the file names come from [`Stage::reports`].

pub mod annotations;
pub mod dotenv;
pub mod junit;
pub mod openmetrics;
pub mod page;

use std::path::{Path, PathBuf};

use crate::redact;
use crate::stage::Stage;

/// Writes `text` atomically, every registered secret masked: callers pass redacted values,
/// and this catches what one of them missed (`docs/runtime.md`, secrets).
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    crate::atomic::write(path, &redact::mask(text))
}

/// Writes a value as pretty JSON with a trailing newline.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    write_file(path, &text)
}

/// What a stage reports besides its JSON summary. Only the files its [`Stage`] declares are
/// written; the rest is ignored.
#[derive(Debug, Default)]
pub struct StageFiles<'a> {
    /// `NAME=value` pairs of the dotenv report.
    pub dotenv: Vec<(&'a str, &'a str)>,
    /// The `JUnit` cases (the suite is named after the stage).
    pub junit: Vec<junit::Case>,
    /// The metrics, in order.
    pub metrics: Vec<(String, f64)>,
    /// The annotations section and its links.
    pub annotations: (&'a str, Vec<annotations::Link>),
}

/// Why a stage's reports could not be written (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The directory or a file could not be written.
    #[error("cannot write the reports to `{}`: {source}", dir.display())]
    Io {
        /// The report directory.
        dir: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A dotenv value GitLab cannot carry.
    #[error("cannot write the reports to `{}`: {source}", dir.display())]
    Dotenv {
        /// The report directory.
        dir: PathBuf,
        /// What GitLab would refuse.
        source: dotenv::DotenvError,
    },
}

impl WriteError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            WriteError::Io { .. } => Some("check `--report-dir` and its permissions"),
            WriteError::Dotenv { .. } => None,
        }
    }
}

/// Writes a stage's reports into `dir`, in a fixed order: dotenv, JSON, `JUnit`, metrics,
/// annotations. The first failure stops the rest.
pub fn write_stage<T: serde::Serialize>(
    dir: &Path,
    stage: Stage,
    json: &T,
    files: &StageFiles<'_>,
) -> Result<(), WriteError> {
    let names = stage.reports();
    let io = |source| WriteError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    if let Some(name) = names.dotenv {
        let text = dotenv::render(&files.dotenv).map_err(|source| WriteError::Dotenv {
            dir: dir.to_path_buf(),
            source,
        })?;
        write_file(&dir.join(name), &text).map_err(io)?;
    }
    write_json(&dir.join(names.json), json).map_err(io)?;
    if let Some(name) = names.junit {
        let text = junit::render(stage.name(), &files.junit);
        write_file(&dir.join(name), &text).map_err(io)?;
    }
    if let Some(name) = names.metrics {
        write_file(&dir.join(name), &openmetrics::render(&files.metrics)).map_err(io)?;
    }
    if let Some(name) = names.annotations {
        let (section, links) = &files.annotations;
        write_file(&dir.join(name), &annotations::render(section, links)).map_err(io)?;
    }
    Ok(())
}
