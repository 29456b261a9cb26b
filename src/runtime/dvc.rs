//! DVC around training: `dvc pull` before the script and `dvc add` + `dvc push` after a
//! successful run, as argv (no shell), with a timeout so a dead remote never hangs the job.
//! S3 credentials come from the usual `AWS_*` variables, which the child inherits untouched.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use crate::config::Model;
use crate::config::resolved::Dvc;
use crate::exit::Exit;
use crate::runtime::log;
use crate::runtime::process::{self, Ended, Spawn};

/// Default timeout of one DVC command; `MLOPS_DVC_TIMEOUT` (seconds) overrides it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(900);

fn timeout() -> Duration {
    std::env::var("MLOPS_DVC_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

fn program() -> OsString {
    std::env::var_os("MLOPS_DVC").unwrap_or_else(|| "dvc".into())
}

/// What a failed DVC command means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Something the user must fix, and how.
    Config(&'static str),
    /// The storage could not be reached: worth a retry.
    Network(&'static str),
    /// Nothing we recognise.
    Other,
}

/// Reads DVC's (and botocore's) words in the output tail.
fn classify(tail: &str) -> Failure {
    let t = tail.to_ascii_lowercase();
    let config = [
        (
            "nosuchbucket",
            "the S3 bucket does not exist; create it or fix the remote URL",
        ),
        (
            "neither locally nor on remote",
            "the data is not on the remote; a missing bucket or a wrong remote URL looks the same to DVC: check the remote and that `dvc push` ran",
        ),
        (
            "unable to locate credentials",
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as masked CI/CD variables",
        ),
        (
            "invalidaccesskeyid",
            "the S3 access key is not valid: check AWS_ACCESS_KEY_ID",
        ),
        (
            "signaturedoesnotmatch",
            "the S3 secret key is wrong: check AWS_SECRET_ACCESS_KEY",
        ),
        (
            "access denied",
            "the credentials may not read or write this bucket",
        ),
        (
            "accessdenied",
            "the credentials may not read or write this bucket",
        ),
        (
            "no remote",
            "no DVC remote is configured: set `dvc_remote`, or `dvc remote add -d`",
        ),
        (
            "is not a dvc repository",
            "run `dvc init` in the repository and commit `.dvc/`",
        ),
        (
            "not a git repository",
            "DVC needs the job to run in the git checkout",
        ),
        (
            "does not exist",
            "a path given to DVC does not exist: check `dvc_files` / `dvc_push_paths`",
        ),
    ];
    for (needle, why) in config {
        if t.contains(needle) {
            return Failure::Config(why);
        }
    }
    let network = [
        "could not connect",
        "connection refused",
        "connect timeout",
        "read timeout",
        "timed out",
        "endpointconnectionerror",
        "name or service not known",
        "temporary failure in name resolution",
        "slowdown",
        "service unavailable",
    ];
    if network.iter().any(|n| t.contains(n)) {
        return Failure::Network("the storage could not be reached");
    }
    Failure::Other
}

/// Why a DVC step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DvcError {
    /// No `dvc` executable.
    #[error("`dvc` is not installed (DVC is enabled for this model)")]
    NotInstalled,
    /// `dvc` could not be started.
    #[error("could not start `dvc`: {0}")]
    Start(String),
    /// The command outlived its timeout.
    #[error("`{command}` did not finish within {seconds} s")]
    TimedOut {
        /// The command line, as shown in the log.
        command: String,
        /// The limit.
        seconds: u64,
    },
    /// A signal stopped mlops while the command ran.
    #[error("`{command}` was stopped by signal {signal}")]
    Interrupted {
        /// The command line.
        command: String,
        /// The signal.
        signal: i32,
    },
    /// The command failed; its last output line says why.
    #[error("`{command}` failed ({code}): {last_line}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit code or signal.
        code: i32,
        /// The last non-empty line of its output.
        last_line: String,
        /// What the output means.
        failure: Failure,
    },
    /// A `dvc_push_paths` entry the script did not write.
    #[error("`{0}` (in `dvc_push_paths`) does not exist after training")]
    MissingOutput(String),
}

impl DvcError {
    /// 75 for a timeout or an unreachable storage, 128+n for a signal, 2 otherwise.
    pub fn exit(&self) -> Exit {
        match self {
            DvcError::TimedOut { .. }
            | DvcError::Failed {
                failure: Failure::Network(_),
                ..
            } => Exit::TempFail,
            DvcError::Interrupted { signal, .. } => Exit::signalled(*signal),
            _ => Exit::Error,
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            DvcError::NotInstalled => "install it in the job image (`pip install 'dvc[s3]'`), or set `dvc_enabled = false`".to_owned(),
            DvcError::Start(_) | DvcError::Interrupted { .. } => return None,
            DvcError::TimedOut { .. } => "the remote may be unreachable; raise MLOPS_DVC_TIMEOUT for large data".to_owned(),
            DvcError::Failed { failure, .. } => match failure {
                Failure::Config(why) => (*why).to_owned(),
                Failure::Network(why) => format!("{why}; the job retries exit code 75"),
                Failure::Other => "see DVC's output above".to_owned(),
            },
            DvcError::MissingOutput(_) => "make the training script write it, or fix `dvc_push_paths`".to_owned(),
        })
    }
}

/// Runs `dvc <args>`.
fn dvc(args: &[&str]) -> Result<(), DvcError> {
    let limit = timeout();
    let command = format!("dvc {}", args.join(" "));
    log::info(&format!("$ {command}"));
    let spec = Spawn {
        program: program().into(),
        args: args.iter().map(OsString::from).collect(),
        env: vec![("DVC_NO_ANALYTICS".into(), "1".into())],
        prefix: "[dvc] ".into(),
        timeout: Some(limit),
    };
    let outcome = match process::run(&spec) {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(DvcError::NotInstalled),
        Err(e) => return Err(DvcError::Start(e.to_string())),
    };
    match outcome.ended {
        Ended::Exited(0) => Ok(()),
        Ended::TimedOut => Err(DvcError::TimedOut {
            command,
            seconds: limit.as_secs(),
        }),
        Ended::Interrupted(signal) => Err(DvcError::Interrupted { command, signal }),
        Ended::Exited(code) | Ended::Signalled(code) => {
            let last_line = outcome
                .tail
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_owned())
                .unwrap_or_default();
            Err(DvcError::Failed {
                command,
                code,
                last_line,
                failure: classify(&outcome.tail_text()),
            })
        }
    }
}

fn with_remote<'a>(cmd: &'a str, remote: Option<&'a str>, targets: &'a [String]) -> Vec<&'a str> {
    let mut args = vec![cmd];
    if let Some(r) = remote {
        args.extend(["-r", r]);
    }
    args.extend(targets.iter().map(String::as_str));
    args
}

/// `dvc pull [-r remote] <files>`.
pub fn pull(cfg: &Dvc) -> Result<Vec<String>, DvcError> {
    dvc(&with_remote("pull", cfg.remote.as_deref(), &cfg.files))?;
    Ok(cfg.files.clone())
}

/// `dvc add` for outputs not yet tracked, then `dvc push [-r remote] <paths>`.
pub fn push(cfg: &Dvc) -> Result<Vec<String>, DvcError> {
    if let Some(missing) = cfg.push_paths.iter().find(|p| !Path::new(p).exists()) {
        return Err(DvcError::MissingOutput(missing.clone()));
    }
    let untracked: Vec<String> = cfg
        .push_paths
        .iter()
        .filter(|p| {
            let is_dvc_file = Path::new(p)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("dvc"));
            !is_dvc_file && !Path::new(&format!("{p}.dvc")).exists()
        })
        .cloned()
        .collect();
    if !untracked.is_empty() {
        let mut args = vec!["add"];
        args.extend(untracked.iter().map(String::as_str));
        dvc(&args)?;
    }
    dvc(&with_remote("push", cfg.remote.as_deref(), &cfg.push_paths))?;
    Ok(cfg.push_paths.clone())
}

/// For the validate stage: pulls the model's DVC data first, when DVC is enabled.
pub fn pull_for_validate(model: &Model) -> Result<(), DvcError> {
    match &model.dvc {
        Some(cfg) => pull(cfg).map(|_| ()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_known_failures() {
        assert!(
            matches!(classify("ERROR: ... NoSuchBucket: The specified bucket does not exist"), Failure::Config(w) if w.contains("bucket"))
        );
        assert!(matches!(
            classify("Unable to locate credentials"),
            Failure::Config(_)
        ));
        assert!(matches!(
            classify("Could not connect to the endpoint URL"),
            Failure::Network(_)
        ));
        assert_eq!(classify("something odd"), Failure::Other);
    }
}
