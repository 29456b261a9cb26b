//! The runtime's one error type. Stages and the libraries under them return errors and never
//! print them; the CLI renders an [`Error`] once, as `error:` and `hint:` lines, and exits
//! with [`Error::exit`] (`docs/runtime.md`).

use crate::artifacts::WriteError;
use crate::artifacts::page::WritePageError;
use crate::exit::Exit;
use crate::runtime::checks::CheckError;
use crate::runtime::context::ContextError;
use crate::runtime::data::DataError;
use crate::runtime::dvc::DvcError;
use crate::runtime::expectations::SuiteError;
use crate::runtime::mlflow::packages::CopyError;
use crate::runtime::mlflow::{ConnectionError, MlflowError};
use crate::runtime::stages::evaluate::EvaluateError;
use crate::runtime::stages::promote::PromoteError;
use crate::runtime::stages::register::RegisterError;
use crate::runtime::stages::train::TrainError;
use crate::runtime::stages::validate::ValidateError;

/// Why a stage did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stage could not start.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The tracking server is not configured usably.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// An MLflow call failed.
    #[error(transparent)]
    Mlflow(#[from] MlflowError),
    /// Model files could not be copied on GitLab.
    #[error(transparent)]
    Copy(#[from] CopyError),
    /// A DVC step failed.
    #[error(transparent)]
    Dvc(#[from] DvcError),
    /// A data file could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// An expectation suite is not usable.
    #[error(transparent)]
    Suite(#[from] SuiteError),
    /// A check script could not run.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The reports could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The report page could not be written.
    #[error(transparent)]
    Page(#[from] WritePageError),
    /// `mlops run validate`.
    #[error(transparent)]
    Validate(#[from] ValidateError),
    /// `mlops run train`.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// `mlops run evaluate`.
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
    /// `mlops run register`.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// `mlops run promote`.
    #[error(transparent)]
    Promote(#[from] PromoteError),
    /// Several problems, in the order they happened; the first decides the exit code.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<Error>),
}

impl Error {
    /// The exit code: 1 for a failed check or gate, 75 for infrastructure still failing after
    /// retries, 128+n for a signal, a training script's own code, and 2 for the rest.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Mlflow(e) => e.exit(),
            Error::Copy(e) => e.exit(),
            Error::Dvc(e) => e.exit(),
            Error::Validate(e) => e.exit(),
            Error::Train(e) => e.exit(),
            Error::Evaluate(e) => e.exit(),
            Error::Register(e) => e.exit(),
            Error::Promote(e) => e.exit(),
            Error::Several(all) => all.first().map_or(Exit::Error, Error::exit),
            Error::Context(_)
            | Error::Connection(_)
            | Error::Data(_)
            | Error::Suite(_)
            | Error::Check(_)
            | Error::Write(_)
            | Error::Page(_) => Exit::Error,
        }
    }

    /// What to do about it, for a `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Context(e) => e.hint(),
            Error::Connection(e) => Some(e.hint()),
            Error::Mlflow(e) => e.hint().map(str::to_owned),
            Error::Copy(e) => e.hint().map(str::to_owned),
            Error::Dvc(e) => e.hint(),
            Error::Data(e) => Some(e.hint.clone()),
            Error::Suite(e) => Some(e.hint.clone()),
            Error::Check(e) => Some(e.hint.clone()),
            Error::Write(e) => e.hint().map(str::to_owned),
            Error::Page(WritePageError::Io { .. }) => {
                Some("check the `--html` path and its permissions, or pass `--no-html`".to_owned())
            }
            Error::Page(WritePageError::Page(_)) => Some(
                "run `mlops run validate` again to write its reports, or pass `--no-html`"
                    .to_owned(),
            ),
            Error::Validate(e) => Some(e.hint()),
            Error::Train(e) => e.hint(),
            Error::Evaluate(e) => Some(e.hint()),
            Error::Register(e) => Some(e.hint().to_owned()),
            Error::Promote(e) => Some(e.hint().to_owned()),
            Error::Several(_) => None,
        }
    }

    /// The single problems, in order (a [`Error::Several`] flattened).
    pub fn problems(&self) -> Vec<&Error> {
        match self {
            Error::Several(all) => all.iter().flat_map(Error::problems).collect(),
            one => vec![one],
        }
    }

    /// `Ok` without errors, the error alone, or [`Error::Several`].
    pub fn all(mut errors: Vec<Error>) -> Result<(), Error> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Several(errors)),
        }
    }
}
