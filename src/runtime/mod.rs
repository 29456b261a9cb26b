//! The runtime: what `mlops run <stage>` does inside a generated job. Shared pieces live here
//! ([`context`] for config, CI environment and report paths; [`log`] for GitLab log
//! sections); each stage is one file under [`stages`].
//!
//! Contract: a stage returns an [`crate::exit::Exit`]: 0 pass, 1 a check or gate failed,
//! 2 bad input or config, 75 infrastructure still failing after retries (or a child's own
//! exit code for a crashed training script).

pub mod context;
pub mod log;
pub mod stages;
pub mod checks;
pub mod data;
pub mod expectations;
pub mod mlflow;
pub mod process;
pub mod gate;
pub mod dvc;
pub mod drift;
