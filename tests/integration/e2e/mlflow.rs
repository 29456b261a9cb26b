//! The suite's MLflow server as the scenarios read it: runs, experiments, versions and
//! aliases through its REST API.

use serde_json::{Value, json};

use super::agent;

/// The suite's MLflow server, read through its REST API.
pub(super) struct Mlflow {
    pub(super) uri: String,
}

impl Mlflow {
    fn call(&self, method: &str, endpoint: &str, body: &Value) -> (u16, Value) {
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let mut resp = if method == "GET" {
            let mut rb = agent().get(&url);
            for (k, v) in body.as_object().into_iter().flatten() {
                rb = rb.query(k, v.as_str().unwrap_or_default());
            }
            rb.call()
        } else {
            agent().post(&url).send_json(body)
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn ok(&self, method: &str, endpoint: &str, body: &Value) -> Value {
        let (status, v) = self.call(method, endpoint, body);
        assert_eq!(status, 200, "{method} {endpoint} {body}: {v}");
        v
    }

    pub(super) fn run(&self, run_id: &str) -> Value {
        self.ok("GET", "runs/get", &json!({ "run_id": run_id }))["run"].clone()
    }

    /// The experiment's id, or `None` when it does not exist.
    pub(super) fn experiment_id(&self, name: &str) -> Option<String> {
        let (status, v) = self.call(
            "GET",
            "experiments/get-by-name",
            &json!({ "experiment_name": name }),
        );
        match status {
            200 => Some(
                v["experiment"]["experiment_id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            ),
            404 => None,
            _ => panic!("experiments/get-by-name {name}: {status} {v}"),
        }
    }

    /// Every run of the experiment (none when the experiment does not exist).
    pub(super) fn runs_of(&self, experiment: &str) -> Vec<Value> {
        let Some(id) = self.experiment_id(experiment) else {
            return Vec::new();
        };
        let v = self.ok(
            "POST",
            "runs/search",
            &json!({ "experiment_ids": [id], "max_results": 1000 }),
        );
        v["runs"].as_array().cloned().unwrap_or_default()
    }

    /// Every version of the registered model (none when it does not exist).
    pub(super) fn versions(&self, model: &str) -> Vec<Value> {
        let v = self.ok(
            "GET",
            "model-versions/search",
            &json!({ "filter": format!("name='{model}'"), "max_results": "1000" }),
        );
        v["model_versions"].as_array().cloned().unwrap_or_default()
    }

    /// The version an alias points at, or `None`.
    pub(super) fn alias(&self, model: &str, alias: &str) -> Option<Value> {
        let (status, v) = self.call(
            "GET",
            "registered-models/alias",
            &json!({ "name": model, "alias": alias }),
        );
        match status {
            200 => Some(v["model_version"].clone()),
            // MLflow 3 answers an unset alias with 400 `INVALID_PARAMETER_VALUE`, "Registered
            // model alias <alias> not found."
            404 => None,
            400 if v["message"]
                .as_str()
                .is_some_and(|m| m.ends_with("not found.")) =>
            {
                None
            }
            _ => panic!("registered-models/alias {model}@{alias}: {status} {v}"),
        }
    }
}
