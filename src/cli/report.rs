//! Rendering diagnostics for people: miette's graphical reports, without colour when
//! `NO_COLOR` is set or stderr is not a terminal.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::config::ConfigError;
use crate::config::diagnostic::WithSource;
use crate::runtime::context::ContextError;
use crate::runtime::error::Error as RuntimeError;

fn colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn handler() -> GraphicalReportHandler {
    let theme = if colour() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
}

/// Installs miette's hook so any `miette::Report` renders the same way.
pub fn install_hook() {
    let _ = miette::set_hook(Box::new(|_| Box::new(handler())));
}

/// Renders any diagnostic to a string.
pub fn render(diagnostic: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    let _ = handler().render_report(&mut out, diagnostic);
    out
}

/// Prints every problem of a config error, then a one-line summary, to stderr.
pub fn print_config_error(err: &ConfigError) {
    let mut out = String::new();
    for p in &err.problems {
        out.push_str(&render(&WithSource::new(p, &err.file)));
        out.push('\n');
    }
    eprintln!("{out}error: {err}");
}

/// Prints a one-line error with an optional hint, control characters escaped; a closed
/// stderr is ignored.
pub fn error(message: &str, hint: Option<&str>) {
    use std::io::Write;
    let escape = |t: &str, n| crate::redact::mask(&crate::runtime::log::escape(t, n));
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", escape(message, true));
    if let Some(h) = hint {
        let _ = writeln!(err, "hint: {}", escape(h, true));
    }
}

/// Prints a runtime error: each problem as `error:` with its `hint:`, in order. An internal
/// compiler error renders as `mlops compile` renders it.
pub fn print_runtime_error(err: &RuntimeError) {
    for problem in err.problems() {
        match problem {
            RuntimeError::Context(ContextError::Compile(e)) => eprint!("{}", render(e)),
            other => error(&other.to_string(), other.hint().as_deref()),
        }
    }
}
