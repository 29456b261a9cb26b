//! A small client for GitLab's REST API (`/api/v4`) beside the MLflow one: the merge-request
//! notes evaluate posts, and `GET /user` to know whose notes are its own (`docs/gitlab.md`,
//! merge-request notes).
//!
//! Contract: the same retry policy as the MLflow client (`MLFLOW_HTTP_REQUEST_*`: 408, 429,
//! 5xx and connection errors are retried with backoff, each request has the timeout), the
//! token only in the `PRIVATE-TOKEN` header, and every message masked by the redactor the
//! caller registered. Creating a note is not idempotent, so [`GitlabApi::create_note`] makes
//! one attempt and leaves the decision to look before trying again to its caller.

use std::cell::RefCell;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::redact::Redactor;
use crate::runtime::log;
use crate::runtime::mlflow::client::sleep_unless_signalled;
use crate::runtime::mlflow::retry::{BACKOFF_MAX, Jitter, RETRY_STATUSES, RetryPolicy};

/// GitLab's largest page (`max_per_page` in `config/initializers/kaminari_config.rb`).
const PER_PAGE: &str = "100";
/// Pages read at most: 100 000 notes on one merge request.
const MAX_PAGES: u32 = 1000;

/// A note as the notes API shows it (`lib/api/entities/note.rb`); only what mlops reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Note {
    /// The note's id (global, not per merge request).
    pub id: u64,
    /// The Markdown.
    pub body: String,
    /// Its author.
    pub author: Author,
}

/// A note's author (`Entities::UserBasic`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Author {
    /// The user id.
    pub id: u64,
}

/// A call that failed. Messages are masked: no token reaches them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// GitLab answered with a refusal (4xx other than 408/429).
    #[error("GitLab `{what}` answered HTTP {status}: {body}")]
    Refused {
        /// The call, `POST merge_requests/7/notes`.
        what: String,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// No usable answer after every retry.
    #[error("GitLab at {base} is unavailable after {attempts} attempts: {detail}")]
    Unavailable {
        /// The API URL, credentials masked.
        base: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
    /// A signal arrived while waiting.
    #[error("GitLab `{what}` was interrupted by signal {signal}")]
    Interrupted {
        /// The call.
        what: String,
        /// The signal.
        signal: i32,
    },
    /// A success answer mlops could not read.
    #[error("unexpected answer from GitLab `{what}`: {detail}")]
    Decode {
        /// The call.
        what: String,
        /// What did not fit.
        detail: String,
    },
}

impl ApiError {
    /// No answer, or one that leaves the effect of a write unknown.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ApiError::Unavailable { .. })
    }
}

/// One answer: status, the `X-Next-Page` header and the body.
struct Answer {
    status: u16,
    next_page: Option<u32>,
    retry_after: Option<Duration>,
    body: String,
}

/// A client for one project of one GitLab.
pub struct GitlabApi {
    api_v4: String,
    project: String,
    token: String,
    retry: RetryPolicy,
    redactor: Redactor,
    agent: ureq::Agent,
    rng: RefCell<Jitter>,
}

impl std::fmt::Debug for GitlabApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitlabApi")
            .field("api_v4", &self.redactor.apply(&self.api_v4))
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl GitlabApi {
    /// A client for project `project` (an id or a URL-encoded path) at `api_v4`
    /// (`CI_API_V4_URL`).
    pub fn new(
        api_v4: &str,
        project: &str,
        token: &str,
        retry: RetryPolicy,
        redactor: Redactor,
    ) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(retry.timeout))
            .user_agent(format!("mlops/{}", crate::VERSION))
            .build()
            .into();
        Self {
            api_v4: api_v4.trim().trim_end_matches('/').to_owned(),
            // An id, or a path such as `group/project`, which the URL holds as one segment.
            project: project
                .trim()
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect(),
            token: token.trim().to_owned(),
            retry,
            redactor,
            agent,
            rng: RefCell::new(Jitter::from_time_and_pid()),
        }
    }

    /// The id of the token's user (`GET /user`, `lib/api/users.rb`).
    pub fn current_user(&self) -> Result<u64, ApiError> {
        let what = "GET user";
        let a = self.call(what, "GET", "user", &[], None, true)?;
        let v: Value = self.decode(what, &a.body)?;
        v["id"].as_u64().ok_or_else(|| ApiError::Decode {
            what: what.to_owned(),
            detail: "no `id`".to_owned(),
        })
    }

    /// Every note of merge request `iid`, oldest first, following `X-Next-Page` page by page
    /// (`lib/api/notes.rb`; the headers from `lib/gitlab/pagination/offset_header_builder.rb`).
    pub fn merge_request_notes(&self, iid: u64) -> Result<Vec<Note>, ApiError> {
        let path = self.notes_path(iid);
        let what = format!("GET merge_requests/{iid}/notes");
        let mut notes = Vec::new();
        let mut page = 1u32;
        for _ in 0..MAX_PAGES {
            let p = page.to_string();
            let query = [
                ("sort", "asc"),
                ("order_by", "created_at"),
                ("per_page", PER_PAGE),
                ("page", p.as_str()),
            ];
            let a = self.call(&what, "GET", &path, &query, None, true)?;
            let batch: Vec<Note> = self.decode(&what, &a.body)?;
            notes.extend(batch);
            match a.next_page {
                Some(n) if n > page => page = n,
                _ => break,
            }
        }
        Ok(notes)
    }

    /// Posts a new note: one attempt, since a lost answer may still have made the note.
    pub fn create_note(&self, iid: u64, body: &str) -> Result<Note, ApiError> {
        let what = format!("POST merge_requests/{iid}/notes");
        let path = self.notes_path(iid);
        let a = self.call(
            &what,
            "POST",
            &path,
            &[],
            Some(&json!({ "body": body })),
            false,
        )?;
        self.decode(&what, &a.body)
    }

    /// Replaces the body of note `id` (a `PUT`: repeating it is harmless, so it is retried).
    pub fn update_note(&self, iid: u64, id: u64, body: &str) -> Result<Note, ApiError> {
        let what = format!("PUT merge_requests/{iid}/notes/{id}");
        let path = format!("{}/{id}", self.notes_path(iid));
        let a = self.call(
            &what,
            "PUT",
            &path,
            &[],
            Some(&json!({ "body": body })),
            true,
        )?;
        self.decode(&what, &a.body)
    }

    /// Waits before attempt `retry` + 1 of `what` (a create whose answer was lost).
    pub fn pause(&self, what: &str, retry: u32) -> Result<(), ApiError> {
        let wait = self.retry.delay(retry, &mut self.rng.borrow_mut());
        log::warn(&format!(
            "GitLab `{what}`: retry {retry}/{} in {:.1} s",
            self.retry.max_retries,
            wait.as_secs_f64()
        ));
        match sleep_unless_signalled(wait) {
            Some(signal) => Err(ApiError::Interrupted {
                what: what.to_owned(),
                signal,
            }),
            None => Ok(()),
        }
    }

    /// Retries left after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.retry.max_retries
    }

    fn notes_path(&self, iid: u64) -> String {
        format!("projects/{}/merge_requests/{iid}/notes", self.project)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        body: &str,
    ) -> Result<T, ApiError> {
        serde_json::from_str(body).map_err(|e| ApiError::Decode {
            what: what.to_owned(),
            detail: self.redactor.apply(&e.to_string()),
        })
    }

    /// One call with retries (when `retry`) on 408, 429, 5xx and transport errors.
    fn call(
        &self,
        what: &str,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        retry: bool,
    ) -> Result<Answer, ApiError> {
        let max = if retry { self.retry.max_retries } else { 0 };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (detail, retry_after) = match self.send(method, path, query, body) {
                Ok(a) if (200..300).contains(&a.status) => return Ok(a),
                Ok(a) if RETRY_STATUSES.contains(&a.status) => (
                    format!("HTTP {}: {}", a.status, snippet(&a.body)),
                    a.retry_after,
                ),
                Ok(a) => {
                    return Err(ApiError::Refused {
                        what: what.to_owned(),
                        status: a.status,
                        body: self.redactor.apply(&snippet(&a.body)),
                    });
                }
                Err(e) => (e, None),
            };
            let detail = self.redactor.apply(&detail);
            if attempt > max {
                return Err(ApiError::Unavailable {
                    base: self.redactor.apply(&self.api_v4),
                    attempts: attempt,
                    detail,
                });
            }
            let mut wait = self.retry.delay(attempt, &mut self.rng.borrow_mut());
            if let Some(ra) = retry_after {
                wait = wait.max(ra.min(BACKOFF_MAX));
            }
            log::warn(&format!(
                "GitLab `{what}`: {detail}; retry {attempt}/{max} in {:.1} s",
                wait.as_secs_f64()
            ));
            if let Some(signal) = sleep_unless_signalled(wait) {
                return Err(ApiError::Interrupted {
                    what: what.to_owned(),
                    signal,
                });
            }
        }
    }

    /// One request; `Err` is a transport failure.
    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let url = format!("{}/{path}", self.api_v4);
        let result = match (method, body) {
            ("GET", _) => {
                let mut rb = self.agent.get(&url).header("PRIVATE-TOKEN", &self.token);
                for (k, v) in query {
                    rb = rb.query(*k, *v);
                }
                rb.call()
            }
            ("PUT", Some(b)) => self
                .agent
                .put(&url)
                .header("PRIVATE-TOKEN", &self.token)
                .send_json(b),
            (_, b) => self
                .agent
                .post(&url)
                .header("PRIVATE-TOKEN", &self.token)
                .send_json(b.cloned().unwrap_or(Value::Null)),
        };
        let mut resp = result.map_err(|e| e.to_string())?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        };
        let next_page = header("x-next-page").and_then(|v| v.parse().ok());
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok(Answer {
            status,
            next_page,
            retry_after,
            body,
        })
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
