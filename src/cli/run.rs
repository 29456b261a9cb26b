//! `mlops run <stage>`: loads the config, builds the stage's context, runs the stage, and
//! renders its error once.

use clap::Subcommand;

use super::compile::{read_source, resolve_source};
use super::report;
use crate::exit::Exit;
use crate::redact;
use crate::runtime::context::{self, CommonArgs, Context};
use crate::runtime::stages::{evaluate, promote, register, train, validate};

/// The pipeline stages.
#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Check the data: schema, nulls, drift, Great Expectations suites, custom checks.
    Validate(validate::ValidateArgs),
    /// Run the training script inside an MLflow run with autolog.
    Train(train::TrainArgs),
    /// Apply the quality gates to the training run's metrics.
    Evaluate(evaluate::EvaluateArgs),
    /// Register the model version and set its alias.
    Register(register::RegisterArgs),
    /// Point the production alias at the version this pipeline registered (or `--version`).
    #[command(disable_version_flag = true)]
    Promote(promote::PromoteArgs),
}

impl RunCommand {
    fn common(&self) -> &CommonArgs {
        match self {
            RunCommand::Validate(a) => &a.common,
            RunCommand::Train(a) => &a.common,
            RunCommand::Evaluate(a) => &a.common,
            RunCommand::Register(a) => &a.common,
            RunCommand::Promote(a) => &a.common,
        }
    }
}

/// Runs the stage and maps its outcome to an exit code.
pub fn dispatch(cmd: &RunCommand) -> Exit {
    // Secrets of the environment are masked from the start; the connection adds its own.
    redact::register(&redact::Redactor::for_connection("", None, &|k| {
        std::env::var(k).ok().filter(|v| !v.trim().is_empty())
    }));
    let ctx = match load_context(cmd.common()) {
        Ok(ctx) => ctx,
        Err(exit) => return exit,
    };
    let outcome = match cmd {
        RunCommand::Validate(a) => validate::validate(a, &ctx),
        RunCommand::Train(a) => train::train(a, &ctx),
        RunCommand::Evaluate(a) => evaluate::evaluate(a, &ctx),
        RunCommand::Register(a) => register::register(a, &ctx),
        RunCommand::Promote(a) => promote::promote(a, &ctx),
    };
    match outcome {
        Ok(()) => Exit::Success,
        Err(e) => {
            report::print_runtime_error(&e);
            e.exit()
        }
    }
}

/// The version pin, then with `--model` the config, then the context. Errors are printed.
fn load_context(common: &CommonArgs) -> Result<Context, Exit> {
    let printed = |e: context::ContextError| {
        let e = e.into();
        report::print_runtime_error(&e);
        e.exit()
    };
    context::check_version_pin().map_err(printed)?;
    // TODO(config split): `read_source`/`resolve_source` move to `src/config/`; they print
    // their own errors until then.
    let project = match &common.model {
        Some(_) => Some(resolve_source(&read_source(&common.config)?)?),
        None => None,
    };
    Context::new(common, project).map_err(printed)
}
