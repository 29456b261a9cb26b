//! `mlops run validate`.

use clap::Args;

use crate::exit::Exit;
use crate::runtime::context::{CommonArgs, Context};

/// Arguments of `mlops run validate`.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Options shared by every stage.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Runs the stage.
pub fn run(args: &ValidateArgs) -> Exit {
    let _ctx = match Context::load(&args.common) {
        Ok(c) => c,
        Err(e) => return e,
    };
    crate::cli::report::error("`mlops run validate` is not built yet", None);
    Exit::Error
}
