//! Model files on GitLab, through the model registry package API (`doc/api/model_registry.md`,
//! `lib/api/ml_model_packages.rb`; `docs/gitlab.md`).
//!
//! GitLab has no MLflow 3 logged-model endpoints, so autolog cannot store a model there. The
//! bootstrap saves it locally instead (`MLOPS_MODEL_DIR`), train uploads that directory to the
//! run (`candidate:<iid>`), records the file list in the run tag [`FILES_TAG`], and register
//! copies the files to the model version it creates.
//!
//! Uploads are a raw-body `PUT .../packages/ml_models/<id>/files/<path>/<file>`: Workhorse
//! serves that route with its request-body uploader and calls `…/authorize` itself
//! (`workhorse/internal/upstream/routes.go`), answering 201.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Client, MlflowError};

/// The run tag that lists the model files uploaded to the run, as a JSON array of paths.
pub const FILES_TAG: &str = "mlops.model_files";

/// The longest [`FILES_TAG`] value: MLflow's tag value limit on older servers.
const MAX_TAG_CHARS: usize = 5000;

/// A package the API accepts: a run or a model version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A run (GitLab candidate), by its per-project iid.
    Candidate(String),
    /// A model version, by its integer id (MLflow's `version` field on GitLab).
    Version(String),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Candidate(iid) => write!(f, "candidate:{iid}"),
            Owner::Version(id) => f.write_str(id),
        }
    }
}

/// A private scratch directory under the system temp directory, removed when dropped: where
/// the bootstrap saves models (`MLOPS_MODEL_DIR`) and register stages the files it copies.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh path (`<tmp>/mlops-<what>-<pid>-<nanos>`); created by whoever writes first.
    pub fn new(what: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self(std::env::temp_dir().join(format!("mlops-{what}-{}-{nanos}", std::process::id())))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the files a run's [`FILES_TAG`] lists from the run to a model version; returns
/// them (empty when the run has no such tag).
pub fn copy_run_files_to_version(
    client: &Client,
    run: &super::types::Run,
    version_id: &str,
) -> Result<Vec<String>, CopyError> {
    let Some(value) = super::types::tag(&run.data.tags, FILES_TAG) else {
        return Ok(Vec::new());
    };
    let files = parse_files_tag(value)
        .ok_or_else(|| CopyError::BadTag(value.chars().take(200).collect()))?;
    let (api, run_package) = Packages::of_run(client, &run.info)?;
    let scratch = Scratch::new("register");
    api.download(&run_package, &files, scratch.path())?;
    api.upload(
        &Owner::Version(version_id.to_owned()),
        scratch.path(),
        &files,
    )?;
    Ok(files)
}

/// Why the model files could not be copied to a version.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The run tag is not a list of relative file paths.
    #[error("the run tag `{FILES_TAG}` is not a list of model file paths: `{0}`")]
    BadTag(String),
    /// The run's package cannot be told from its artifact URI.
    #[error("cannot tell the GitLab package of run {0} from its artifact URI `{1}`")]
    NoCandidate(String, String),
    /// The tracking URI is not GitLab's `/ml/mlflow`.
    #[error(
        "the tracking URI does not end in `/ml/mlflow`, so GitLab's package API cannot be found"
    )]
    NotGitlab,
    /// A transfer failed.
    #[error(transparent)]
    Mlflow(#[from] MlflowError),
}

impl CopyError {
    /// 75 for an unavailable server, 2 otherwise.
    pub fn exit(&self) -> crate::exit::Exit {
        match self {
            CopyError::Mlflow(e) => e.exit(),
            _ => crate::exit::Exit::Error,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CopyError::Mlflow(e) => e.hint(),
            _ => Some(
                "register copies the files train uploaded to the run; run train with this mlops version against GitLab's `/ml/mlflow` API",
            ),
        }
    }
}

/// The package API of the project the tracking URI belongs to.
pub struct Packages<'c> {
    client: &'c Client,
    base: String,
}

/// Why a model directory cannot be uploaded as it is.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    /// A file name GitLab refuses (`Gitlab::Regex.ml_model_file_name_regex`).
    #[error(
        "`{0}`: GitLab accepts model file names of letters, digits, `.`, `_`, `+`, `-` and spaces only"
    )]
    Name(String),
    /// Too many files to list in one run tag.
    #[error("{0} model files are too many to record in the run tag `{FILES_TAG}`")]
    TooMany(usize),
    /// The directory could not be read.
    #[error("cannot read `{0}`: {1}")]
    Io(String, String),
}

/// GitLab's file-name rule for model package files.
pub fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-' | b' '))
}

/// The files under `dir`, as sorted `/`-separated relative paths (empty when `dir` does not
/// exist). Every path segment must pass [`valid_file_name`].
pub fn model_files(dir: &Path) -> Result<Vec<String>, LayoutError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), LayoutError> {
        let io = |e: std::io::Error| LayoutError::Io(dir.display().to_string(), e.to_string());
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let name = e.file_name().to_string_lossy().into_owned();
            if !valid_file_name(&name) {
                return Err(LayoutError::Name(rel));
            }
            if e.file_type().map_err(io)?.is_dir() {
                walk(root, &path, out)?;
            } else {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out)?;
    }
    Ok(out)
}

/// The [`FILES_TAG`] value for `files`.
pub fn files_tag(files: &[String]) -> Result<String, LayoutError> {
    let text = serde_json::to_string(files).unwrap_or_default();
    if text.chars().count() > MAX_TAG_CHARS {
        return Err(LayoutError::TooMany(files.len()));
    }
    Ok(text)
}

/// The file list a run's [`FILES_TAG`] holds; `None` without the tag or with a value that is
/// not a list of relative paths.
pub fn parse_files_tag(value: &str) -> Option<Vec<String>> {
    let files: Vec<String> = serde_json::from_str(value).ok()?;
    files
        .iter()
        .all(|f| {
            !f.is_empty()
                && !f.starts_with('/')
                && f.split('/')
                    .all(|s| valid_file_name(s) && s != "." && s != "..")
        })
        .then_some(files)
}

/// The package that holds a GitLab run's files, read from what `runs/get` or `runs/create`
/// answered. GitLab has answered four forms over its releases (`lib/api/entities/ml/mlflow/
/// run_info.rb`; see `docs/gitlab.md`):
///
/// - `…/packages/ml_models/candidate:<iid>/files/`: a run's own package (current);
/// - `…/packages/ml_models/<model version id>/files/`: a run that belongs to a model version;
/// - `mlflow-artifacts:/candidate:<iid>`: a run whose package exists (newest releases);
/// - `…/packages/generic/ml_experiment_<exp iid>/<iid>/`: a run with a legacy generic package;
///
/// and releases before the UUID run ids gave the iid as `run_id` itself.
pub fn run_package(run_id: &str, artifact_uri: &str) -> Option<Owner> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let uri = artifact_uri.trim_end_matches('/');
    let uri = uri.strip_suffix("/files").unwrap_or(uri);
    let last = uri.rsplit(['/', ':']).next().unwrap_or_default();
    if digits(last) {
        let before = &uri[..uri.len() - last.len()];
        if before.ends_with("candidate:")
            && (before.contains("/packages/ml_models/") || before.starts_with("mlflow-artifacts:"))
        {
            return Some(Owner::Candidate(last.to_owned()));
        }
        if before.ends_with("/packages/ml_models/") {
            return Some(Owner::Version(last.to_owned()));
        }
        if before.contains("/packages/generic/ml_experiment_") {
            return Some(Owner::Candidate(last.to_owned()));
        }
    }
    digits(run_id).then(|| Owner::Candidate(run_id.to_owned()))
}

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters and `:` stay, so
/// `candidate:5` reads as in GitLab's docs).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

impl<'c> Packages<'c> {
    /// The package API next to the client's tracking URI (`…/projects/<id>/ml/mlflow` →
    /// `…/projects/<id>/packages/ml_models`); `None` when the URI is not GitLab's.
    pub fn new(client: &'c Client) -> Option<Self> {
        let uri = &client.connection().uri;
        let project = uri.strip_suffix("/ml/mlflow")?;
        Some(Self {
            client,
            base: format!("{project}/packages/ml_models"),
        })
    }

    /// The package API and the package of a run (its candidate).
    pub fn of_run(
        client: &'c Client,
        info: &super::types::RunInfo,
    ) -> Result<(Self, Owner), CopyError> {
        let owner = run_package(info.id(), &info.artifact_uri).ok_or_else(|| {
            CopyError::NoCandidate(info.id().to_owned(), info.artifact_uri.clone())
        })?;
        let api = Self::new(client).ok_or(CopyError::NotGitlab)?;
        Ok((api, owner))
    }

    fn url(&self, owner: &Owner, rel: &str) -> String {
        let path: Vec<String> = rel.split('/').map(encode_segment).collect();
        format!(
            "{}/{}/files/{}",
            self.base,
            encode_segment(&owner.to_string()),
            path.join("/")
        )
    }

    fn what(owner: &Owner, rel: &str) -> String {
        format!("packages/ml_models/{owner}/files/{rel}")
    }

    /// Uploads `dir/<rel>` for every `rel` in `files`.
    pub fn upload(&self, owner: &Owner, dir: &Path, files: &[String]) -> Result<(), MlflowError> {
        for rel in files {
            self.client.put_file(
                &Self::what(owner, rel),
                &self.url(owner, rel),
                &dir.join(rel),
            )?;
        }
        Ok(())
    }

    /// Downloads `files` of `owner` into `dir`, keeping their relative paths.
    pub fn download(
        &self,
        owner: &Owner,
        files: &[String],
        dir: &Path,
    ) -> Result<Vec<PathBuf>, MlflowError> {
        let mut out = Vec::new();
        for rel in files {
            let dest = dir.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| MlflowError::Local {
                    path: parent.to_owned(),
                    detail: e.to_string(),
                })?;
            }
            self.client
                .get_file(&Self::what(owner, rel), &self.url(owner, rel), &dest)?;
            out.push(dest);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_package_from_every_artifact_uri_form() {
        let c = |s: &str| Some(Owner::Candidate(s.to_owned()));
        let base = "https://gl.example/api/v4/projects/7/packages";
        let eid = "8a2c4f5e-58b8-4bb4-8a4e-0c2b0b2f9d11";
        for (uri, want) in [
            (format!("{base}/ml_models/candidate:42/files/"), c("42")),
            (format!("{base}/ml_models/candidate:42/files"), c("42")),
            ("mlflow-artifacts:/candidate:42".to_owned(), c("42")),
            (format!("{base}/generic/ml_experiment_3/42/"), c("42")),
            (
                format!("{base}/ml_models/17/files/"),
                Some(Owner::Version("17".into())),
            ),
            ("mlflow-artifacts:/1/0f3e9a/artifacts".to_owned(), None),
            (format!("{base}/ml_models/candidate:x/files/"), None),
        ] {
            assert_eq!(run_package(eid, &uri), want, "{uri}");
        }
        assert_eq!(run_package("17", "mlflow-artifacts:/x"), c("17"));
    }

    #[test]
    fn files_tag_round_trips_and_refuses_escapes() {
        let files = vec!["model/MLmodel".to_owned(), "model/model.pkl".to_owned()];
        let tag = files_tag(&files).unwrap();
        assert_eq!(parse_files_tag(&tag), Some(files));
        assert_eq!(parse_files_tag(r#"["../etc/passwd"]"#), None);
        assert_eq!(parse_files_tag(r#"["/abs"]"#), None);
        assert_eq!(parse_files_tag("not json"), None);
        let many: Vec<String> = (0..1000).map(|i| format!("model/file-{i}.bin")).collect();
        assert_eq!(files_tag(&many), Err(LayoutError::TooMany(1000)));
    }

    #[test]
    fn walks_sorted_and_checks_names() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir_all(d.join("model/variables")).unwrap();
        for f in [
            "model/MLmodel",
            "model/variables/v.index",
            "model/a b+c.txt",
        ] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        assert_eq!(
            model_files(d).unwrap(),
            [
                "model/MLmodel",
                "model/a b+c.txt",
                "model/variables/v.index"
            ]
        );
        assert!(model_files(&d.join("missing")).unwrap().is_empty());
        std::fs::write(d.join("model/bad:name"), "x").unwrap();
        assert_eq!(
            model_files(d),
            Err(LayoutError::Name("model/bad:name".into()))
        );
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("candidate:5"), "candidate:5");
        assert_eq!(encode_segment("a b+c.txt"), "a%20b%2Bc.txt");
    }
}
