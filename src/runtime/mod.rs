//! The runtime: what `mlops run <stage>` does inside a generated job. Shared pieces live here
//! ([`context`] for the model, CI environment, report paths and the training run; [`log`]
//! for GitLab log sections); each stage is one module under [`stages`].
//!
//! Contract: a stage returns `Result<(), Error>` and prints no error itself; the CLI renders
//! the [`Error`] once and exits with [`Error::exit`]: 1 a check or gate failed, 2 bad input
//! or config, 75 infrastructure still failing after retries, 128+n a signal, or a crashed
//! training script's own code (`docs/runtime.md`).

pub mod checks;
pub mod context;
pub mod data;
pub mod drift;
pub mod dvc;
pub mod error;
pub mod expectations;
pub mod gate;
pub mod gitlab_api;
pub mod log;
pub mod mlflow;
pub mod process;
pub mod stages;

pub use error::Error;
