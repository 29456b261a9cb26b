//! Posting evaluate's note on the merge request ([`note`](super::note) renders it), after the
//! gate is decided and the reports are written. In a merge-request pipeline (and its child
//! pipelines, which GitLab gives the same `CI_MERGE_REQUEST_*` variables) one note per model
//! is created, then updated in place by later pipelines; elsewhere, or without a token, a
//! one-line notice says why there is none. A failure to post is a warning: it never changes
//! the gate or the exit code (`docs/runtime.md`, the merge-request note).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::EvaluateReport;
use super::note::{self, DataChecks, Links, NoteInput};
use crate::artifacts::{self, WriteError};
use crate::redact::Redactor;
use crate::runtime::context::Context;
use crate::runtime::gitlab_api::{ApiError, GitlabApi, Note};
use crate::runtime::log;
use crate::runtime::mlflow::connection::DEFAULT_TOKEN_VARIABLE;
use crate::runtime::mlflow::{self as mlf, Client, Flavour};
use crate::stage::Stage;

/// What happened to the note: `evaluate.json`'s `note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteReport {
    /// `created`, `updated`, `skipped` or `failed`.
    pub status: NoteStatus,
    /// The note's id, when one was created or updated.
    pub id: Option<u64>,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
}

/// [`NoteReport::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteStatus {
    /// A new note.
    Created,
    /// This model's note, updated.
    Updated,
    /// Not a merge-request pipeline, or no token.
    Skipped,
    /// GitLab refused, or could not be reached.
    Failed,
}

impl NoteReport {
    fn skipped(reason: &str) -> Self {
        log::info(&format!("merge-request note: none, {reason}"));
        Self {
            status: NoteStatus::Skipped,
            id: None,
            reason: Some(reason.to_owned()),
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Posts (or updates) the note, then writes `evaluate.json` again with its `note`.
pub fn note(ctx: &Context, client: &Client, mut report: EvaluateReport) -> Result<(), WriteError> {
    report.note = Some(post(ctx, client, &report));
    let dir = &ctx.report_dir;
    artifacts::write_json(&dir.join(Stage::Evaluate.reports().json), &report).map_err(|source| {
        WriteError::Io {
            dir: dir.clone(),
            source,
        }
    })
}

/// Where the note goes and with which token, or why it goes nowhere.
struct Target {
    iid: u64,
    api: GitlabApi,
}

/// The token: the CI/CD variable `[mlflow] token_variable` names (`MLOPS_ACCESS_TOKEN`), else
/// `MLFLOW_TRACKING_TOKEN` when the tracking server is GitLab itself. On a plain MLflow
/// server that token belongs to the server and is never sent to GitLab.
fn target(ctx: &Context, client: &Client) -> Result<Target, String> {
    let Some(iid) = var("CI_MERGE_REQUEST_IID") else {
        return Err("not a merge-request pipeline (CI_MERGE_REQUEST_IID is not set)".to_owned());
    };
    let iid: u64 = iid
        .parse()
        .map_err(|_| format!("CI_MERGE_REQUEST_IID is `{iid}`, not a number"))?;
    let Some(api_v4) = ctx.ci.api_v4_url.clone() else {
        return Err("CI_API_V4_URL is not set".to_owned());
    };
    // The merge request lives in its target project (a fork's pipeline runs elsewhere).
    let Some(project) = var("CI_MERGE_REQUEST_PROJECT_ID").or_else(|| ctx.ci.project_id.clone())
    else {
        return Err("CI_PROJECT_ID is not set".to_owned());
    };
    let token_var = ctx
        .project
        .as_ref()
        .and_then(|p| p.config.mlflow.as_ref())
        .and_then(|m| m.token_variable.clone())
        .unwrap_or_else(|| DEFAULT_TOKEN_VARIABLE.to_owned());
    let token = var(&token_var).or_else(|| match client.flavour() {
        Flavour::Gitlab => client.connection().token.clone(),
        Flavour::Mlflow => None,
    });
    let Some(token) = token else {
        return Err(format!(
            "no access token (`{token_var}` is not set; the job token cannot write notes)"
        ));
    };
    if var("CI_JOB_TOKEN").is_some_and(|j| j == token.trim()) {
        return Err(format!(
            "the token in `{token_var}` is CI_JOB_TOKEN, which cannot write notes"
        ));
    }
    let redactor = Redactor::for_connection(&api_v4, Some(&token), &|k| var(k));
    crate::redact::register(&redactor);
    let retry = client.connection().retry.clone();
    Ok(Target {
        iid,
        api: GitlabApi::new(&api_v4, &project, &token, retry, redactor),
    })
}

fn post(ctx: &Context, client: &Client, report: &EvaluateReport) -> NoteReport {
    let t = match target(ctx, client) {
        Ok(t) => t,
        Err(reason) => return NoteReport::skipped(&reason),
    };
    let model = ctx
        .model
        .as_ref()
        .map(|m| m.name.clone())
        .or_else(|| var("MLOPS_REGISTERED_MODEL"))
        .unwrap_or_else(|| report.metric.clone());
    let body = note::render(&NoteInput {
        model: &model,
        report,
        data: data_checks(&ctx.report_dir),
        links: links(ctx, client, report),
        pipeline: ctx.ci.pipeline_id.clone(),
        commit: ctx.ci.commit_sha.clone(),
    });
    match upsert(&t.api, t.iid, &note::marker(&model), &body) {
        Ok((status, id)) => {
            let word = if status == NoteStatus::Created {
                "created"
            } else {
                "updated"
            };
            log::info(&format!(
                "merge-request note: {word} note {id} on !{}",
                t.iid
            ));
            NoteReport {
                status,
                id: Some(id),
                reason: None,
            }
        }
        Err(e) => {
            let reason = e.to_string();
            log::warn(&format!(
                "merge-request note not posted: {reason}; the gate and the exit code are unaffected. {}",
                hint(&e)
            ));
            NoteReport {
                status: NoteStatus::Failed,
                id: None,
                reason: Some(reason),
            }
        }
    }
}

/// What a refusal means for the note (`docs/gitlab.md`, merge-request notes).
fn hint(e: &ApiError) -> &'static str {
    match e {
        ApiError::Refused { status: 401, .. } => {
            "The token is not valid for GitLab's API (an access token with the `api` scope is needed)."
        }
        ApiError::Refused {
            status: 403, body, ..
        } if body.contains("insufficient_scope") => {
            "The token lacks the `api` scope (a `read_api` token cannot write notes)."
        }
        ApiError::Refused { status: 403, .. } => {
            "The token's user may not write this note (notes of other users need the Maintainer role)."
        }
        ApiError::Refused {
            status: 404, body, ..
        } if body.contains("Project") => {
            "The project does not exist or the token cannot see it: check CI_PROJECT_ID and the token's role (Reporter at least)."
        }
        ApiError::Refused { status: 404, .. } => {
            "The merge request (CI_MERGE_REQUEST_IID) or the note does not exist."
        }
        ApiError::Unavailable { .. } => {
            "GitLab could not be reached; the next pipeline tries again."
        }
        _ => "",
    }
}

/// Updates this model's note by the token's own user, or creates it. A create whose answer
/// was lost looks for the note before it tries again, so no second note appears.
fn upsert(
    api: &GitlabApi,
    iid: u64,
    marker: &str,
    body: &str,
) -> Result<(NoteStatus, u64), ApiError> {
    let me = api.current_user()?;
    let ours = |notes: &[Note]| {
        notes
            .iter()
            .find(|n| n.author.id == me && n.body.starts_with(marker))
            .map(|n| n.id)
    };
    if let Some(id) = ours(&api.merge_request_notes(iid)?) {
        api.update_note(iid, id, body)?;
        return Ok((NoteStatus::Updated, id));
    }
    let mut tries = 0u32;
    loop {
        tries += 1;
        match api.create_note(iid, body) {
            Ok(n) => return Ok((NoteStatus::Created, n.id)),
            Err(e) if e.is_unavailable() => {
                log::warn(&format!("{e}; checking whether the note was created"));
                if let Some(id) = ours(&api.merge_request_notes(iid)?) {
                    return Ok((NoteStatus::Created, id));
                }
                if tries > api.max_retries() {
                    return Err(e);
                }
                api.pause(&format!("POST merge_requests/{iid}/notes"), tries)?;
            }
            Err(e) => return Err(e),
        }
    }
}

fn data_checks(dir: &Path) -> Option<DataChecks> {
    let name = Stage::Validate.reports().json;
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    DataChecks::from_report(&serde_json::from_str(&text).ok()?)
}

fn links(ctx: &Context, client: &Client, report: &EvaluateReport) -> Links {
    let run = client
        .get_run(&report.run_id)
        .ok()
        .map(|r| mlf::run_url(client, &ctx.ci, &r.info.experiment_id, &report.run_id));
    let job = ctx.ci.job_url.clone();
    let report_page = job
        .as_ref()
        .zip(artifact_path(&ctx.report_dir.join("report.html")))
        .map(|(j, p)| format!("{}/artifacts/file/{p}", j.trim_end_matches('/')));
    Links {
        run,
        job,
        report: report_page,
    }
}

/// The path of `file` in the job's artifacts (relative to `CI_PROJECT_DIR`), when it exists.
fn artifact_path(file: &Path) -> Option<String> {
    if !file.is_file() {
        return None;
    }
    let rel = if file.is_absolute() {
        file.strip_prefix(var("CI_PROJECT_DIR")?)
            .ok()?
            .to_path_buf()
    } else {
        file.to_path_buf()
    };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(encode_segment(&s.to_string_lossy())),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
