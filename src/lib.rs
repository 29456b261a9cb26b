//! `mlops`: compile a short `mlops.toml` into a complete GitLab CI ML pipeline, and run the
//! pipeline's stages.
//!
//! `config::load → config::schema_check → config::resolve → compile::lower → compile::emit →
//! gitlab checks → write or --check`. Only [`cli`], [`runtime`] and [`config::read`] touch
//! files, the network and processes.

pub mod artifacts;
pub mod atomic;
pub mod cli;
pub mod compile;
pub mod config;
pub mod exit;
pub mod gitlab;
pub mod lint;
pub mod redact;
pub mod runtime;
pub mod stage;
pub mod templates;
pub mod yaml;

/// This binary's version, as pinned by `mlops-version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where editors fetch the schema named on the `#:schema` line.
pub const SCHEMA_URL: &str =
    "https://gitlab.com/mlops-rs/mlops/-/raw/main/schema/mlops.schema.json";
/// The name of the wheel on `PyPI` that ships the binary.
pub const PYPI_NAME: &str = "mlops-gitlab-ci";
