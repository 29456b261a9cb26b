//! What can go wrong talking to MLflow, and the exit code each case means.

use crate::exit::Exit;

/// An MLflow call that failed. Messages are already redacted: no token ever reaches them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MlflowError {
    /// The server answered with MLflow's error body (`error_code`, `message`).
    #[error("MLflow `{endpoint}` failed: {error_code}{}", with_colon(.message))]
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
    /// A signal arrived while the call waited (for an answer or before a retry).
    #[error("MLflow `{endpoint}` was interrupted by signal {signal}")]
    Interrupted {
        /// The endpoint.
        endpoint: String,
        /// The signal.
        signal: i32,
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

/// What to do about a refused token.
pub const TOKEN_HINT: &str = "set MLFLOW_TRACKING_TOKEN, or the masked CI/CD variable named by `[mlflow] token_variable` (default MLOPS_ACCESS_TOKEN), to a personal, project or group access token with the `api` scope and at least the Developer role in this project; GitLab's MLflow API does not accept CI_JOB_TOKEN";

fn with_colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// The hint for an error answer without MLflow's body, by GitLab's shapes:
///
/// - 401 `{"message":"401 Unauthorized"}`: no token, a token GitLab did not issue (or revoked,
///   or a job token), or a role below Developer for a write;
/// - 403 `insufficient_scope`: a `read_api` token used for a write;
/// - 404 `{"message":"404 Project Not Found"}`: no such project, or the token cannot see it;
/// - 404 `{"message":"404 Not Found"}`: the project hides the model registry from the token
///   (feature off, role too low), or the run or version has no such file;
/// - 404 `{"error":"404 Not Found"}`: no such route (Grape's catch-all).
fn refusal_hint(status: u16, body: &str) -> Option<&'static str> {
    Some(match status {
        401 => TOKEN_HINT,
        403 if body.contains("insufficient_scope") => {
            "the token lacks the `api` scope (a `read_api` token can only read); create one with the `api` scope"
        }
        403 => {
            "the token's user may not do this: it needs at least the Developer role in the project"
        }
        404 if body.contains("Project Not Found") => {
            "the project does not exist or the token cannot see it: check CI_PROJECT_ID (or the tracking URI), and give the token's user, or the project or group access token, at least the Developer role in this project"
        }
        404 if body.contains("\"message\"") => {
            "GitLab hides this from the token: check that the project's model experiments and model registry are enabled (Settings > General > Visibility) and that the token has at least the Developer role"
        }
        404 => {
            "the server has no such endpoint: on GitLab set `[mlflow] flavour = \"gitlab\"` (mlops then calls only what GitLab serves) and use GitLab 17.6 or later; otherwise check the tracking URI"
        }
        _ => return None,
    })
}

impl MlflowError {
    /// MLflow's `error_code`, when the server sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            MlflowError::Api { error_code, .. } => Some(error_code),
            _ => None,
        }
    }

    /// The server could not be reached, or the call was interrupted: its effect is unknown.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, MlflowError::Unavailable { .. })
    }

    /// The resource does not exist (`RESOURCE_DOES_NOT_EXIST`).
    pub fn is_not_found(&self) -> bool {
        self.error_code() == Some("RESOURCE_DOES_NOT_EXIST")
    }

    /// The resource exists already (`RESOURCE_ALREADY_EXISTS`).
    pub fn is_already_exists(&self) -> bool {
        self.error_code() == Some("RESOURCE_ALREADY_EXISTS")
    }

    /// 75 for an unavailable server, 128+n for a signal, 2 for everything the user must fix.
    pub fn exit(&self) -> Exit {
        match self {
            MlflowError::Unavailable { .. } => Exit::TempFail,
            MlflowError::Interrupted { signal, .. } => Exit::signalled(*signal),
            _ => Exit::Error,
        }
    }

    /// A `hint:` line for the common cases. GitLab's refusals are told apart by status and
    /// body (`lib/api/helpers.rb`, `lib/api/api.rb`, `lib/api/api_guard.rb`; `docs/gitlab.md`).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            MlflowError::Unavailable { .. } => Some(
                "check the tracking URI and the server; the job retries exit code 75 (tune with MLFLOW_HTTP_REQUEST_MAX_RETRIES)",
            ),
            MlflowError::Http { status, body, .. } => refusal_hint(*status, body),
            MlflowError::Api {
                status: 401 | 403, ..
            } => Some(TOKEN_HINT),
            _ => None,
        }
    }
}
