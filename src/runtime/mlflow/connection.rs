//! Where the tracking server is and how to authenticate: the tracking URI, the token, the
//! flavour and the retry policy, resolved from flags, the environment and `mlops.toml`.

use super::flavour::Flavour;
use super::retry::RetryPolicy;
use crate::config::raw::MlflowSettings;
use crate::redact::Redactor;
use crate::runtime::context::{CiEnv, Context};

/// The default CI/CD variable that holds the token when `MLFLOW_TRACKING_TOKEN` is unset.
pub const DEFAULT_TOKEN_VARIABLE: &str = "MLOPS_ACCESS_TOKEN";

/// A resolved connection. Its `Debug` output never shows the token.
#[derive(Clone)]
pub struct Connection {
    /// The tracking URI, without a trailing slash.
    pub uri: String,
    /// The bearer token, if any.
    pub(crate) token: Option<String>,
    /// The server dialect.
    pub flavour: Flavour,
    /// Retries and timeouts.
    pub retry: RetryPolicy,
    /// Masks the token in messages.
    pub redactor: Redactor,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("uri", &self.display_uri())
            .field("token", &self.token.as_ref().map(|_| crate::redact::MASK))
            .field("flavour", &self.flavour)
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Why the tracking server cannot be used as configured (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// No flag, variable, config or CI default names a server.
    #[error("no MLflow tracking URI")]
    NoUri,
    /// A `file:` or database URI.
    #[error("the tracking URI `{0}` is not an http(s) URL")]
    NotHttp(String),
    /// `MLOPS_MLFLOW_FLAVOUR` is not a flavour.
    #[error("{0}")]
    Flavour(String),
    /// An `MLFLOW_HTTP_REQUEST_*` variable is not a number.
    #[error("{0}")]
    Retry(String),
    /// GitLab without a token.
    #[error(
        "GitLab's MLflow API needs an access token, and neither MLFLOW_TRACKING_TOKEN nor `{token_variable}` is set"
    )]
    NoGitlabToken {
        /// The CI/CD variable that should hold it.
        token_variable: String,
    },
    /// GitLab with the job token.
    #[error(
        "the MLflow token is the job's CI_JOB_TOKEN, which GitLab's MLflow API does not accept"
    )]
    JobToken {
        /// The CI/CD variable that should hold an access token.
        token_variable: String,
    },
}

impl ConnectionError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            ConnectionError::NoUri => "set MLFLOW_TRACKING_URI, pass --tracking-uri, or set `[mlflow] tracking_uri` in mlops.toml (in GitLab CI it defaults to the project's MLflow API)".to_owned(),
            ConnectionError::NotHttp(_) => "mlops talks to MLflow over REST; local `file:` or database URIs need an MLflow server".to_owned(),
            ConnectionError::Flavour(_) => "use `gitlab`, `mlflow` or `auto`".to_owned(),
            ConnectionError::Retry(_) => "see MLflow's MLFLOW_HTTP_REQUEST_* variables".to_owned(),
            ConnectionError::NoGitlabToken { token_variable }
            | ConnectionError::JobToken { token_variable } => format!(
                "create a project access token with the `api` scope and the Developer role (Settings > Access tokens), and store it as the masked CI/CD variable `{token_variable}` (Settings > CI/CD > Variables), or set MLFLOW_TRACKING_TOKEN"
            ),
        }
    }
}

/// GitLab's MLflow API authenticates every call with an access token and refuses the job
/// token (`lib/api/ml/mlflow/entrypoint.rb` has no `job_token_allowed`), so a missing token or
/// `CI_JOB_TOKEN` is a config error before any request.
fn check_gitlab_token(
    token: Option<&str>,
    token_var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConnectionError> {
    let token_variable = token_var.to_owned();
    match token {
        None => Err(ConnectionError::NoGitlabToken { token_variable }),
        Some(t) if env("CI_JOB_TOKEN").is_some_and(|j| j.trim() == t.trim()) => {
            Err(ConnectionError::JobToken { token_variable })
        }
        Some(_) => Ok(()),
    }
}

impl Connection {
    /// Resolves the connection of a stage.
    pub fn resolve(ctx: &Context, flag_uri: Option<&str>) -> Result<Self, ConnectionError> {
        let settings: MlflowSettings = ctx
            .project
            .as_ref()
            .and_then(|p| p.config.mlflow.clone())
            .unwrap_or_default();
        let conn = Self::from_parts(flag_uri, &settings, &ctx.ci, &|k| var(k))?;
        crate::redact::register(&conn.redactor);
        Ok(conn)
    }

    /// The resolution rules, with the environment passed in.
    pub fn from_parts(
        flag_uri: Option<&str>,
        settings: &MlflowSettings,
        ci: &CiEnv,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConnectionError> {
        let uri = flag_uri
            .map(str::to_owned)
            .or_else(|| env("MLFLOW_TRACKING_URI"))
            .or_else(|| settings.tracking_uri.clone())
            .or_else(|| match (&ci.api_v4_url, &ci.project_id) {
                (Some(api), Some(id)) => Some(format!(
                    "{}/projects/{id}/ml/mlflow",
                    api.trim_end_matches('/')
                )),
                _ => None,
            })
            .ok_or(ConnectionError::NoUri)?;
        let uri = uri.trim().trim_end_matches('/').to_owned();
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(ConnectionError::NotHttp(crate::redact::strip_userinfo(
                &uri,
            )));
        }
        let token_var = settings
            .token_variable
            .as_deref()
            .unwrap_or(DEFAULT_TOKEN_VARIABLE);
        let token = env("MLFLOW_TRACKING_TOKEN").or_else(|| env(token_var));
        let flavour = Flavour::resolve(
            env("MLOPS_MLFLOW_FLAVOUR").as_deref(),
            settings.flavour,
            &uri,
        )
        .map_err(ConnectionError::Flavour)?;
        if flavour == Flavour::Gitlab {
            check_gitlab_token(token.as_deref(), token_var, env)?;
        }
        let retry = RetryPolicy::from_lookup(env).map_err(ConnectionError::Retry)?;
        let redactor = Redactor::for_connection(&uri, token.as_deref(), env);
        Ok(Self {
            uri,
            token,
            flavour,
            retry,
            redactor,
        })
    }

    /// The URI as it may be shown: credentials masked.
    pub fn display_uri(&self) -> String {
        self.redactor.apply(&self.uri)
    }

    /// The variables the Python child needs to reach the same server.
    pub fn child_env(&self) -> Vec<(String, String)> {
        let mut v = vec![("MLFLOW_TRACKING_URI".to_owned(), self.uri.clone())];
        if let Some(t) = &self.token {
            v.push(("MLFLOW_TRACKING_TOKEN".to_owned(), t.clone()));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn precedence_and_ci_default() {
        let ci = CiEnv {
            api_v4_url: Some("https://gl.example/api/v4".into()),
            project_id: Some("42".into()),
            ..CiEnv::default()
        };
        let s = MlflowSettings::default();
        let c =
            Connection::from_parts(None, &s, &ci, &env(&[("MLOPS_ACCESS_TOKEN", "t0k")])).unwrap();
        assert_eq!(c.uri, "https://gl.example/api/v4/projects/42/ml/mlflow");
        assert_eq!(c.flavour, Flavour::Gitlab);
        assert_eq!(c.token.as_deref(), Some("t0k"));
        assert!(!format!("{c:?}").contains("t0k"));
        let s = MlflowSettings {
            tracking_uri: Some("http://file:5000/".into()),
            ..MlflowSettings::default()
        };
        let c = Connection::from_parts(
            None,
            &s,
            &ci,
            &env(&[("MLFLOW_TRACKING_URI", "http://env:1")]),
        )
        .unwrap();
        assert_eq!(
            (c.uri.as_str(), c.flavour),
            ("http://env:1", Flavour::Mlflow)
        );
        let c = Connection::from_parts(Some("http://flag:2"), &s, &ci, &env(&[])).unwrap();
        assert_eq!(c.uri, "http://flag:2");
        assert!(
            Connection::from_parts(
                None,
                &MlflowSettings::default(),
                &CiEnv::default(),
                &env(&[])
            )
            .is_err()
        );
        assert!(Connection::from_parts(Some("file:///tmp"), &s, &ci, &env(&[])).is_err());
    }

    #[test]
    fn gitlab_needs_an_access_token_not_the_job_token() {
        let ci = CiEnv {
            api_v4_url: Some("https://gl.example/api/v4".into()),
            project_id: Some("42".into()),
            ..CiEnv::default()
        };
        let s = MlflowSettings::default();
        let e = Connection::from_parts(None, &s, &ci, &env(&[])).unwrap_err();
        let (msg, hint) = (e.to_string(), e.hint());
        assert!(msg.contains("needs an access token"), "{msg}");
        assert!(
            hint.contains("`MLOPS_ACCESS_TOKEN`") && hint.contains("`api` scope"),
            "{hint}"
        );
        let job = env(&[
            ("CI_JOB_TOKEN", "glcbt-1"),
            ("MLFLOW_TRACKING_TOKEN", "glcbt-1"),
        ]);
        let msg = Connection::from_parts(None, &s, &ci, &job)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("CI_JOB_TOKEN") && !msg.contains("glcbt-1"),
            "{msg}"
        );
        // A plain MLflow server needs no token.
        let plain = Connection::from_parts(Some("http://mlflow:5000"), &s, &ci, &env(&[]));
        assert!(plain.is_ok());
    }
}
