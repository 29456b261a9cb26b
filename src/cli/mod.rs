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
    quiet_on_closed_stdout();
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
        Command::Schema => print_data(crate::config::schema::schema_json().as_bytes()),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "mlops", &mut out);
            print_data(&out)
        }
    }
}

/// Rust ignores SIGPIPE, so `print!` to a reader that went away panics (exit 101). Output
/// goes through [`print_data`], which handles that; for any `print!` left, a closed pipe
/// ends the command quietly with 0, as the default SIGPIPE action ends a C program (but
/// without its 141).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Writes data to stdout. A reader that went away (`mlops completions bash | head -1`) is
/// not an error: the output was not wanted any more. Any other write error is exit 2.
pub fn print_data(data: &[u8]) -> Exit {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        Ok(()) => Exit::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(e) => {
            report::error(&format!("cannot write to stdout: {e}"), None);
            Exit::Error
        }
    }
}
