//! `mlops run <stage>`.

use clap::Subcommand;

use crate::exit::Exit;
use crate::runtime::stages::{evaluate, register, train, validate};

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
}

/// Dispatches to the stage.
pub fn run(cmd: &RunCommand) -> Exit {
    match cmd {
        RunCommand::Validate(a) => validate::run(a),
        RunCommand::Train(a) => train::run(a),
        RunCommand::Evaluate(a) => evaluate::run(a),
        RunCommand::Register(a) => register::run(a),
    }
}
