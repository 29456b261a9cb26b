//! A replica of GitLab's MLflow-compatible API and model-registry packages, for the one part of
//! the product no local server can show. It follows GitLab's source (the `gitlabhq/gitlabhq`
//! mirror), not its docs: each route names the file and commit it mirrors, and its answers are
//! those GitLab's request specs assert. See `docs/gitlab.md` for the table of sources.
//!
//! It serves one project (id 1) and two API generations, chosen per test ([`Generation`]).
//! Authentication follows `lib/api/ml/mlflow/entrypoint.rb` @ de09f039 (personal, project
//! and group access tokens with the `api` scope, or `read_api` for GET; no CI job token) and
//! `lib/api/ml_model_packages.rb` @ 2d0fdb46 (access tokens and job tokens). Anything GitLab
//! does not route answers Grape's catch-all `{"error":"404 Not Found"}` (`lib/api/api.rb`) and
//! is recorded in [`Replica::unsupported`].

mod http;
mod mlflow;
mod notes;
mod packages;
mod state;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use http::{Request, Response};
use state::State;

/// Which GitLab the replica plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// Today's GitLab: UUID run ids, run files in an `ml_model` package
    /// (`…/packages/ml_models/candidate:<iid>/files/`, then `mlflow-artifacts:/candidate:<iid>`
    /// once it exists; `run_info.rb` @ 55eb439f), `runs/get` shows the last row per metric
    /// (`run.rb` @ 55eb439f), and `model-versions/create` promotes `run_id`
    /// (`model_versions.rb` @ 1737a58c).
    Current,
    /// The generic-package generation: a run's artifacts live in the generic package
    /// `ml_experiment_<exp iid>/<iid>` (`run_info.rb` @ de09f039 keeps this form for such runs;
    /// the spec at older commits asserts it for every run), `runs/get` lists every metric row
    /// (`run.rb` @ 5afcbe03), and `model-versions/create` has no `run_id` (@ f7f952ac).
    Legacy,
}

/// A token the replica knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A personal, project or group access token.
    Access,
    /// `CI_JOB_TOKEN`.
    Job,
}

/// Project roles, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    None,
    Reporter,
    Developer,
}

/// A Developer's access token with the `api` scope: what mlops needs.
pub const TOKEN: &str = "glpat-replica-developer";
/// A Developer's token with only `read_api`.
pub const READ_API_TOKEN: &str = "glpat-replica-read-api";
/// A Reporter's token with `api`.
pub const REPORTER_TOKEN: &str = "glpat-replica-reporter";
/// A valid token of a user who is not a member of the (private) project.
pub const OUTSIDER_TOKEN: &str = "glpat-replica-outsider";
/// The job's `CI_JOB_TOKEN`.
pub const JOB_TOKEN: &str = "glcbt-replica-job-token";

/// (token, kind, `api` scope (else `read_api`), role).
const TOKENS: [(&str, Kind, bool, Role); 5] = [
    (TOKEN, Kind::Access, true, Role::Developer),
    (READ_API_TOKEN, Kind::Access, false, Role::Developer),
    (REPORTER_TOKEN, Kind::Access, true, Role::Reporter),
    (OUTSIDER_TOKEN, Kind::Access, true, Role::None),
    (JOB_TOKEN, Kind::Job, true, Role::Developer),
];

/// The running replica.
pub struct Replica {
    /// `http://127.0.0.1:<port>/api/v4`, what a job sees as `CI_API_V4_URL`.
    pub api_v4: String,
    /// The project's tracking URI, `<api_v4>/projects/1/ml/mlflow`.
    pub uri: String,
    state: Arc<Mutex<State>>,
}

fn message(status: u16, text: &str) -> Response {
    Response::json(status, &json!({ "message": text }))
}

fn route_not_found() -> Response {
    Response::json(404, &json!({"error": "404 Not Found"}))
}

/// The bearer (or `PRIVATE-TOKEN`) token, looked up; `Err` for a token nobody issued.
fn token(req: &Request) -> Result<Option<(Kind, bool, Role)>, ()> {
    let sent = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .or_else(|| req.header("private-token"));
    let Some(sent) = sent else { return Ok(None) };
    TOKENS
        .iter()
        .find(|t| t.0 == sent.trim())
        .map(|t| Some((t.1, t.2, t.3)))
        .ok_or(())
}

fn serve(req: &Request, state: &Mutex<State>) -> Response {
    if req.raw_path == "/api/v4/user" {
        return notes::current_user(req);
    }
    let Some(rest) = req.raw_path.strip_prefix("/api/v4/projects/") else {
        return route_not_found();
    };
    let (project, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if let Some(endpoint) = rest.strip_prefix("ml/mlflow/api/2.0/mlflow/") {
        return mlflow_route(req, project, endpoint, state);
    }
    if let Some(r) = rest.strip_prefix("merge_requests/") {
        let mut st = state.lock().expect("state");
        return notes::route(req, project, r, &mut st.notes);
    }
    let (packages, rest) = if let Some(r) = rest.strip_prefix("packages/ml_models/") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("packages/generic/") {
        (false, r)
    } else {
        return route_not_found();
    };
    // `authenticate_with … token_types(:personal_access_token, :job_token)`, then
    // `authenticate_non_get!` and `read_model_registry`, then `authorize_upload!` (Developer).
    let role = match token(req) {
        Err(()) => return message(401, "401 Unauthorized"),
        Ok(None) if req.method != "GET" => return message(401, "401 Unauthorized"),
        Ok(None) => Role::None,
        Ok(Some((_, _, role))) => role,
    };
    if project != "1" || role == Role::None {
        return message(404, "404 Project Not Found");
    }
    if req.method == "PUT" && role < Role::Developer {
        return message(403, "403 Forbidden");
    }
    let mut st = state.lock().expect("state");
    if packages {
        packages::ml_models(&mut st, &req.method, rest, req.body.clone())
    } else {
        packages::generic(&mut st, &req.method, rest, req.body.clone())
    }
}

fn mlflow_route(req: &Request, project: &str, endpoint: &str, state: &Mutex<State>) -> Response {
    let endpoint = http::decode(endpoint, false);
    // Routing comes first: a path GitLab lacks never reaches the entrypoint's `authenticate!`.
    if !mlflow::routed(&req.method, &endpoint) {
        return route_not_found();
    }
    let body = req.json();
    let read = req.method == "GET" || req.method == "HEAD";
    let role = match token(req) {
        // No user: `authenticate!` → `unauthorized!`; a job token is not accepted here (no
        // `job_token_allowed`), and a token nobody issued raises `UnauthorizedError`.
        Ok(None | Some((Kind::Job, _, _))) | Err(()) => {
            return message(401, "401 Unauthorized");
        }
        // `allow_access_with_scope :read_api, if: GET or HEAD` → rack-oauth2's 403.
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
    // `user_project` → `find_project!`: 404 for a project the user cannot read.
    if project != "1" || role == Role::None {
        return message(404, "404 Project Not Found");
    }
    // `check_api_read!` (`read_model_experiments`, `read_model_registry`) would answer
    // `not_found!` where the features are off; here they are on. `check_api_write!`
    // (`write_model_*`, Developer): `unauthorized!`.
    if !read && role < Role::Developer {
        return message(401, "401 Unauthorized");
    }
    let mut st = state.lock().expect("state");
    let (status, v) =
        mlflow::route(&mut st, &req.method, &endpoint, &body, &req.query).expect("routed above");
    Response::json(status, &v)
}

/// Whether this request's answer is to be lost ([`Replica::lose_answer`]).
fn take_loss(state: &Mutex<State>, req: &Request) -> bool {
    let mut st = state.lock().expect("state");
    let hit = st.lose.iter().position(|w| {
        let (m, suffix) = w.split_once(' ').unwrap_or(("", w));
        req.method == m && req.path.contains(suffix)
    });
    hit.map(|i| st.lose.remove(i)).is_some()
}

impl Replica {
    /// Serves the next request `what` (`"POST model-versions/create"`, a method and a part of
    /// the path) in full, then closes the connection without answering: a lost answer.
    pub fn lose_answer(&self, what: &str) {
        self.with(|s| s.lose.push(what.to_owned()));
    }

    /// Starts a replica of `generation` on a free loopback port.
    pub fn start(generation: Generation) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let state = Arc::new(Mutex::new(State::new(generation, base.clone())));
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let st = Arc::clone(&st);
                std::thread::spawn(move || {
                    if let Some(req) = http::read(&stream) {
                        st.lock()
                            .expect("state")
                            .requests
                            .push(format!("{} {}", req.method, req.path));
                        let answer = serve(&req, &st);
                        if take_loss(&st, &req) {
                            return; // done, but the answer never arrives
                        }
                        if answer.body.starts_with(br#"{"error":"404 Not Found"}"#) {
                            let mut s = st.lock().expect("state");
                            s.unsupported.push(format!("{} {}", req.method, req.path));
                        }
                        http::write(&stream, &answer);
                    }
                });
            }
        });
        Self {
            api_v4: format!("{base}/api/v4"),
            uri: format!("{base}/api/v4/projects/1/ml/mlflow"),
            state,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state"))
    }

    /// Lowers the plan limit `ml_model_max_file_size`.
    pub fn set_max_file_size(&self, bytes: u64) {
        self.with(|s| s.max_file_size = bytes);
    }

    /// A finished run in experiment `experiment` (created when missing) with these metrics,
    /// logged at step 0; returns its run id.
    pub fn seed_run(&self, experiment: &str, metrics: &[(&str, f64)]) -> String {
        let run = self.with(|s| {
            let exp = match s.experiments.iter().find(|e| e.name == experiment) {
                Some(e) => e.iid,
                None => s.create_experiment(experiment, None).expect("new"),
            };
            let i = s.create_candidate(exp, 0, true);
            for (k, v) in metrics {
                s.candidates[i].metrics.push(state::MetricRow {
                    key: (*k).to_owned(),
                    value: *v,
                    timestamp: 0,
                    step: 0,
                });
            }
            s.candidates[i].status = "FINISHED".into();
            s.candidates[i]
                .tags
                .push(("mlops.model_files".into(), r#"["model.pkl"]"#.into()));
            s.candidates[i].eid.clone()
        });
        // The model file, uploaded as train does, so register finds a model.
        let uri = self.run(&run)["info"]["artifact_uri"]
            .as_str()
            .expect("artifact_uri")
            .to_owned();
        let status = ureq::put(&format!("{uri}model.pkl"))
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .send(&b"seeded model"[..])
            .expect("upload")
            .status();
        assert!(status.is_success(), "{status}");
        run
    }

    /// `runs/get`'s `run` for a run id, as the replica presents it.
    pub fn run(&self, run_id: &str) -> Value {
        self.with(|s| {
            let i = s.candidate_by_eid(run_id).expect("run exists");
            s.run(i)
        })
    }

    /// Every run of experiment `name`, as `runs/get` presents it, in creation order.
    pub fn runs_in(&self, name: &str) -> Vec<Value> {
        self.with(|s| {
            let Some(exp) = s.experiments.iter().find(|e| e.name == name).map(|e| e.iid) else {
                return Vec::new();
            };
            (0..s.candidates.len())
                .filter(|&i| s.candidates[i].experiment == exp)
                .map(|i| s.run(i))
                .collect()
        })
    }

    /// The run's candidate iid.
    pub fn iid(&self, run_id: &str) -> u64 {
        self.with(|s| s.candidates[s.candidate_by_eid(run_id).expect("run")].iid)
    }

    /// Every version of `model` (the MLflow entity), in creation order.
    pub fn versions(&self, model: &str) -> Vec<Value> {
        self.with(|s| {
            (0..s.versions.len())
                .filter(|&i| s.versions[i].model == model)
                .map(|i| s.version_entity(i))
                .collect()
        })
    }

    /// The newest file of each name in the package of a run (`candidate:<iid>` as uploaded)
    /// or of a model version (its id).
    pub fn files(&self, owner: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.with(|s| {
            let package = match owner.strip_prefix("candidate:") {
                Some(iid) => s
                    .candidates
                    .iter()
                    .find(|c| c.iid.to_string() == iid)
                    .and_then(|c| c.package),
                None => owner
                    .parse()
                    .ok()
                    .and_then(|id| s.version_by_id(id))
                    .and_then(|v| s.versions[v].package),
            };
            package
                .map(|p| s.packages[p].files.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Every request received (`"<METHOD> <path>"`), in order.
    pub fn requests(&self) -> Vec<String> {
        self.with(|s| s.requests.clone())
    }

    /// Routes GitLab lacks that someone called.
    pub fn unsupported(&self) -> Vec<String> {
        self.with(|s| s.unsupported.clone())
    }

    /// Opens merge request `iid` in project 1, so that its notes routes answer.
    pub fn open_merge_request(&self, iid: u64) {
        self.with(|s| s.notes.open(iid));
    }

    /// The notes of merge request `iid`, as the notes API shows them, oldest first.
    pub fn notes(&self, iid: u64) -> Vec<Value> {
        self.with(|s| s.notes.of(iid))
    }

    /// A note written on merge request `iid` by the user of `token`; returns its id.
    pub fn seed_note(&self, iid: u64, token: &str, body: &str) -> u64 {
        let author = notes::user_id(token).expect("a known token");
        self.with(|s| s.notes.add(iid, author, body))
    }

    /// The user id behind a token (`GET /user`).
    #[allow(clippy::unused_self)] // with the others, for the tests' reading
    pub fn user_id(&self, token: &str) -> u64 {
        notes::user_id(token).expect("a known token")
    }

    /// Names of the project's experiments.
    pub fn experiments(&self) -> Vec<String> {
        self.with(|s| s.experiments.iter().map(|e| e.name.clone()).collect())
    }
}
