//! A small MLflow REST client for the runtime stages, speaking both a plain MLflow server
//! and GitLab's MLflow-compatible subset (`docs/runtime.md`, `docs/gitlab.md`).
//!
//! Contract: every call retries 429, 5xx and connection errors per MLflow's
//! `MLFLOW_HTTP_REQUEST_*` variables ([`retry`]); an [`error::MlflowError`] maps to exit 75
//! when the server stayed unavailable and 2 otherwise; no message ever contains the token
//! ([`crate::redact`]). On GitLab only endpoints GitLab serves are called, and aliases are emulated
//! ([`alias`]).

pub mod alias;
pub mod attempt;
pub mod client;
pub mod connection;
pub mod error;
pub mod flavour;
pub mod packages;
pub mod registry;
pub mod retry;
pub mod tracking;
pub mod types;

pub use client::Client;
pub use connection::{Connection, ConnectionError};
pub use error::MlflowError;
pub use flavour::Flavour;

use crate::runtime::context::Context;

/// Resolves the connection and builds a client.
pub fn connect(ctx: &Context, flag_uri: Option<&str>) -> Result<Client, ConnectionError> {
    Connection::resolve(ctx, flag_uri).map(Client::new)
}

/// A browser link to a run: MLflow's UI, or the experiment page of the GitLab project.
pub fn run_url(
    client: &Client,
    ci: &crate::runtime::context::CiEnv,
    experiment_id: &str,
    run_id: &str,
) -> String {
    match (client.flavour(), &ci.project_url) {
        (Flavour::Gitlab, Some(project)) => {
            format!(
                "{}/-/ml/experiments/{experiment_id}",
                project.trim_end_matches('/')
            )
        }
        _ => format!(
            "{}/#/experiments/{experiment_id}/runs/{run_id}",
            client.connection().display_uri()
        ),
    }
}

/// A browser link to a model version.
pub fn version_url(
    client: &Client,
    ci: &crate::runtime::context::CiEnv,
    model: &str,
    id: &str,
) -> String {
    match (client.flavour(), &ci.project_url) {
        (Flavour::Gitlab, Some(project)) => {
            format!("{}/-/ml/models", project.trim_end_matches('/'))
        }
        _ => format!(
            "{}/#/models/{model}/versions/{id}",
            client.connection().display_uri()
        ),
    }
}
