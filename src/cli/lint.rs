//! `mlops lint [FILE...]`: GitLab CI schema, semantic and lint-only checks of any CI file,
//! offline. Findings go to stdout as `severity: file:line:column: message` with a `hint:`
//! line; exit 0 when clean or warnings only, 1 with errors, 2 when a file cannot be read or
//! is not YAML.

use std::path::PathBuf;

use std::fmt::Write as _;

use clap::Args;

use super::report;
use crate::config::display_path;
use crate::exit::Exit;
use crate::gitlab::Severity;
use crate::lint;

/// Arguments of `mlops lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// The CI files to check.
    #[arg(default_value = ".gitlab-ci.yml")]
    pub files: Vec<PathBuf>,
}

/// Runs `mlops lint`.
pub fn run(args: &LintArgs) -> Exit {
    let mut worst = Exit::Success;
    for path in &args.files {
        let name = display_path(path);
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                report::error(
                    &format!(
                        "`{name}` is not UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                    Some("GitLab reads CI files as UTF-8"),
                );
                worst = Exit::Error;
                continue;
            }
            Err(e) => {
                report::error(&format!("cannot read `{name}`: {e}"), None);
                worst = Exit::Error;
                continue;
            }
        };
        let findings = match lint::lint(&text) {
            Ok(d) => d,
            Err(e) => {
                report::error(
                    &format!("{name}:{}:{}: invalid YAML: {}", e.line, e.col, e.message),
                    Some("GitLab would refuse this file before checking anything else"),
                );
                worst = Exit::Error;
                continue;
            }
        };
        let mut out = String::new();
        for f in &findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(out, "{sev}: {name}:{}:{}: {}", f.line, f.col, f.message);
            if let Some(h) = &f.help {
                let _ = writeln!(out, "hint: {h}");
            }
        }
        let (errors, warnings) = lint::counts(&findings);
        let _ = match (errors, warnings) {
            (0, 0) => writeln!(out, "{name}: no problems found"),
            (e, w) => writeln!(
                out,
                "{name}: {e} error{}, {w} warning{}",
                plural(e),
                plural(w)
            ),
        };
        print!("{out}");
        if errors > 0 && worst == Exit::Success {
            worst = Exit::Failure;
        }
    }
    worst
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
