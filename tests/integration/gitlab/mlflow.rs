//! The MLflow-compatible routes, `/api/v4/projects/:id/ml/mlflow/api/2.0/mlflow/<endpoint>`.
//!
//! Each arm names the GitLab file and commit it follows (the `gitlabhq/gitlabhq` mirror):
//!
//! - experiments: `lib/api/ml/mlflow/experiments.rb` @ 0739b8bf, entity
//!   `lib/api/entities/ml/mlflow/experiment.rb` @ 55eb439f;
//! - runs: `lib/api/ml/mlflow/runs.rb` @ 55eb439f (`runs/search` @ 1737a58c, with the
//!   entities `search_runs.rb` @ 55eb439f and `run.rb` @ 03022933), `candidate_repository.rb` @ 585826cb,
//!   `candidate_metadata.rb` @ 43a25d93, `handle_candidate_gitlab_metadata_service.rb` @ 43a25d93;
//! - registered models: `lib/api/ml/mlflow/registered_models.rb` @ 13518aa9,
//!   `app/services/ml/create_model_service.rb` @ 4dbbab7b, `app/models/ml/model.rb` @ 68b145f4;
//! - model versions: `lib/api/ml/mlflow/model_versions.rb` @ 1737a58c (current; `run_id` is
//!   passed on as `candidate_eid`) and @ f7f952ac (legacy; no `run_id`),
//!   `app/services/ml/create_model_version_service.rb` @ de09f039,
//!   `app/services/ml/increment_version_service.rb` @ 7e202c4f;
//! - errors: `lib/api/ml/mlflow/api_helpers.rb` @ f7f952ac and the entrypoint's
//!   `rescue_from ActiveRecord::ActiveRecordError` (`entrypoint.rb` @ de09f039).
//!
//! The contract is GitLab's request specs (`spec/requests/api/ml/mlflow/*_spec.rb` @ de09f039,
//! bc7f4d7d, 13518aa9): status codes, error bodies and entity fields as asserted there.

use serde_json::{Value, json};

use super::Generation;
use super::state::{MetricRow, ModelVersion, PackageKind, State, is_semver, semver_key};

type Answer = (u16, Value);

fn ok(v: Value) -> Answer {
    (200, v)
}

/// `resource_not_found!`: `{"error_code":"RESOURCE_DOES_NOT_EXIST"}`, no message.
fn not_found() -> Answer {
    (404, json!({"error_code": "RESOURCE_DOES_NOT_EXIST"}))
}

/// `resource_already_exists!`.
fn already_exists() -> Answer {
    (400, json!({"error_code": "RESOURCE_ALREADY_EXISTS"}))
}

/// `invalid_parameter!(message)`: the message is a string or, from a service, an array.
fn invalid(message: &Value) -> Answer {
    (
        400,
        json!({"error_code": "INVALID_PARAMETER_VALUE", "message": message}),
    )
}

/// Grape's own validation failure (`rescue_from Grape::Exceptions::Base` in `lib/api/api.rb`).
fn grape_invalid(param: &str, what: &str) -> Answer {
    (400, json!({"error": format!("{param} {what}")}))
}

/// A request parameter: the JSON body first, then the query string (Grape merges both).
struct Params<'a> {
    body: &'a Value,
    query: &'a std::collections::BTreeMap<String, String>,
}

impl Params<'_> {
    fn get(&self, k: &str) -> Option<String> {
        match self.body.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => self.query.get(k).cloned(),
        }
    }
    fn str(&self, k: &str) -> String {
        self.get(k).unwrap_or_default()
    }
    fn tags(&self, k: &str) -> Vec<(String, String)> {
        self.body
            .get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["key"].as_str().unwrap_or_default().to_owned(),
                    t["value"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

fn experiment_entity(st: &State, iid: u64) -> Value {
    let e = st.experiment(iid).expect("experiment");
    json!({"experiment_id": iid.to_string(), "name": e.name, "lifecycle_stage": "active",
           "artifact_location": "not_implemented", "tags": super::state::kv(&e.tags)})
}

/// `gitlab.CI_JOB_ID` must name an existing build: `raise ArgumentError` otherwise, which only
/// the API's `rescue_from :all` catches (500).
fn link_build(st: &mut State, i: usize, tags: &[(String, String)]) -> Result<(), Answer> {
    let Some((_, v)) = tags.iter().find(|(k, _)| k == "gitlab.CI_JOB_ID") else {
        return Ok(());
    };
    let id = v.parse::<u64>().ok();
    let exists = id.is_some_and(|id| st.builds.as_ref().is_none_or(|b| b.contains(&id)));
    if !exists {
        return Err((500, json!({"message": "500 Internal Server Error"})));
    }
    st.candidates[i].ci_build = id;
    Ok(())
}

/// `insert_all` semantics: a duplicate name is skipped silently.
fn insert_all(into: &mut Vec<(String, String)>, items: Vec<(String, String)>) {
    for (k, v) in items {
        if !into.iter().any(|(n, _)| *n == k) {
            into.push((k, v));
        }
    }
}

fn metric_row(m: &Value) -> Option<MetricRow> {
    Some(MetricRow {
        key: m["key"].as_str()?.to_owned(),
        value: m["value"]
            .as_f64()
            .or_else(|| m["value"].as_str()?.parse().ok())?,
        timestamp: m["timestamp"]
            .as_i64()
            .or_else(|| m["timestamp"].as_str()?.parse().ok())?,
        step: m["step"]
            .as_i64()
            .or_else(|| m["step"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0),
    })
}

/// The routes served here; GitLab answers any other path with Grape's catch-all 404.
const ROUTES: [(&str, &str); 17] = [
    ("GET", "experiments/get"),
    ("GET", "experiments/get-by-name"),
    ("POST", "experiments/create"),
    ("POST", "runs/create"),
    ("GET", "runs/get"),
    ("POST", "runs/search"),
    ("POST", "runs/update"),
    ("POST", "runs/log-metric"),
    ("POST", "runs/log-parameter"),
    ("POST", "runs/set-tag"),
    ("POST", "runs/log-batch"),
    ("GET", "registered-models/get"),
    ("POST", "registered-models/create"),
    ("POST", "registered-models/get-latest-versions"),
    ("GET", "registered-models/alias"),
    ("GET", "model-versions/get"),
    ("POST", "model-versions/create"),
];

/// Whether GitLab routes `method endpoint`.
pub fn routed(method: &str, endpoint: &str) -> bool {
    ROUTES.contains(&(method, endpoint))
}

/// Serves one MLflow route; `None` when GitLab has no such route.
#[allow(clippy::too_many_lines)]
pub fn route(
    st: &mut State,
    method: &str,
    endpoint: &str,
    body: &Value,
    query: &std::collections::BTreeMap<String, String>,
) -> Option<Answer> {
    let p = Params { body, query };
    let find_experiment = |st: &State, p: &Params| -> Option<u64> {
        // `experiment_repository.by_iid_or_name`.
        match (p.get("experiment_id"), p.get("experiment_name")) {
            (Some(id), _) if !id.is_empty() => {
                let iid = id.parse::<u64>().ok()?;
                st.experiment(iid).map(|e| e.iid)
            }
            (_, Some(name)) => st
                .experiments
                .iter()
                .find(|e| e.name == name)
                .map(|e| e.iid),
            _ => None,
        }
    };
    let candidate = |st: &State, p: &Params| p.get("run_id").and_then(|r| st.candidate_by_eid(&r));
    Some(match (method, endpoint) {
        ("GET", "experiments/get" | "experiments/get-by-name") => match find_experiment(st, &p) {
            Some(iid) => ok(json!({"experiment": experiment_entity(st, iid)})),
            None => not_found(),
        },
        ("POST", "experiments/create") => {
            let Some(name) = p.get("name") else {
                return Some(grape_invalid("name", "is missing"));
            };
            match st.create_experiment(&name, None) {
                Some(iid) => ok(json!({"experiment_id": iid.to_string()})),
                None => already_exists(),
            }
        }
        ("POST", "runs/create") => {
            let Some(exp) = p.get("experiment_id") else {
                return Some(grape_invalid("experiment_id", "is missing"));
            };
            let Ok(exp) = exp.parse::<u64>() else {
                return Some(grape_invalid("experiment_id", "is invalid"));
            };
            if st.experiment(exp).is_none() {
                return Some(not_found());
            }
            let start = p
                .get("start_time")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let i = st.create_candidate(exp, start, true);
            let tags = p.tags("tags");
            st.candidates[i].name = p.get("run_name").filter(|n| !n.is_empty()).or_else(|| {
                tags.iter()
                    .find(|(k, _)| k == "mlflow.runName")
                    .map(|(_, v)| v.clone())
            });
            if let Err(e) = link_build(st, i, &tags) {
                st.candidates.pop();
                return Some(e);
            }
            insert_all(&mut st.candidates[i].tags, tags);
            ok(json!({"run": st.run(i)}))
        }
        ("GET", "runs/get") => match candidate(st, &p) {
            Some(i) => ok(json!({"run": st.run(i)})),
            None if p.get("run_id").is_none() => grape_invalid("run_id", "is missing"),
            None => not_found(),
        },
        // One experiment (the first of `experiment_ids`), newest first (`created_at DESC`),
        // at most `max_results` (default 200, capped at 1000); `filter` is not a parameter.
        // Each run is `Entities::Ml::Mlflow::Run`: `{"run": {"info", "data": {"metrics"}}}`,
        // no params, no tags.
        ("POST", "runs/search") => {
            let Some(ids) = body.get("experiment_ids").and_then(Value::as_array) else {
                return Some(grape_invalid("experiment_ids", "is missing"));
            };
            let exp = ids
                .first()
                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
            let Some(exp) = exp.filter(|e| st.experiment(*e).is_some()) else {
                return Some(not_found());
            };
            let max = p
                .get("max_results")
                .and_then(|m| m.parse::<usize>().ok())
                .unwrap_or(200)
                .min(1000);
            let runs: Vec<Value> = (0..st.candidates.len())
                .rev()
                .filter(|&i| st.candidates[i].experiment == exp)
                .take(max)
                .map(|i| {
                    let r = st.run(i);
                    json!({"run": {"info": r["info"], "data": {"metrics": r["data"]["metrics"]}}})
                })
                .collect();
            ok(json!({"runs": runs, "next_page_token": null}))
        }
        ("POST", "runs/update") => {
            let Some(i) = candidate(st, &p) else {
                return Some(not_found());
            };
            if let Some(s) = p.get("status") {
                if !["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"].contains(&s.as_str()) {
                    return Some(grape_invalid("status", "does not have a valid value"));
                }
                st.candidates[i].status = s;
            }
            if let Some(e) = p.get("end_time") {
                let Ok(e) = e.parse() else {
                    return Some(grape_invalid("end_time", "is invalid"));
                };
                st.candidates[i].end_time = Some(e);
            }
            ok(json!({"run_info": st.run_info(i)}))
        }
        ("POST", "runs/log-metric") => {
            let Some(i) = candidate(st, &p) else {
                return Some(not_found());
            };
            let Some(row) = metric_row(body) else {
                return Some(grape_invalid("key, value, timestamp", "are missing"));
            };
            st.candidates[i].metrics.push(row);
            ok(json!({}))
        }
        ("POST", "runs/log-parameter") => {
            let Some(i) = candidate(st, &p) else {
                return Some(not_found());
            };
            let (k, v) = (p.str("key"), p.str("value"));
            if st.candidates[i].params.iter().any(|(n, _)| *n == k) {
                return Some(invalid(&json!(
                    "Validation failed: Name has already been taken"
                )));
            }
            st.candidates[i].params.push((k, v));
            ok(json!({}))
        }
        ("POST", "runs/set-tag") => {
            let Some(i) = candidate(st, &p) else {
                return Some(not_found());
            };
            let (k, v) = (p.str("key"), p.str("value"));
            // `metadata.create!` validates: unique name per candidate, value present, ≤ 5000.
            if st.candidates[i].tags.iter().any(|(n, _)| *n == k) {
                return Some(invalid(&json!(format!(
                    "Validation failed: Name '{k}' already taken"
                ))));
            }
            if v.is_empty() || v.chars().count() > 5000 {
                return Some(invalid(&json!("Validation failed: Value is invalid")));
            }
            if let Err(e) = link_build(st, i, &[(k.clone(), v.clone())]) {
                return Some(e);
            }
            st.candidates[i].tags.push((k, v));
            ok(json!({}))
        }
        ("POST", "runs/log-batch") => {
            let Some(i) = candidate(st, &p) else {
                return Some(not_found());
            };
            let mut rows = Vec::new();
            for m in body["metrics"].as_array().into_iter().flatten() {
                let Some(row) = metric_row(m) else {
                    return Some(grape_invalid("metrics[key]", "is missing"));
                };
                rows.push(row);
            }
            let tags = p.tags("tags");
            if let Err(e) = link_build(st, i, &tags) {
                return Some(e);
            }
            let c = &mut st.candidates[i];
            c.metrics.extend(rows);
            insert_all(&mut c.params, p.tags("params"));
            insert_all(&mut c.tags, tags);
            ok(json!({}))
        }
        ("GET", "registered-models/get") => {
            match st.models.iter().find(|m| m.name == p.str("name")) {
                Some(m) => ok(
                    json!({"registered_model": {"name": m.name, "description": m.description,
                "creation_timestamp": 0, "last_updated_timestamp": 0, "user_id": "1", "tags": [],
                "latest_versions": []}}),
                ),
                None => not_found(),
            }
        }
        ("POST", "registered-models/create") => {
            let Some(name) = p.get("name") else {
                return Some(grape_invalid("name", "is missing"));
            };
            // `Ml::CreateModelService`: the default experiment `[model]<name>` first (its name
            // must be unique), then the model (`ml_model_name_regex`, unique); any failure
            // is RESOURCE_ALREADY_EXISTS.
            let valid_name = !name.is_empty()
                && name.len() <= 255
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"@._-+/".contains(&b));
            if !valid_name || st.models.iter().any(|m| m.name == name) {
                return Some(already_exists());
            }
            if st
                .create_experiment(&format!("[model]{name}"), Some(&name))
                .is_none()
            {
                return Some(already_exists());
            }
            let description = p.str("description");
            st.models.push(super::state::Model {
                name: name.clone(),
                description: description.clone(),
            });
            ok(
                json!({"registered_model": {"name": name, "description": description, "tags": [],
                "creation_timestamp": 0, "last_updated_timestamp": 0, "user_id": "1",
                "latest_versions": []}}),
            )
        }
        ("POST", "registered-models/get-latest-versions") => {
            let name = p.str("name");
            if !st.models.iter().any(|m| m.name == name) {
                return Some(not_found());
            }
            // `present [model.latest_version]`: `[null]` for a model without versions.
            let latest = st
                .latest_version(&name)
                .map(|v| v.id)
                .and_then(|id| st.version_by_id(id))
                .map(|i| st.version_entity(i));
            ok(json!({"model_versions": [latest]}))
        }
        ("GET", "model-versions/get" | "registered-models/alias") => {
            // The version parameter (or the alias) is the SemVer string.
            let want = p.str(if endpoint.ends_with("alias") {
                "alias"
            } else {
                "version"
            });
            let name = p.str("name");
            match st
                .versions
                .iter()
                .position(|v| v.model == name && v.version == want)
            {
                Some(i) => ok(json!({"model_version": st.version_entity(i)})),
                None => not_found(),
            }
        }
        ("POST", "model-versions/create") => create_version(st, &p),
        _ => return None,
    })
}

/// `model-versions/create` and `Ml::CreateModelVersionService` (inside one transaction: any
/// error leaves nothing behind).
fn create_version(st: &mut State, params: &Params) -> Answer {
    let name = params.str("name");
    if !st.models.iter().any(|m| m.name == name) {
        return not_found();
    }
    let tags = params.tags("tags");
    if tags.iter().any(|(k, _)| k.is_empty())
        || tags
            .iter()
            .enumerate()
            .any(|(i, (k, _))| tags[..i].iter().any(|(o, _)| o == k))
    {
        return invalid(&json!(["Validation failed: Name has already been taken"]));
    }
    // `custom_version`: the `gitlab.version` tag; otherwise the patch above the latest.
    let version = tags
        .iter()
        .find(|(k, _)| k == "gitlab.version")
        .map_or_else(
            || match st.latest_version(&name) {
                None => "1.0.0".to_owned(),
                Some(latest) => {
                    let (major, minor, patch) = semver_key(&latest.version);
                    format!("{major}.{minor}.{}", patch + 1)
                }
            },
            |(_, v)| v.clone(),
        );
    if !is_semver(&version) {
        return invalid(&json!(["Version must be semantic version"]));
    }
    if st
        .versions
        .iter()
        .any(|v| v.model == name && v.version == version)
    {
        return invalid(&json!(["Version has already been taken"]));
    }
    // Current GitLab promotes the run named by `run_id` (`candidate_eid`); the legacy API
    // does not declare `run_id`, so Grape drops it.
    let promoted = match (
        st.generation,
        params.get("run_id").filter(|r| !r.is_empty()),
    ) {
        (Generation::Current, Some(eid)) => {
            let Some(i) = st.candidate_by_eid(&eid) else {
                return invalid(&json!(["Run not found"]));
            };
            if st.candidates[i].model_version.is_some() {
                return invalid(&json!(["Run has already a model version"]));
            }
            let exp = st.experiment(st.candidates[i].experiment);
            if exp.and_then(|e| e.model.as_deref()) != Some(name.as_str()) {
                return invalid(&json!(["Run's experiment does not belong to this model"]));
            }
            Some(i)
        }
        _ => None,
    };
    let id = 100 + st.versions.len() as u64;
    let package = if let Some(i) = promoted {
        st.candidates[i].model_version = Some(id);
        // The run's package is renamed to the version's and becomes its package.
        let pk = st.candidates[i].package;
        if let Some(pk) = pk {
            st.packages[pk].name.clone_from(&name);
            st.packages[pk].version.clone_from(&version);
        }
        pk
    } else {
        let exp = st
            .experiments
            .iter()
            .find(|e| e.model.as_deref() == Some(name.as_str()))
            .map_or(0, |e| e.iid);
        let i = st.create_candidate(exp, 0, false);
        st.candidates[i].model_version = Some(id);
        None
    };
    let package = package.unwrap_or_else(|| st.add_package(PackageKind::MlModel, &name, &version));
    st.versions.push(ModelVersion {
        id,
        model: name,
        version,
        description: params.str("description"),
        tags,
        package: Some(package),
    });
    ok(json!({"model_version": st.version_entity(st.versions.len() - 1)}))
}
