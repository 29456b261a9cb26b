//! The replica itself, checked against what GitLab's request specs assert, in both API
//! generations.

use serde_json::{Value, json};

use super::BOTH;
use crate::gitlab::{
    Generation, JOB_TOKEN, OUTSIDER_TOKEN, READ_API_TOKEN, REPORTER_TOKEN, Replica, TOKEN,
};

/// One raw call to the replica, as GitLab's request specs make them.
fn call(gl: &Replica, token: Option<&str>, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/{path}", gl.api_v4);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut resp = if method == "GET" {
        let mut rb = agent.get(&url);
        for (k, v) in body.as_object().into_iter().flatten() {
            rb = rb.query(k, v.as_str().unwrap_or_default());
        }
        if let Some(a) = &auth {
            rb = rb.header("Authorization", a);
        }
        rb.call().expect("GET")
    } else {
        let mut rb = agent.post(&url);
        if let Some(a) = &auth {
            rb = rb.header("Authorization", a);
        }
        rb.send_json(body).expect("POST")
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn mlflow(gl: &Replica, method: &str, endpoint: &str, body: &Value) -> (u16, Value) {
    call(
        gl,
        Some(TOKEN),
        method,
        &format!("projects/1/ml/mlflow/api/2.0/mlflow/{endpoint}"),
        body,
    )
}

/// The replica answers what GitLab's request specs assert (`spec/requests/api/ml/mlflow/
/// {runs,model_versions,registered_models}_spec.rb`) and what the code they test returns.
#[test]
#[allow(clippy::many_single_char_names)]
fn replica_answers_as_gitlab_specs_assert() {
    for generation in BOTH {
        let gl = Replica::start(generation);
        let (s, e) = mlflow(&gl, "POST", "experiments/create", &json!({"name": "exp"}));
        assert_eq!((s, &e["experiment_id"]), (200, &json!("1")));
        let (s, _) = mlflow(&gl, "POST", "experiments/create", &json!({"name": "exp"}));
        assert_eq!(s, 400);
        let (s, r) = mlflow(
            &gl,
            "POST",
            "runs/create",
            &json!({"experiment_id": "1", "run_name": "A new Run", "tags": [{"key": "hello", "value": "world"}]}),
        );
        assert_eq!(s, 200);
        let info = &r["run"]["info"];
        assert_eq!(info["status"], "RUNNING");
        assert_eq!(info["run_name"], "A new Run");
        assert_eq!(
            r["run"]["data"],
            json!({"metrics": [], "params": [], "tags": [{"key": "hello", "value": "world"}]})
        );
        let run_id = info["run_id"].as_str().expect("id").to_owned();
        assert_eq!(run_id.len(), 36, "a UUID: {run_id}");
        let uri = info["artifact_uri"].as_str().expect("uri");
        match generation {
            Generation::Current => {
                assert_eq!(
                    uri,
                    format!(
                        "{}/projects/1/packages/ml_models/candidate:1/files/",
                        gl.api_v4
                    )
                );
            }
            Generation::Legacy => {
                assert_eq!(
                    uri,
                    format!(
                        "{}/projects/1/packages/generic/ml_experiment_1/1/",
                        gl.api_v4
                    )
                );
            }
        }
        // Every log-metric adds a row; runs/get shows them all (legacy) or the last (current).
        for (step, v) in [(0, 0.9), (1, 0.4)] {
            let m =
                json!({"run_id": run_id, "key": "acc", "value": v, "timestamp": 1, "step": step});
            assert_eq!(mlflow(&gl, "POST", "runs/log-metric", &m), (200, json!({})));
        }
        let (_, r) = mlflow(&gl, "GET", "runs/get", &json!({"run_id": run_id}));
        let rows = r["run"]["data"]["metrics"]
            .as_array()
            .expect("metrics")
            .len();
        assert_eq!(
            rows,
            if generation == Generation::Legacy {
                2
            } else {
                1
            }
        );
        // set-tag twice: 400 from `metadata.create!`; duplicates in log-batch are skipped.
        let t = json!({"run_id": run_id, "key": "k", "value": "v"});
        assert_eq!(mlflow(&gl, "POST", "runs/set-tag", &t).0, 200);
        let (s, e) = mlflow(&gl, "POST", "runs/set-tag", &t);
        assert_eq!(
            (s, &e["error_code"]),
            (400, &json!("INVALID_PARAMETER_VALUE"))
        );
        let batch = json!({"run_id": run_id, "params": [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}]});
        assert_eq!(
            mlflow(&gl, "POST", "runs/log-batch", &batch),
            (200, json!({}))
        );
        // A numeric iid is not a run id.
        let (s, e) = mlflow(&gl, "GET", "runs/get", &json!({"run_id": "1"}));
        assert_eq!(
            (s, e),
            (404, json!({"error_code": "RESOURCE_DOES_NOT_EXIST"}))
        );

        // A new model: its experiment `[model]<name>`, no versions yet (`[null]`).
        assert_eq!(
            mlflow(
                &gl,
                "POST",
                "registered-models/create",
                &json!({"name": "m"})
            )
            .0,
            200
        );
        assert!(gl.experiments().contains(&"[model]m".to_owned()));
        let (s, l) = mlflow(
            &gl,
            "POST",
            "registered-models/get-latest-versions",
            &json!({"name": "m"}),
        );
        assert_eq!((s, l), (200, json!({"model_versions": [null]})));
        let (s, e) = mlflow(
            &gl,
            "POST",
            "registered-models/create",
            &json!({"name": "m"}),
        );
        assert_eq!(
            (s, e),
            (400, json!({"error_code": "RESOURCE_ALREADY_EXISTS"}))
        );
        // `gitlab.version` picks the SemVer; `version` is the id, the SemVer is the alias.
        let tags = json!([{"key": "gitlab.version", "value": "1.2.3"}]);
        let (s, v) = mlflow(
            &gl,
            "POST",
            "model-versions/create",
            &json!({"name": "m", "tags": tags}),
        );
        assert_eq!(s, 200, "{v}");
        let v = &v["model_version"];
        assert_eq!(
            (&v["version"], &v["aliases"], &v["tags"]),
            (&json!("100"), &json!(["1.2.3"]), &tags)
        );
        assert!(
            v["run_id"]
                .as_str()
                .is_some_and(|r| r.len() == 36 && r != run_id),
            "its own candidate"
        );
        let (s, e) = mlflow(
            &gl,
            "POST",
            "model-versions/create",
            &json!({"name": "m", "tags": tags}),
        );
        assert_eq!(
            (s, e),
            (
                400,
                json!({"error_code": "INVALID_PARAMETER_VALUE", "message": ["Version has already been taken"]})
            )
        );
        let (s, v) = mlflow(&gl, "POST", "model-versions/create", &json!({"name": "m"}));
        assert_eq!(
            (s, &v["model_version"]["aliases"]),
            (200, &json!(["1.2.4"])),
            "patch increment"
        );
        // Promoting a run from another experiment: refused by current GitLab only.
        let (s, e) = mlflow(
            &gl,
            "POST",
            "model-versions/create",
            &json!({"name": "m", "run_id": run_id}),
        );
        match generation {
            Generation::Current => assert_eq!(
                (s, e),
                (
                    400,
                    json!({"error_code": "INVALID_PARAMETER_VALUE", "message": ["Run's experiment does not belong to this model"]})
                )
            ),
            Generation::Legacy => assert_eq!(s, 200, "run_id is not a parameter: {e}"),
        }
        let (s, v) = mlflow(
            &gl,
            "GET",
            "model-versions/get",
            &json!({"name": "m", "version": "1.2.3"}),
        );
        assert_eq!((s, &v["model_version"]["version"]), (200, &json!("100")));

        // Auth and routing (`lib/api/helpers.rb`, `lib/api/api.rb`).
        let path = "projects/1/ml/mlflow/api/2.0/mlflow/registered-models/get";
        let q = json!({"name": "m"});
        assert_eq!(
            call(&gl, None, "GET", path, &q),
            (401, json!({"message": "401 Unauthorized"}))
        );
        assert_eq!(call(&gl, Some("glpat-nobody"), "GET", path, &q).0, 401);
        assert_eq!(
            call(&gl, Some(JOB_TOKEN), "GET", path, &q).0,
            401,
            "no job token"
        );
        assert_eq!(call(&gl, Some(READ_API_TOKEN), "GET", path, &q).0, 200);
        assert_eq!(
            call(&gl, Some(OUTSIDER_TOKEN), "GET", path, &q),
            (404, json!({"message": "404 Project Not Found"}))
        );
        let other = "projects/2/ml/mlflow/api/2.0/mlflow/registered-models/get";
        assert_eq!(
            call(&gl, Some(TOKEN), "GET", other, &q),
            (404, json!({"message": "404 Project Not Found"}))
        );
        let create = "projects/1/ml/mlflow/api/2.0/mlflow/registered-models/create";
        assert_eq!(
            call(
                &gl,
                Some(READ_API_TOKEN),
                "POST",
                create,
                &json!({"name": "n"})
            )
            .1["error"],
            "insufficient_scope"
        );
        assert_eq!(
            call(
                &gl,
                Some(REPORTER_TOKEN),
                "POST",
                create,
                &json!({"name": "n"})
            )
            .0,
            401
        );
        let missing = "projects/1/ml/mlflow/api/2.0/mlflow/model-versions/search";
        assert_eq!(
            call(&gl, Some(TOKEN), "GET", missing, &json!({})),
            (404, json!({"error": "404 Not Found"}))
        );
        assert_eq!(gl.unsupported(), ["GET /api/v4/".to_owned() + missing]);
    }
}

/// One raw call with any method; the answer's status, body and headers.
fn raw(
    gl: &Replica,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value, std::collections::BTreeMap<String, String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/{path}", gl.api_v4);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut resp = match (method, body) {
        ("GET", _) => {
            let mut rb = agent.get(&url);
            if let Some(a) = &auth {
                rb = rb.header("Authorization", a);
            }
            rb.call()
        }
        (m, b) => {
            let mut rb = if m == "PUT" {
                agent.put(&url)
            } else {
                agent.post(&url)
            };
            if let Some(a) = &auth {
                rb = rb.header("Authorization", a);
            }
            rb.send_json(b.cloned().unwrap_or_else(|| json!({})))
        }
    }
    .expect("answer");
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let text = resp.body_mut().read_to_string().expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (resp.status().as_u16(), v, headers)
}

/// The notes routes answer what `notes_shared_examples.rb` (the `noteable API` examples of
/// `spec/requests/api/notes_spec.rb`) asserts, with the roles and scopes of the source.
#[test]
#[allow(clippy::many_single_char_names)]
fn notes_routes_answer_as_gitlab_specs_assert() {
    let gl = Replica::start(Generation::Current);
    gl.open_merge_request(7);
    let notes = "projects/1/merge_requests/7/notes";
    let first = gl.seed_note(7, TOKEN, "first");
    for b in ["second", "third", "fourth"] {
        gl.seed_note(7, TOKEN, b);
    }
    // "returns an array of notes" with pagination headers; created_at descending by default.
    let (s, list, h) = raw(&gl, Some(TOKEN), "GET", notes, None);
    assert_eq!(s, 200);
    let bodies = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|n| n["body"].as_str().expect("body").to_owned())
            .collect()
    };
    assert_eq!(bodies(&list), ["fourth", "third", "second", "first"]);
    for k in [
        "x-per-page",
        "x-page",
        "x-next-page",
        "x-prev-page",
        "x-total",
        "x-total-pages",
        "link",
    ] {
        assert!(h.contains_key(k), "{k}: {h:?}");
    }
    assert_eq!(
        (h["x-total"].as_str(), h["x-per-page"].as_str()),
        ("4", "20")
    );
    let (_, asc, _) = raw(&gl, Some(TOKEN), "GET", &format!("{notes}?sort=asc"), None);
    assert_eq!(bodies(&asc), ["first", "second", "third", "fourth"]);
    // Pages break where `per_page` says; the last page has no next one.
    let (_, p1, h1) = raw(
        &gl,
        Some(TOKEN),
        "GET",
        &format!("{notes}?sort=asc&per_page=3"),
        None,
    );
    assert_eq!((bodies(&p1).len(), h1["x-next-page"].as_str()), (3, "2"));
    assert!(h1["link"].contains("rel=\"next\""), "{}", h1["link"]);
    let (_, p2, h2) = raw(
        &gl,
        Some(TOKEN),
        "GET",
        &format!("{notes}?sort=asc&per_page=3&page=2"),
        None,
    );
    assert_eq!(
        (bodies(&p2), h2["x-next-page"].as_str()),
        (vec!["fourth".to_owned()], "")
    );
    assert_eq!(
        raw(
            &gl,
            Some(TOKEN),
            "GET",
            &format!("{notes}?per_page=0"),
            None
        )
        .0,
        400
    );
    // An update moves a note first by updated_at.
    let (s, put, _) = raw(
        &gl,
        Some(TOKEN),
        "PUT",
        &format!("{notes}/{first}"),
        Some(&json!({"body": "Hello!"})),
    );
    assert_eq!((s, &put["body"]), (200, &json!("Hello!")));
    let (_, upd, _) = raw(
        &gl,
        Some(TOKEN),
        "GET",
        &format!("{notes}?order_by=updated_at"),
        None,
    );
    assert_eq!(bodies(&upd)[0], "Hello!");
    // 404s: no such merge request, a project the user cannot see, no such note.
    let (s, e, _) = raw(
        &gl,
        Some(TOKEN),
        "GET",
        "projects/1/merge_requests/9999/notes",
        None,
    );
    assert_eq!((s, e), (404, json!({"message": "404 Not found"})));
    let (s, e, _) = raw(&gl, Some(OUTSIDER_TOKEN), "GET", notes, None);
    assert_eq!((s, e), (404, json!({"message": "404 Project Not Found"})));
    let (s, _, _) = raw(
        &gl,
        Some(TOKEN),
        "PUT",
        &format!("{notes}/99999"),
        Some(&json!({"body": "x"})),
    );
    assert_eq!(s, 404);
    // POST: 201 with the author; 400 without a body; 401 unauthenticated.
    let (s, n, _) = raw(
        &gl,
        Some(TOKEN),
        "POST",
        notes,
        Some(&json!({"body": "hi!"})),
    );
    assert_eq!(
        (s, &n["body"], &n["author"]["id"]),
        (201, &json!("hi!"), &json!(gl.user_id(TOKEN)))
    );
    assert_eq!(raw(&gl, Some(TOKEN), "POST", notes, None).0, 400);
    assert_eq!(
        raw(&gl, Some(TOKEN), "PUT", &format!("{notes}/{first}"), None).0,
        400
    );
    assert_eq!(
        raw(&gl, None, "POST", notes, Some(&json!({"body": "hi!"}))).0,
        401
    );
    // The length limit of `Notes::ActiveRecord`.
    let long = "x".repeat(1_000_001);
    let (s, e, _) = raw(
        &gl,
        Some(TOKEN),
        "POST",
        notes,
        Some(&json!({"body": long})),
    );
    assert_eq!(s, 400);
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("is too long (maximum is 1000000 characters)")),
        "{e}"
    );
    // A Reporter creates notes and updates its own, not another user's (`admin_note`).
    let (s, mine, _) = raw(
        &gl,
        Some(REPORTER_TOKEN),
        "POST",
        notes,
        Some(&json!({"body": "reporter"})),
    );
    assert_eq!(s, 201);
    let mine = mine["id"].as_u64().expect("id");
    assert_eq!(
        raw(
            &gl,
            Some(REPORTER_TOKEN),
            "PUT",
            &format!("{notes}/{mine}"),
            Some(&json!({"body": "r2"}))
        )
        .0,
        200
    );
    let (s, e, _) = raw(
        &gl,
        Some(REPORTER_TOKEN),
        "PUT",
        &format!("{notes}/{first}"),
        Some(&json!({"body": "no"})),
    );
    assert_eq!((s, e), (403, json!({"message": "403 Forbidden"})));
    // `read_api` reads but cannot write; the job token reads (GET routes only).
    assert_eq!(raw(&gl, Some(READ_API_TOKEN), "GET", notes, None).0, 200);
    let (s, e, _) = raw(
        &gl,
        Some(READ_API_TOKEN),
        "POST",
        notes,
        Some(&json!({"body": "x"})),
    );
    assert_eq!((s, &e["error"]), (403, &json!("insufficient_scope")));
    assert_eq!(raw(&gl, Some(JOB_TOKEN), "GET", notes, None).0, 200);
    assert_eq!(
        raw(
            &gl,
            Some(JOB_TOKEN),
            "POST",
            notes,
            Some(&json!({"body": "x"}))
        )
        .0,
        401
    );
    // GET /user: the token's user; no token or the job token: 401.
    let (s, u, _) = raw(&gl, Some(REPORTER_TOKEN), "GET", "user", None);
    assert_eq!((s, &u["id"]), (200, &json!(gl.user_id(REPORTER_TOKEN))));
    assert_eq!(raw(&gl, None, "GET", "user", None).0, 401);
    assert_eq!(raw(&gl, Some(JOB_TOKEN), "GET", "user", None).0, 401);
    assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
}
