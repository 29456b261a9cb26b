//! What can go wrong talking to MLflow, and the exit code each case means.

use crate::exit::Exit;

/// An MLflow call that failed. Messages are already redacted: no token ever reaches them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MlflowError {
    /// The server answered with MLflow's error body (`error_code`, `message`).
    #[error("MLflow `{endpoint}` failed: {error_code}: {message}")]
    Api {
        /// The endpoint, relative to `api/2.0/mlflow/`.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// MLflow's `error_code`, such as `RESOURCE_DOES_NOT_EXIST`.
        error_code: String,
        /// MLflow's `message`.
        message: String,
    },
    /// The server answered an error without MLflow's body (a proxy page, GitLab's route 404).
    #[error("MLflow `{endpoint}` answered HTTP {status}: {body}")]
    Http {
        /// The endpoint.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// No answer after every retry (connection errors, timeouts, 429 and 5xx).
    #[error("MLflow at {uri} is unavailable after {attempts} attempts: {detail}")]
    Unavailable {
        /// The tracking URI (no credentials).
        uri: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
    /// A local file to upload or download into could not be used.
    #[error("cannot use `{}`: {detail}", path.display())]
    Local {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        detail: String,
    },
    /// A 200 answer we could not read.
    #[error("unexpected answer from MLflow `{endpoint}`: {detail}")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// What did not fit.
        detail: String,
    },
}

impl MlflowError {
    /// MLflow's `error_code`, when the server sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            MlflowError::Api { error_code, .. } => Some(error_code),
            _ => None,
        }
    }

    /// The resource does not exist (`RESOURCE_DOES_NOT_EXIST`).
    pub fn is_not_found(&self) -> bool {
        self.error_code() == Some("RESOURCE_DOES_NOT_EXIST")
    }

    /// The resource exists already (`RESOURCE_ALREADY_EXISTS`).
    pub fn is_already_exists(&self) -> bool {
        self.error_code() == Some("RESOURCE_ALREADY_EXISTS")
    }

    /// 75 for an unavailable server, 2 for everything the user must fix.
    pub fn exit(&self) -> Exit {
        match self {
            MlflowError::Unavailable { .. } => Exit::TempFail,
            _ => Exit::Error,
        }
    }

    /// A `hint:` line for the common cases.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            MlflowError::Unavailable { .. } => Some(
                "check the tracking URI and the server; the job retries exit code 75 (tune with MLFLOW_HTTP_REQUEST_MAX_RETRIES)",
            ),
            MlflowError::Http {
                status: 401 | 403, ..
            }
            | MlflowError::Api {
                status: 401 | 403, ..
            } => Some(
                "set MLFLOW_TRACKING_TOKEN (or the CI/CD variable named by `[mlflow] token_variable`) to a token with the `api` scope and at least the Developer role",
            ),
            MlflowError::Http { status: 404, .. } => Some(
                "the server does not offer this endpoint; on GitLab set `[mlflow] flavour = \"gitlab\"`, and check the tracking URI",
            ),
            _ => None,
        }
    }

    /// Prints the error and its hint, and returns the exit code.
    pub fn report(&self) -> Exit {
        crate::cli::report::error(&self.to_string(), self.hint());
        self.exit()
    }
}
