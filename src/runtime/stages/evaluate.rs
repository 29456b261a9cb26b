//! `mlops run evaluate`.

use clap::Args;

use crate::exit::Exit;
use crate::runtime::context::{CommonArgs, Context};

/// Arguments of `mlops run evaluate`.
#[derive(Debug, Clone, Args)]
pub struct EvaluateArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Runs the stage.
pub fn run(args: &EvaluateArgs) -> Exit {
    let _ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    crate::cli::report::error("`mlops run evaluate` is not built yet", None);
    Exit::Error
}
