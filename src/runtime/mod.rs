//! The runtime: what `mlops run <stage>` does inside a generated job. Shared pieces live here
//! ([`context`] for config, CI environment and report paths; [`log`] for GitLab log
//! sections); each stage is one file under [`stages`].
//!
//! Contract: a stage returns an [`crate::exit::Exit`]: 0 pass, 1 a check or gate failed,
//! 2 bad input or config, 75 infrastructure still failing after retries (or a child's own
//! exit code for a crashed training script).

pub mod checks;
pub mod context;
pub mod data;
pub mod drift;
pub mod dvc;
pub mod expectations;
pub mod gate;
pub mod log;
pub mod mlflow;
pub mod process;
pub mod stages;
