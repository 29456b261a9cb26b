//! What the checks report: a [`Violation`] of one rule ([`Code`]), located by JSON pointer in
//! the CI document, with a [`Severity`].

/// How bad a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// GitLab would reject the pipeline, or it cannot work.
    Error,
    /// It runs, but not as the author expects.
    Warning,
}

/// The rule a violation breaks, as ruff's rule codes: callers select and relabel violations
/// by code, never by their message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The vendored GitLab CI schema refuses the document.
    Schema,
    /// The document is not a mapping of keywords and jobs.
    NotAMapping,
    /// No job would run.
    NoJobs,
    /// A stage name is longer than GitLab allows.
    StageNameTooLong,
    /// A job name is longer than GitLab allows.
    JobNameTooLong,
    /// A job uses a stage that `stages:` does not list.
    UnknownStage,
    /// A job has neither `script`, `run` nor `trigger`.
    NoScript,
    /// A job has more `needs` than GitLab allows.
    TooManyNeeds,
    /// A job needs a job that is not in the pipeline.
    UnknownNeed,
    /// The `needs` form a cycle.
    NeedsCycle,
    /// `rules:if` tests a variable that a job writes into its dotenv report.
    DotenvInRules,
    /// `rules:if` tests a variable defined nowhere, in a pipeline that passes dotenv values.
    UndefinedInRules,
    /// A `variables:` value that YAML 1.1 reads as something other than what is written.
    Yaml11Trap,
    /// The parsed file is larger than GitLab accepts.
    ParsedSizeTooBig,
    /// The parsed file is larger than older GitLab releases accept.
    ParsedSizeOverOldLimit,
    /// The file nests deeper than GitLab accepts.
    TooDeep,
    /// More deployment jobs than one pipeline may have.
    TooManyDeployments,
    /// A `rules:changes` lists more paths than GitLab allows.
    TooManyChanges,
    /// An `artifacts:expose_as` name GitLab refuses.
    ExposeAsName,
    /// `artifacts:expose_as` without `paths`, or with a glob in them.
    ExposeAsPaths,
    /// An exposed path GitLab accepts but never shows (a variable, `./`).
    ExposeAsHidden,
    /// More jobs use `expose_as` than a merge request shows.
    TooManyExposed,
}

impl Code {
    /// The code's name, as it appears in serialized output.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Schema => "schema",
            Code::NotAMapping => "not-a-mapping",
            Code::NoJobs => "no-jobs",
            Code::StageNameTooLong => "stage-name-too-long",
            Code::JobNameTooLong => "job-name-too-long",
            Code::UnknownStage => "unknown-stage",
            Code::NoScript => "no-script",
            Code::TooManyNeeds => "too-many-needs",
            Code::UnknownNeed => "unknown-need",
            Code::NeedsCycle => "needs-cycle",
            Code::DotenvInRules => "dotenv-in-rules",
            Code::UndefinedInRules => "undefined-in-rules",
            Code::Yaml11Trap => "yaml11-trap",
            Code::ParsedSizeTooBig => "parsed-size-too-big",
            Code::ParsedSizeOverOldLimit => "parsed-size-over-old-limit",
            Code::TooDeep => "too-deep",
            Code::TooManyDeployments => "too-many-deployments",
            Code::TooManyChanges => "too-many-changes",
            Code::ExposeAsName => "expose-as-name",
            Code::ExposeAsPaths => "expose-as-paths",
            Code::ExposeAsHidden => "expose-as-hidden",
            Code::TooManyExposed => "too-many-exposed",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a CI document, located by JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The rule broken.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// Where, as a JSON pointer into the document.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Violation {
    /// An error without help.
    pub fn error(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            pointer: pointer.into(),
            message: message.into(),
            help: None,
        }
    }

    /// A warning without help.
    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, pointer, message)
        }
    }

    /// Adds a `hint:` line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// One JSON pointer segment (RFC 6901): `~` and `/` escaped.
pub fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
