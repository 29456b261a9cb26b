//! `mlops graph`: the job DAG of the compiled pipeline (compiled in memory), drawn by
//! [`crate::compile::graph`] as Mermaid or Graphviz DOT.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::compile::{read_source, resolve_source};
use super::report;
use crate::compile::graph::{dot, mermaid};
use crate::compile::{CompileOptions, LowerOptions, compile};
use crate::config::display_path;
use crate::exit::Exit;

/// The picture format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Mermaid `graph LR`, for GitLab Markdown.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// Arguments of `mlops graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The config file.
    #[arg(short, long, default_value = "mlops.toml", env = "MLOPS_CONFIG")]
    pub config: PathBuf,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    pub format: Format,
}

/// Runs `mlops graph`.
pub fn run(args: &GraphArgs) -> Exit {
    let source = match read_source(&args.config) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let project = match resolve_source(&source) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let opts = CompileOptions {
        lower: LowerOptions {
            config_path: display_path(&args.config),
        },
    };
    match compile(&project, &opts) {
        Ok(c) => super::print_data(
            match args.format {
                Format::Mermaid => mermaid(&c.pipeline),
                Format::Dot => dot(&c.pipeline),
            }
            .as_bytes(),
        ),
        Err(e) => {
            eprint!("{}", report::render(&e));
            Exit::Error
        }
    }
}
