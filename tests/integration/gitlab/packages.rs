//! The package routes the ML features use:
//!
//! - `PUT|GET /api/v4/projects/:id/packages/ml_models/:model_version_id/files/(*path/):file_name`
//!   (`lib/api/ml_model_packages.rb` @ 2d0fdb46; `PackageForCandidateService` @ de09f039;
//!   contract: `spec/requests/api/ml_model_packages_spec.rb` @ b10ee295). Workhorse answers
//!   the `/authorize` pre-flight itself and forwards the raw body.
//! - `PUT /api/v4/projects/:id/packages/generic/:package_name/*package_version/(*path/):file_name`,
//!   where MLflow's own client sends a legacy run's artifacts.

use serde_json::json;

use super::http::Response;
use super::state::{PackageKind, State};

fn message(status: u16, text: &str) -> Response {
    Response::json(status, &json!({ "message": text }))
}

/// `Gitlab::Regex.ml_model_file_name_regex`: `\A[A-Za-z0-9\.\_\-\+ ]+\z`.
fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b' '))
}

/// `ml_models/<rest>`, where `rest` is `<model_version_id>/files/<path>/<file>` as sent
/// (percent-encoded). `write` is whether the caller may write to the registry.
pub fn ml_models(st: &mut State, method: &str, rest: &str, body: Vec<u8>) -> Response {
    let Some((owner, file)) = rest.split_once("/files/") else {
        return message(404, "404 Not Found");
    };
    let owner = super::http::decode(owner, false);
    let file = super::http::decode(file, false);
    // Path traversal is refused by Grape's `file_path: true` validator.
    if file.split('/').any(|s| s == ".." || s == ".") {
        return Response::json(
            400,
            &json!({"error": "file_name should be a valid file path"}),
        );
    }
    let name = file.rsplit('/').next().unwrap_or_default();
    if !valid_file_name(name) {
        return Response::json(400, &json!({"error": "file_name is invalid"}));
    }
    // `find_candidate!` by per-project iid, or `find_model_version!` by id; 404 otherwise.
    let package = if let Some(iid) = owner.strip_prefix("candidate:") {
        let Some(i) = iid
            .parse::<u64>()
            .ok()
            .and_then(|iid| st.candidates.iter().position(|c| c.iid == iid))
        else {
            return message(404, "404 Not Found");
        };
        if method == "PUT" {
            // `PackageForCandidateService`: find or create the ml_model package
            // `<experiment package name>/<candidate package version>` and attach it. The
            // version is the iid in the legacy generation (`candidate.rb` @ 010d26e3), and
            // `candidate_<iid>` unless the run has a generic package today (@ 15cc871f).
            let c = &st.candidates[i];
            let generic = c
                .package
                .is_some_and(|p| st.packages[p].kind == PackageKind::Generic);
            let version = if generic || st.generation == super::Generation::Legacy {
                c.iid.to_string()
            } else {
                format!("candidate_{}", c.iid)
            };
            let name = st
                .experiment(c.experiment)
                .map(super::state::Experiment::package_name)
                .unwrap_or_default();
            let existing = st.packages.iter().position(|p| {
                p.kind == PackageKind::MlModel && p.name == name && p.version == version
            });
            let p =
                existing.unwrap_or_else(|| st.add_package(PackageKind::MlModel, &name, &version));
            st.candidates[i].package = Some(p);
            Some(p)
        } else {
            st.candidates[i].package
        }
    } else {
        let Some(v) = owner
            .parse::<u64>()
            .ok()
            .and_then(|id| st.version_by_id(id))
        else {
            return message(404, "404 Not Found");
        };
        st.versions[v].package
    };
    match method {
        "PUT" => {
            if body.len() as u64 > st.max_file_size {
                return message(400, "400 Bad request - Artifact file is too large");
            }
            let Some(p) = package else {
                return message(400, "400 Bad request - Package creation failed");
            };
            st.packages[p].files.push((file, body));
            message(201, "201 Created")
        }
        "GET" => {
            let found = package.and_then(|p| {
                st.packages[p]
                    .files
                    .iter()
                    .rev()
                    .find(|(f, _)| *f == file)
                    .map(|(_, b)| b.clone())
            });
            match found {
                Some(b) => Response::bytes(b),
                None => message(404, "404 Not Found"),
            }
        }
        _ => Response::json(404, &json!({"error": "404 Not Found"})),
    }
}

/// `generic/<name>/<version>/<path>`: only PUT into a legacy run's generic package is used.
pub fn generic(st: &mut State, method: &str, rest: &str, body: Vec<u8>) -> Response {
    let rest = super::http::decode(rest, false);
    let mut parts = rest.splitn(3, '/');
    let (Some(name), Some(version), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
        return Response::json(404, &json!({"error": "404 Not Found"}));
    };
    if method != "PUT" {
        return Response::json(404, &json!({"error": "404 Not Found"}));
    }
    let existing = st
        .packages
        .iter()
        .position(|p| p.kind == PackageKind::Generic && p.name == name && p.version == version);
    let p = existing.unwrap_or_else(|| st.add_package(PackageKind::Generic, name, version));
    st.packages[p].files.push((file.to_owned(), body));
    message(201, "201 Created")
}
