//! The REST transport: JSON over ureq, the bearer token, timeouts, and the retry loop.
//! Typed calls live in [`super::tracking`] and [`super::registry`].

use std::cell::RefCell;
use std::fs::File;
use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::connection::Connection;
use super::error::MlflowError;
use super::flavour::Flavour;
use super::retry::{BACKOFF_MAX, Jitter, RETRY_STATUSES};
use crate::runtime::{log, process};

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
    /// For file transfers: no total time limit (a model may be gigabytes), but the
    /// connection, every read and write, and the answer each wait at most the timeout, as
    /// MLflow's own `requests` timeout does.
    transfer: ureq::Agent,
    rng: RefCell<Jitter>,
}

/// What one attempt of a retried call came to.
enum Step<T> {
    /// Finished, well or badly: no retry.
    Done(Result<T, MlflowError>),
    /// Failed in a way worth another attempt.
    Again {
        detail: String,
        retry_after: Option<Duration>,
    },
}

enum Attempt {
    Answer {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    Transport(String),
    /// A signal arrived before the answer.
    Interrupted(i32),
}

/// Sleeps `wait`, or less when a signal arrives: then returns it.
pub fn sleep_unless_signalled(wait: Duration) -> Option<i32> {
    let end = std::time::Instant::now() + wait;
    loop {
        if let Some(s) = process::received_signal() {
            return Some(s);
        }
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
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
        let idle = Some(conn.retry.timeout);
        let transfer: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(idle)
            .timeout_per_read(idle)
            .timeout_per_write(idle)
            .timeout_recv_response(idle)
            .user_agent(format!("mlops/{}", crate::VERSION))
            .build()
            .into();
        Self {
            conn,
            agent,
            transfer,
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
        self.retrying(endpoint, retry, || {
            match self.attempt(method, endpoint, query, body) {
                Attempt::Answer {
                    status: 200, body, ..
                } => Step::Done(self.parse_ok(endpoint, &body)),
                other => self.failed(endpoint, other),
            }
        })
    }

    /// Sorts a failed attempt into "try again" or a final error.
    fn failed<T>(&self, what: &str, attempt: Attempt) -> Step<T> {
        match attempt {
            Attempt::Answer {
                status,
                body,
                retry_after,
            } if RETRY_STATUSES.contains(&status) => Step::Again {
                detail: format!("HTTP {status}: {}", snippet(&self.redact(&body))),
                retry_after,
            },
            Attempt::Answer { status, body, .. } => {
                Step::Done(Err(self.error(what, status, &body)))
            }
            Attempt::Transport(e) => Step::Again {
                detail: e,
                retry_after: None,
            },
            Attempt::Interrupted(signal) => Step::Done(Err(MlflowError::Interrupted {
                endpoint: what.to_owned(),
                signal,
            })),
        }
    }

    /// Runs `once` until it is done, sleeping per the retry policy between attempts; `what`
    /// names the call in messages.
    fn retrying<T>(
        &self,
        what: &str,
        retry: Retry,
        mut once: impl FnMut() -> Step<T>,
    ) -> Result<T, MlflowError> {
        let policy = &self.conn.retry;
        let max = if retry == Retry::Yes {
            policy.max_retries
        } else {
            0
        };
        // A call made after a signal (marking the run KILLED) gets one attempt and no waits.
        let cleanup = process::received_signal();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (detail, retry_after) = match once() {
                Step::Done(r) => return r,
                Step::Again {
                    detail,
                    retry_after,
                } => (self.redact(&detail), retry_after),
            };
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
            if let Some(signal) = cleanup {
                // Stopping already: one attempt each, no waiting.
                return Err(MlflowError::Interrupted {
                    endpoint: what.to_owned(),
                    signal,
                });
            }
            log::warn(&format!(
                "MLflow `{what}`: {detail}; retry {attempt}/{max} in {:.1} s",
                wait.as_secs_f64()
            ));
            if let Some(signal) = sleep_unless_signalled(wait) {
                return Err(MlflowError::Interrupted {
                    endpoint: what.to_owned(),
                    signal,
                });
            }
        }
    }

    /// `runs/search` with `body`, retried (a read).
    pub fn call_search(&self, body: &Value) -> Result<Value, MlflowError> {
        self.call(Method::Post, "runs/search", &[], Some(body), Retry::Yes)
    }

    /// Waits before retry number `retry` of `what`, as the retry policy says; a signal ends
    /// the wait with [`MlflowError::Interrupted`].
    pub fn pause(&self, what: &str, retry: u32) -> Result<(), MlflowError> {
        let wait = self.conn.retry.delay(retry, &mut self.rng.borrow_mut());
        log::warn(&format!(
            "MLflow `{what}`: retry {retry}/{} in {:.1} s",
            self.conn.retry.max_retries,
            wait.as_secs_f64()
        ));
        match sleep_unless_signalled(wait) {
            Some(signal) => Err(MlflowError::Interrupted {
                endpoint: what.to_owned(),
                signal,
            }),
            None => Ok(()),
        }
    }

    /// PUTs the file at `path` as the raw request body to `url` (an absolute URL on the same
    /// server, such as GitLab's package API), with the token and the retry policy. Any 2xx
    /// answer is success. `what` names the call in messages.
    pub fn put_file(&self, what: &str, url: &str, path: &Path) -> Result<(), MlflowError> {
        self.retrying(what, Retry::Yes, || {
            let file = match File::open(path) {
                Ok(f) => f,
                Err(e) => {
                    return Step::Done(Err(MlflowError::Local {
                        path: path.to_owned(),
                        detail: e.to_string(),
                    }));
                }
            };
            let mut rb = self
                .transfer
                .put(url)
                .header("Content-Type", "application/octet-stream");
            if let Some(a) = self.auth() {
                rb = rb.header("Authorization", &a);
            }
            match answer(rb.send(file)) {
                Attempt::Answer { status, .. } if (200..300).contains(&status) => {
                    Step::Done(Ok(()))
                }
                other => self.failed(what, other),
            }
        })
    }

    /// GETs `url` into the file `dest` (created or truncated), with the token and the retry
    /// policy. `what` names the call in messages.
    pub fn get_file(&self, what: &str, url: &str, dest: &Path) -> Result<u64, MlflowError> {
        let local = |e: std::io::Error| MlflowError::Local {
            path: dest.to_owned(),
            detail: e.to_string(),
        };
        self.retrying(what, Retry::Yes, || {
            let mut rb = self.transfer.get(url);
            if let Some(a) = self.auth() {
                rb = rb.header("Authorization", &a);
            }
            let mut resp = match rb.call() {
                Ok(r) if r.status().as_u16() == 200 => r,
                other => return self.failed(what, answer(other)),
            };
            let mut out = match File::create(dest) {
                Ok(f) => f,
                Err(e) => return Step::Done(Err(local(e))),
            };
            match std::io::copy(&mut resp.body_mut().as_reader(), &mut out) {
                Ok(n) => Step::Done(Ok(n)),
                Err(e) => {
                    // No partial download stays behind (a full disk, a cut answer).
                    drop(out);
                    let _ = std::fs::remove_file(dest);
                    Step::Again {
                        detail: format!("reading the answer: {e}"),
                        retry_after: None,
                    }
                }
            }
        })
    }

    fn auth(&self) -> Option<String> {
        self.conn.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// One request, on its own thread so that a signal ends the wait for its answer at once
    /// (the request is abandoned, its effect unknown). After a signal, the wait is at most
    /// [`process::GRACE`].
    fn attempt(
        &self,
        method: Method,
        endpoint: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Attempt {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.conn.uri);
        let auth = self.auth();
        let agent = self.agent.clone();
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = body.cloned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(send_once(
                &agent,
                method,
                &url,
                &query,
                body.as_ref(),
                auth.as_deref(),
            ));
        });
        let cleanup = process::received_signal().is_some();
        let start = std::time::Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(a) => return a,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Attempt::Transport("the request thread stopped".to_owned());
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            let expired = cleanup && start.elapsed() > process::GRACE;
            if let (false, Some(s)) = (cleanup, process::received_signal()) {
                return Attempt::Interrupted(s);
            }
            if expired {
                return Attempt::Transport("no answer while stopping".to_owned());
            }
        }
    }
}

/// Sends one request and reads its answer.
fn send_once(
    agent: &ureq::Agent,
    method: Method,
    url: &str,
    query: &[(String, String)],
    body: Option<&Value>,
    auth: Option<&str>,
) -> Attempt {
    {
        let result = match method {
            Method::Get => {
                let mut rb = agent.get(url);
                for (k, v) in query {
                    rb = rb.query(k, v);
                }
                if let Some(a) = auth {
                    rb = rb.header("Authorization", a);
                }
                rb.call()
            }
            Method::Post | Method::Patch => {
                let mut rb = if method == Method::Post {
                    agent.post(url)
                } else {
                    agent.patch(url)
                };
                if let Some(a) = auth {
                    rb = rb.header("Authorization", a);
                }
                rb.send_json(body.unwrap_or(&Value::Object(serde_json::Map::new())))
            }
        };
        answer(result)
    }
}

impl Client {
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
                return MlflowError::Api {
                    endpoint: endpoint.to_owned(),
                    status,
                    error_code: code.to_owned(),
                    message: snippet(&message_text(v.get("message"))),
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

/// The status, `Retry-After` and body of an answer, or the transport error.
fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Attempt {
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

/// The text of an error body's `message`: MLflow sends a string; GitLab sometimes the array
/// of a service's errors (`["Run's experiment does not belong to this model"]`).
fn message_text(message: Option<&Value>) -> String {
    match message {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_may_be_arrays() {
        let j = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(message_text(Some(&j(r#""plain""#))), "plain");
        assert_eq!(
            message_text(Some(&j(
                r#"["Run not found", "Version must be semantic version"]"#
            ))),
            "Run not found; Version must be semantic version"
        );
        assert_eq!(message_text(None), "");
        assert_eq!(message_text(Some(&Value::Null)), "");
    }
}
