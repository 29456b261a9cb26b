//! Config diagnostics: every problem found in a file, each with a labelled span and a hint.

use std::ops::Range;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use thiserror::Error;

use super::source::Source;

/// One problem in a config file.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(mlops::config))]
pub struct Problem {
    /// The one-line summary.
    pub message: String,
    /// What the caret points at.
    #[label("{label}")]
    pub span: SourceSpan,
    /// The label text under the caret.
    pub label: String,
    /// A fix, when one is known.
    #[help]
    pub help: Option<String>,
    /// 1-based line and column of the span start, for plain-text output.
    pub line_col: (usize, usize),
}

impl Problem {
    /// A problem at a byte range of `source`.
    pub fn new(
        source: &Source,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            message: message.into(),
            line_col: source.line_col(span.start),
            span: (span.start, span.end.saturating_sub(span.start)).into(),
            label: label.into(),
            help: None,
        }
    }

    /// Adds a `help:` line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one config file. Reported together, never only the first.
#[derive(Debug, Error)]
#[error("{} in `{}`", count(.problems.len()), .file.name)]
pub struct ConfigError {
    /// The file the problems are in.
    pub file: Source,
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 problem".to_owned()
    } else {
        format!("{n} problems")
    }
}

impl ConfigError {
    /// Problems sorted by position, duplicates removed.
    pub fn new(source: &Source, mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|p| (p.span.offset(), p.message.clone()));
        problems.dedup_by(|a, b| a.span == b.span && a.message == b.message);
        Self {
            file: source.clone(),
            problems,
        }
    }
}

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("mlops::config"))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        None
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// A problem rendered on its own with the file's text attached, for miette's reporter.
#[derive(Debug, Error)]
#[error("{}", .problem.message)]
pub struct WithSource<'a> {
    problem: &'a Problem,
    file: NamedSource<String>,
}

impl<'a> WithSource<'a> {
    /// Attaches a source to a problem.
    pub fn new(problem: &'a Problem, source: &Source) -> Self {
        Self {
            problem,
            file: source.named(),
        }
    }
}

impl Diagnostic for WithSource<'_> {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.file)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.problem.label.clone()), self.problem.span),
        )))
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}
