//! `mlops compile`.

use std::path::{Path, PathBuf};

use clap::Args;

use super::report;
use crate::compile::{CompileOptions, LowerOptions, compile, unified_diff};
use crate::config::{Source, load_project};
use crate::exit::Exit;

/// Arguments of `mlops compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The config file.
    #[arg(short, long, default_value = "mlops.toml", env = "MLOPS_CONFIG")]
    pub config: PathBuf,
    /// The pipeline file to write.
    #[arg(short, long, default_value = ".gitlab-ci.yml")]
    pub output: PathBuf,
    /// Write nothing; print a diff and exit 1 when the file differs or is missing.
    #[arg(long, conflicts_with = "stdout")]
    pub check: bool,
    /// Print the pipeline to stdout instead of writing it.
    #[arg(long)]
    pub stdout: bool,
    /// Exit 1 when the file was written or created (for pre-commit hooks).
    #[arg(long, conflicts_with_all = ["check", "stdout"])]
    pub fail_on_change: bool,
}

/// Reads a config file, or reports why it cannot.
pub fn read_source(path: &Path) -> Result<Source, Exit> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(display(path), text)),
            Err(e) => {
                report::error(
                    &format!(
                        "`{}` is not UTF-8 (invalid byte at offset {})",
                        path.display(),
                        e.utf8_error().valid_up_to()
                    ),
                    Some("save the file as UTF-8"),
                );
                Err(Exit::Error)
            }
        },
        Err(e) => {
            let hint = (e.kind() == std::io::ErrorKind::NotFound)
                .then_some("run `mlops init` to create one, or pass `-c PATH`");
            report::error(&format!("cannot read `{}`: {e}", path.display()), hint);
            Err(Exit::Error)
        }
    }
}

/// A path as written in generated files: forward slashes, no leading `./`.
pub fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

/// Runs `mlops compile`.
pub fn run(args: &CompileArgs) -> Exit {
    let source = match read_source(&args.config) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let project = match load_project(&source) {
        Ok(p) => p,
        Err(e) => {
            report::print_config_error(&e);
            return Exit::Error;
        }
    };
    let opts = CompileOptions {
        lower: LowerOptions {
            config_path: display(&args.config),
        },
    };
    let compiled = match compile(&project, &opts) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{}", report::render(&e));
            return Exit::Error;
        }
    };
    let out = display(&args.output);
    if args.stdout {
        print!("{}", compiled.text);
        return Exit::Success;
    }
    let on_disk = match std::fs::read_to_string(&args.output) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            report::error(&format!("cannot read `{out}`: {e}"), None);
            return Exit::Error;
        }
    };
    let same = on_disk
        .as_deref()
        .is_some_and(|d| d.replace("\r\n", "\n") == compiled.text);
    if args.check {
        if same {
            eprintln!("`{out}` is up to date with `{}`", source.name);
            return Exit::Success;
        }
        print!(
            "{}",
            unified_diff(&out, on_disk.as_deref().unwrap_or(""), &compiled.text)
        );
        let what = if on_disk.is_none() { "is missing" } else { "is out of date" };
        report::error(
            &format!("`{out}` {what}"),
            Some(&format!("run `{}` to update it", fix_command(args))),
        );
        return Exit::Failure;
    }
    if same {
        eprintln!("`{out}` is up to date");
        return Exit::Success;
    }
    if let Err(e) = write_atomic(&args.output, &compiled.text) {
        report::error(&format!("cannot write `{out}`: {e}"), None);
        return Exit::Error;
    }
    let verb = if on_disk.is_none() { "created" } else { "updated" };
    eprintln!("{verb} `{out}` ({} jobs)", compiled.pipeline.jobs.len());
    if args.fail_on_change {
        eprintln!("the pipeline changed: review and stage `{out}`");
        Exit::Failure
    } else {
        Exit::Success
    }
}

fn fix_command(args: &CompileArgs) -> String {
    let mut cmd = "mlops compile".to_owned();
    if args.config != Path::new("mlops.toml") {
        cmd.push_str(&format!(" -c {}", crate::compile::lower::quote(&display(&args.config))));
    }
    if args.output != Path::new(".gitlab-ci.yml") {
        cmd.push_str(&format!(" -o {}", crate::compile::lower::quote(&display(&args.output))));
    }
    cmd
}

/// Writes through a temporary file in the same directory, so a crash never leaves half a file.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.mlops-tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
