//! `mlops run register`.

use clap::Args;

use crate::exit::Exit;
use crate::runtime::context::{CommonArgs, Context};

/// Arguments of `mlops run register`.
#[derive(Debug, Clone, Args)]
pub struct RegisterArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Runs the stage.
pub fn run(args: &RegisterArgs) -> Exit {
    let _ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    crate::cli::report::error("`mlops run register` is not built yet", None);
    Exit::Error
}
