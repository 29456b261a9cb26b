//! The REST transport: JSON over ureq, the bearer token, timeouts, and the retry loop.
//! Typed calls live in [`super::tracking`] and [`super::registry`].

use std::cell::RefCell;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::connection::Connection;
use super::error::MlflowError;
use super::flavour::Flavour;
use super::retry::{BACKOFF_MAX, Jitter, RETRY_STATUSES};
use crate::runtime::log;

/// An HTTP method the MLflow API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET with a query string.
    Get,
    /// POST with a JSON body.
    Post,
    /// PATCH with a JSON body.
    Patch,
}

/// Whether a call may be repeated after a failure whose effect is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retry 429, 5xx and connection errors (reads, and writes that are safe to repeat).
    Yes,
    /// One attempt: the caller checks what happened before it tries again.
    No,
}

/// A client for one tracking server.
pub struct Client {
    conn: Connection,
    agent: ureq::Agent,
    rng: RefCell<Jitter>,
}

enum Attempt {
    Answer {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    Transport(String),
}

impl Client {
    /// A client for `conn`.
    pub fn new(conn: Connection) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(conn.retry.timeout))
            .user_agent(format!("mlops/{}", crate::VERSION))
            .build()
            .into();
        Self {
            conn,
            agent,
            rng: RefCell::new(Jitter::from_time_and_pid()),
        }
    }

    /// The connection settings.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The server dialect.
    pub fn flavour(&self) -> Flavour {
        self.conn.flavour
    }

    /// Masks secrets in `text`.
    pub fn redact(&self, text: &str) -> String {
        self.conn.redactor.apply(text)
    }

    /// GET `endpoint` (relative to `api/2.0/mlflow/`) and decode the answer.
    pub fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> Result<T, MlflowError> {
        let v = self.call(Method::Get, endpoint, query, None, Retry::Yes)?;
        self.decode(endpoint, v)
    }

    /// POST a JSON body and decode the answer.
    pub fn post<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &Value,
        retry: Retry,
    ) -> Result<T, MlflowError> {
        let v = self.call(Method::Post, endpoint, &[], Some(body), retry)?;
        self.decode(endpoint, v)
    }

    fn decode<T: DeserializeOwned>(&self, endpoint: &str, v: Value) -> Result<T, MlflowError> {
        serde_json::from_value(v).map_err(|e| MlflowError::Decode {
            endpoint: endpoint.to_owned(),
            detail: self.redact(&e.to_string()),
        })
    }

    /// One call, with retries per `retry` and the connection's policy.
    pub fn call(
        &self,
        method: Method,
        endpoint: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<Value, MlflowError> {
        let policy = &self.conn.retry;
        let max = if retry == Retry::Yes {
            policy.max_retries
        } else {
            0
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (detail, retry_after) = match self.attempt(method, endpoint, query, body) {
                Attempt::Answer {
                    status: 200, body, ..
                } => return self.parse_ok(endpoint, &body),
                Attempt::Answer {
                    status,
                    body,
                    retry_after,
                } if RETRY_STATUSES.contains(&status) => (
                    format!("HTTP {status}: {}", snippet(&self.redact(&body))),
                    retry_after,
                ),
                Attempt::Answer { status, body, .. } => {
                    return Err(self.error(endpoint, status, &body));
                }
                Attempt::Transport(e) => (e, None),
            };
            let detail = self.redact(&detail);
            if attempt > max {
                return Err(MlflowError::Unavailable {
                    uri: self.conn.display_uri(),
                    attempts: attempt,
                    detail,
                });
            }
            let mut wait = policy.delay(attempt, &mut self.rng.borrow_mut());
            if let Some(ra) = retry_after {
                wait = wait.max(ra.min(BACKOFF_MAX));
            }
            log::warn(&format!(
                "MLflow `{endpoint}`: {detail}; retry {attempt}/{max} in {:.1} s",
                wait.as_secs_f64()
            ));
            std::thread::sleep(wait);
        }
    }

    fn attempt(
        &self,
        method: Method,
        endpoint: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Attempt {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.conn.uri);
        let auth = self.conn.token.as_ref().map(|t| format!("Bearer {t}"));
        let result = match method {
            Method::Get => {
                let mut rb = self.agent.get(&url);
                for (k, v) in query {
                    rb = rb.query(*k, *v);
                }
                if let Some(a) = &auth {
                    rb = rb.header("Authorization", a);
                }
                rb.call()
            }
            Method::Post | Method::Patch => {
                let mut rb = if method == Method::Post {
                    self.agent.post(&url)
                } else {
                    self.agent.patch(&url)
                };
                if let Some(a) = &auth {
                    rb = rb.header("Authorization", a);
                }
                rb.send_json(body.unwrap_or(&Value::Object(serde_json::Map::new())))
            }
        };
        match result {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                match resp.body_mut().read_to_string() {
                    Ok(body) => Attempt::Answer {
                        status,
                        body,
                        retry_after,
                    },
                    Err(e) => Attempt::Transport(format!("reading the answer: {e}")),
                }
            }
            Err(e) => Attempt::Transport(e.to_string()),
        }
    }

    fn parse_ok(&self, endpoint: &str, body: &str) -> Result<Value, MlflowError> {
        if body.trim().is_empty() {
            return Ok(Value::Object(serde_json::Map::new()));
        }
        serde_json::from_str(body).map_err(|e| MlflowError::Decode {
            endpoint: endpoint.to_owned(),
            detail: format!("{e}; body starts `{}`", snippet(&self.redact(body))),
        })
    }

    fn error(&self, endpoint: &str, status: u16, body: &str) -> MlflowError {
        let body = self.redact(body);
        if let Ok(v) = serde_json::from_str::<Value>(&body) {
            if let Some(code) = v.get("error_code").and_then(Value::as_str) {
                let message = v.get("message").and_then(Value::as_str).unwrap_or_default();
                return MlflowError::Api {
                    endpoint: endpoint.to_owned(),
                    status,
                    error_code: code.to_owned(),
                    message: snippet(message),
                };
            }
        }
        MlflowError::Http {
            endpoint: endpoint.to_owned(),
            status,
            body: snippet(&body),
        }
    }
}

/// The first line of `s`, at most 300 characters.
fn snippet(s: &str) -> String {
    let line = s.trim().lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(300).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}
