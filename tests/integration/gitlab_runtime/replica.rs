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
