//! `mlops run train`.

use clap::Args;

use crate::exit::Exit;
use crate::runtime::context::{CommonArgs, Context};

/// Arguments of `mlops run train`.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Runs the stage.
pub fn run(args: &TrainArgs) -> Exit {
    let _ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    crate::cli::report::error("`mlops run train` is not built yet", None);
    Exit::Error
}
