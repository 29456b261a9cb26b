//! Merge-request notes and `GET /user`, as GitLab's source has them:
//!
//! - routes, parameters and pagination: `lib/api/notes.rb` @ 017a6c12 (`before {
//!   authenticate! }`; list with `order_by` `created_at|updated_at` (default `created_at`),
//!   `sort` `asc|desc` (default `desc`) and `use :pagination`; `POST` with `requires :body`;
//!   `PUT …/notes/:note_id` with `optional :body, allow_blank: false`), the pagination
//!   parameters in `lib/api/pagination_params.rb` @ 495a5c79 (`page` 1, `per_page` 20,
//!   `except_values: [0]`), the largest page in `config/initializers/kaminari_config.rb`
//!   @ 0da44e16 (`max_per_page = 100`), and the headers in
//!   `lib/gitlab/pagination/offset_header_builder.rb` @ 8b573c94 (`X-Per-Page`, `X-Page`,
//!   `X-Next-Page`, `X-Prev-Page`, `Link`, `X-Total`, `X-Total-Pages`);
//! - who may do what: `lib/api/helpers/notes_helpers.rb` @ 017a6c12 (`find_noteable` by iid,
//!   `authorize!(:create_note)`, `authorize! :admin_note` for an update; the job token is
//!   allowed on the `GET` routes only, `job_token_policy_for` raising for anything else),
//!   `app/policies/note_policy.rb` @ 05f0ebba (the author may `admin_note`),
//!   `app/policies/project_policy.rb` @ 002b575a (Guest and up `create_note`, Reporter
//!   `read_merge_request`, Maintainer `admin_note` on every note: this replica has no
//!   Maintainer token, so only authors update), and the API-wide scopes in `lib/api/api.rb`
//!   @ 00459703 (`api`; `read_api` for GET and HEAD);
//! - answers: `lib/api/entities/note.rb` @ 152f35d6; an unknown merge request or note is
//!   `ActiveRecord::RecordNotFound` (`NotesFinder#target` uses `find_by!`), which `api.rb`
//!   @ 00459703 answers `{"message":"404 Not found"}`; `authorize!` fails with `forbidden!`
//!   (403); an invalid note is `bad_request!("Note #{note.errors.messages}")`, and a note is
//!   at most `Gitlab::Database::MAX_TEXT_SIZE_LIMIT` = 1 000 000 characters
//!   (`app/models/concerns/notes/active_record.rb` @ 11d14ce9);
//! - `GET /user`: `lib/api/users.rb` @ 00459703 (`authenticate!`, `Entities::UserPublic`).
//!
//! The contract is `spec/support/shared_examples/requests/api/notes_shared_examples.rb`
//! @ 1219a9dc (the `noteable API` examples `spec/requests/api/notes_spec.rb` runs).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::http::{Request, Response};
use super::{JOB_TOKEN, OUTSIDER_TOKEN, READ_API_TOKEN, REPORTER_TOKEN, TOKEN};
use super::{Kind, Role, message, token};

/// `Gitlab::Database::MAX_TEXT_SIZE_LIMIT`.
pub const MAX_NOTE_CHARS: usize = 1_000_000;

/// One note on a merge request.
#[derive(Clone)]
pub struct NoteRow {
    id: u64,
    iid: u64,
    author: u64,
    body: String,
    created: u64,
    updated: u64,
}

/// The merge requests that exist and their notes.
#[derive(Default)]
pub struct Notes {
    merge_requests: BTreeSet<u64>,
    rows: Vec<NoteRow>,
    /// A logical clock for `created_at`/`updated_at`, one tick per write.
    clock: u64,
}

/// Each token's user: (token, id, username). A project access token has a bot user of its own.
const USERS: [(&str, u64, &str); 5] = [
    (TOKEN, 21, "project_1_bot_developer"),
    (READ_API_TOKEN, 22, "project_1_bot_read_api"),
    (REPORTER_TOKEN, 23, "project_1_bot_reporter"),
    (OUTSIDER_TOKEN, 24, "outsider"),
    (JOB_TOKEN, 25, "pipeline_user"),
];

/// The user id behind a token.
pub fn user_id(sent: &str) -> Option<u64> {
    USERS.iter().find(|u| u.0 == sent).map(|u| u.1)
}

fn user(id: u64) -> Value {
    let (_, id, username) = USERS
        .iter()
        .find(|u| u.1 == id)
        .copied()
        .unwrap_or(("", id, "ghost"));
    json!({"id": id, "username": username, "name": username, "state": "active",
           "locked": false, "avatar_url": null,
           "web_url": format!("http://gitlab.example/{username}")})
}

fn sent_token(req: &Request) -> Option<&str> {
    req.header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .or_else(|| req.header("private-token"))
        .map(str::trim)
}

fn time(tick: u64) -> String {
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.000Z",
        tick / 3600 % 24,
        tick / 60 % 60,
        tick % 60
    )
}

impl Notes {
    /// Opens merge request `iid` (test setup: GitLab makes them from branches).
    pub fn open(&mut self, iid: u64) {
        self.merge_requests.insert(iid);
    }

    /// Adds a note as user `author`; returns its id.
    pub fn add(&mut self, iid: u64, author: u64, body: &str) -> u64 {
        self.clock += 1;
        let id = 500 + self.rows.len() as u64 + 1;
        self.rows.push(NoteRow {
            id,
            iid,
            author,
            body: body.to_owned(),
            created: self.clock,
            updated: self.clock,
        });
        id
    }

    /// The notes of `iid` as the API shows them, oldest first.
    pub fn of(&self, iid: u64) -> Vec<Value> {
        self.rows
            .iter()
            .filter(|n| n.iid == iid)
            .map(entity)
            .collect()
    }
}

/// `Entities::Note`.
fn entity(n: &NoteRow) -> Value {
    json!({"id": n.id, "type": null, "body": n.body, "attachment": null,
           "author": user(n.author), "created_at": time(n.created), "updated_at": time(n.updated),
           "system": false, "noteable_id": 1000 + n.iid, "noteable_type": "MergeRequest",
           "project_id": 1, "resolvable": false, "confidential": false, "internal": false,
           "noteable_iid": n.iid, "commands_changes": {}})
}

/// `GET /user`.
pub fn current_user(req: &Request) -> Response {
    if req.method != "GET" {
        return super::route_not_found();
    }
    match token(req) {
        // `authenticate!`; the route does not allow the job token.
        Ok(None | Some((Kind::Job, _, _))) | Err(()) => message(401, "401 Unauthorized"),
        Ok(Some(_)) => {
            let id = sent_token(req).and_then(user_id).expect("a known token");
            Response::json(200, &user(id))
        }
    }
}

/// The body parameter: JSON, or the query string as Grape merges it.
fn body_param(req: &Request) -> Option<String> {
    match req.json().get("body") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) if !other.is_null() => Some(other.to_string()),
        _ => req.query.get("body").cloned(),
    }
}

/// `Note #{note.errors.messages}` for an invalid body, as `bad_request!` words it.
fn invalid(body: &str) -> Option<Response> {
    let error = if body.trim().is_empty() {
        "can't be blank".to_owned()
    } else if body.chars().count() > MAX_NOTE_CHARS {
        format!("is too long (maximum is {MAX_NOTE_CHARS} characters)")
    } else {
        return None;
    };
    Some(message(
        400,
        &format!("400 Bad request - Note {{:note=>[\"{error}\"]}}"),
    ))
}

/// `/projects/:id/merge_requests/<rest>` where `rest` is `:iid/notes[/:note_id]`.
pub fn route(req: &Request, project: &str, rest: &str, notes: &mut Notes) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let (iid, note_id) = match parts.as_slice() {
        [iid, "notes"] => (*iid, None),
        [iid, "notes", id] => (*iid, Some(*id)),
        _ => return super::route_not_found(),
    };
    // `requires :noteable_id, type: Integer`: a non-integer fails validation.
    let Ok(iid) = iid.parse::<u64>() else {
        return Response::json(400, &json!({"error": "noteable_id is invalid"}));
    };
    let note_id = match note_id.map(str::parse::<u64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Response::json(400, &json!({"error": "note_id is invalid"})),
    };
    let read = req.method == "GET" || req.method == "HEAD";
    match (req.method.as_str(), note_id) {
        ("GET" | "POST", None) | ("GET" | "PUT", Some(_)) => {}
        _ => return super::route_not_found(),
    }
    let role = match token(req) {
        Err(()) | Ok(None) => return message(401, "401 Unauthorized"),
        Ok(Some((Kind::Job, _, _))) if !read => return message(401, "401 Unauthorized"),
        Ok(Some((_, false, _))) if !read => {
            return Response::json(
                403,
                &json!({"error": "insufficient_scope",
                        "error_description": "The request requires higher privileges than provided by the access token.",
                        "scope": "api"}),
            );
        }
        Ok(Some((_, _, role))) => role,
    };
    if project != "1" || role == Role::None {
        return message(404, "404 Project Not Found");
    }
    let me = sent_token(req).and_then(user_id).expect("a known token");
    if !notes.merge_requests.contains(&iid) {
        return message(404, "404 Not found");
    }
    match (req.method.as_str(), note_id) {
        ("GET", None) => list(req, iid, notes),
        ("GET", Some(id)) => match notes.rows.iter().find(|n| n.iid == iid && n.id == id) {
            Some(n) => Response::json(200, &entity(n)),
            None => message(404, "404 Not found"),
        },
        ("POST", None) => {
            let Some(body) = body_param(req) else {
                return Response::json(400, &json!({"error": "body is missing"}));
            };
            if let Some(r) = invalid(&body) {
                return r;
            }
            let id = notes.add(iid, me, &body);
            let n = notes.rows.iter().find(|n| n.id == id).expect("added");
            Response::json(201, &entity(n))
        }
        (_, Some(id)) => {
            let Some(i) = notes.rows.iter().position(|n| n.iid == iid && n.id == id) else {
                return message(404, "404 Not found");
            };
            // `authorize! :admin_note`: the author (a Maintainer could too; none here).
            if notes.rows[i].author != me {
                return message(403, "403 Forbidden");
            }
            // `allow_blank: false`; a missing body is a 400 in the shared examples.
            let body = match body_param(req) {
                None => return Response::json(400, &json!({"error": "body is missing"})),
                Some(b) if b.trim().is_empty() => {
                    return Response::json(400, &json!({"error": "body is empty"}));
                }
                Some(b) => b,
            };
            if let Some(r) = invalid(&body) {
                return r;
            }
            notes.clock += 1;
            notes.rows[i].body = body;
            notes.rows[i].updated = notes.clock;
            Response::json(200, &entity(&notes.rows[i]))
        }
        _ => super::route_not_found(),
    }
}

/// The list, ordered with the id as tie-breaker, one page of it, and the pagination headers.
fn list(req: &Request, iid: u64, notes: &Notes) -> Response {
    let q = |k: &str| req.query.get(k).map(String::as_str);
    let order_by = q("order_by").unwrap_or("created_at");
    let sort = q("sort").unwrap_or("desc");
    if !["created_at", "updated_at"].contains(&order_by) {
        return Response::json(
            400,
            &json!({"error": "order_by does not have a valid value"}),
        );
    }
    if !["asc", "desc"].contains(&sort) {
        return Response::json(400, &json!({"error": "sort does not have a valid value"}));
    }
    let int = |k: &'static str, default: u64| {
        q(k).map_or(Ok(default), |v| v.parse::<u64>().map_err(|_| k))
    };
    let (page, per_page) = match (int("page", 1), int("per_page", 20)) {
        (Ok(p), Ok(pp)) => (p.max(1), pp),
        (Err(k), _) | (_, Err(k)) => {
            return Response::json(400, &json!({"error": format!("{k} is invalid")}));
        }
    };
    if per_page == 0 {
        return Response::json(400, &json!({"error": "per_page has a value not allowed"}));
    }
    let per_page = per_page.min(100);
    let mut rows: Vec<&NoteRow> = notes.rows.iter().filter(|n| n.iid == iid).collect();
    rows.sort_by_key(|n| {
        let t = if order_by == "updated_at" {
            n.updated
        } else {
            n.created
        };
        (t, n.id)
    });
    if sort == "desc" {
        rows.reverse();
    }
    let total = rows.len() as u64;
    let total_pages = total.div_ceil(per_page).max(1);
    let start = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let items: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|n| entity(n))
        .collect();
    let next = (page < total_pages).then_some(page + 1);
    let prev = (page > 1).then(|| page - 1);
    let href = |p: u64| {
        format!(
            "<http://gitlab.example{}?order_by={order_by}&page={p}&per_page={per_page}&sort={sort}>",
            req.raw_path
        )
    };
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(format!("{}; rel=\"prev\"", href(p)));
    }
    if let Some(n) = next {
        links.push(format!("{}; rel=\"next\"", href(n)));
    }
    links.push(format!("{}; rel=\"first\"", href(1)));
    links.push(format!("{}; rel=\"last\"", href(total_pages)));
    let mut r = Response::json(200, &Value::Array(items));
    let opt = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    r.headers = vec![
        ("X-Per-Page".into(), per_page.to_string()),
        ("X-Page".into(), page.to_string()),
        ("X-Next-Page".into(), opt(next)),
        ("X-Prev-Page".into(), opt(prev)),
        ("Link".into(), links.join(", ")),
        ("X-Total".into(), total.to_string()),
        ("X-Total-Pages".into(), total_pages.to_string()),
    ];
    r
}
