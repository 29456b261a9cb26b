//! The command line: argument parsing, and the only layer (with `runtime`) that reads and
//! writes files. Data goes to stdout, logs and diagnostics to stderr.

pub mod compile;
pub mod graph;
pub mod init;
pub mod lint;
pub mod report;
pub mod run;
pub mod shards;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

/// Compile `mlops.toml` into a GitLab CI ML pipeline, and run its stages.
#[derive(Debug, Parser)]
#[command(name = "mlops", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a commented `mlops.toml` and a first `.gitlab-ci.yml`.
    Init(init::InitArgs),
    /// Write `.gitlab-ci.yml` from `mlops.toml`, or check that it is in sync.
    Compile(compile::CompileArgs),
    /// Check GitLab CI files offline: schema, `needs`, stages, dotenv variables in `rules`,
    /// YAML 1.1 traps.
    Lint(lint::LintArgs),
    /// Print the job graph of the compiled pipeline (Mermaid or DOT).
    Graph(graph::GraphArgs),
    /// Print the JSON Schema of `mlops.toml`.
    Schema,
    /// Run one pipeline stage (what generated jobs call).
    #[command(subcommand)]
    Run(run::RunCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Parses the command line, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    report::install_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => Exit::Error.into(),
            };
        }
    };
    run(cli).into()
}

fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Compile(args) => compile::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Run(cmd) => run::dispatch(&cmd),
        Command::Schema => {
            print!("{}", crate::config::schema::schema_json());
            Exit::Success
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "mlops", &mut std::io::stdout());
            Exit::Success
        }
    }
}
