//! The compiler: [`lower`] (resolved project → the GitLab IR of [`crate::gitlab::ir`]),
//! [`emit`] (IR → text), then GitLab's checks ([`crate::gitlab`]) on the result. [`compile`]
//! runs them in order and never writes anything. [`verify`] checks the final text as GitLab
//! will read it, limits included, before the CLI writes it. [`child`] and [`children`] make
//! the parent pipeline and split the models into child pipelines that fit GitLab's limits
//! ([`shard`]). [`graph`] draws the result's job DAG.
//!
//! Contract: the output is a pure function of the resolved project and the options, so the
//! same input gives byte-identical output, and it has passed GitLab's schema and semantic
//! checks before it is returned. A violation here is a compiler bug and is reported as an
//! [`InternalError`].

pub mod child;
pub mod children;
pub mod emit;
pub mod fingerprint;
pub mod graph;
pub mod lower;
pub mod shard;
pub mod verify;

use crate::config::Project;
use crate::gitlab::{self, Severity, ir};
pub use lower::{LowerOptions, job_name};

/// The compiler produced a pipeline GitLab would refuse. This is a bug in `mlops`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("internal error: the generated pipeline is invalid:\n{}", .findings.join("\n"))]
#[diagnostic(
    code(mlops::internal),
    help("this is a bug in mlops; please report it with your mlops.toml")
)]
pub struct InternalError {
    /// What failed.
    pub findings: Vec<String>,
}

/// A compiled pipeline.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The IR, with the fingerprint filled in.
    pub pipeline: ir::Pipeline,
    /// The full file text, banner included.
    pub text: String,
    /// The structural fingerprint.
    pub fingerprint: String,
}

/// Options for one compilation.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Options for lowering.
    pub lower: LowerOptions,
}

/// Lowers, fingerprints, checks and emits.
pub fn compile(project: &Project, opts: &CompileOptions) -> Result<Compiled, InternalError> {
    let compiled = generate(project, opts)?;
    check_gitlab_schema(&compiled.pipeline)?;
    Ok(compiled)
}

/// [`compile`] without the GitLab-schema pass, for callers that only compare the result with
/// a file this same version already wrote (and so checked): `--check` of an unchanged file,
/// and the runtime's fingerprint. The semantic rules still run.
pub fn generate(project: &Project, opts: &CompileOptions) -> Result<Compiled, InternalError> {
    let mut pipeline = lower::lower(project, &opts.lower);
    finish(&mut pipeline, &opts.lower.config_path, "mlops compile")
}

/// Fills the fingerprint of a lowered pipeline, checks it against GitLab's semantic rules
/// and emits it with the banner naming `command`. The GitLab-schema pass is separate
/// ([`check_gitlab_schema`]), as in [`generate`].
pub fn finish(
    pipeline: &mut ir::Pipeline,
    config_path: &str,
    command: &str,
) -> Result<Compiled, InternalError> {
    let internal = |e: emit::EmitError| InternalError {
        findings: vec![e.to_string()],
    };
    let blank = emit::body(pipeline).map_err(internal)?;
    let fp = fingerprint::fingerprint(&blank);
    if let Some(v) = pipeline.variables.get_mut(lower::FINGERPRINT_VAR) {
        v.clone_from(&fp);
    }
    check_semantics(pipeline)?;
    // Emitting 500 models takes milliseconds: swap the one line that changed instead of
    // serializing twice. Both lines come from the serializer; if the blank line is not found
    // exactly once, emit again.
    let old = emit::variable_line(lower::FINGERPRINT_VAR, "").map_err(internal)?;
    let new = emit::variable_line(lower::FINGERPRINT_VAR, &fp).map_err(internal)?;
    let body = if fp.is_empty() || blank.matches(&old).count() != 1 {
        emit::body(pipeline).map_err(internal)?
    } else {
        blank.replacen(&old, &new, 1)
    };
    let text = format!("{}\n{body}", emit::banner(config_path, command));
    Ok(Compiled {
        pipeline: pipeline.clone(),
        text,
        fingerprint: fp,
    })
}

/// The generated pipeline against the vendored GitLab CI schema.
pub fn check_gitlab_schema(pipeline: &ir::Pipeline) -> Result<(), InternalError> {
    let json = to_json(pipeline)?;
    let findings: Vec<String> = gitlab::check_schema(&json)
        .into_iter()
        .map(|v| format!("{}: {}", v.pointer, v.message))
        .collect();
    if findings.is_empty() {
        Ok(())
    } else {
        Err(InternalError { findings })
    }
}

/// The generated pipeline against GitLab's semantic rules; warnings are not failures.
fn check_semantics(pipeline: &ir::Pipeline) -> Result<(), InternalError> {
    let json = to_json(pipeline)?;
    let mut findings: Vec<String> = gitlab::check_semantics(&json)
        .into_iter()
        .filter(|v| v.severity == Severity::Error)
        .map(|v| format!("{}: {}", v.pointer, v.message))
        .collect();
    findings.dedup();
    if findings.is_empty() {
        Ok(())
    } else {
        Err(InternalError { findings })
    }
}

fn to_json(pipeline: &ir::Pipeline) -> Result<serde_json::Value, InternalError> {
    serde_json::to_value(pipeline).map_err(|e| InternalError {
        findings: vec![e.to_string()],
    })
}

/// A unified diff from `old` to `new`, with CRLF normalised, labelled with `path`.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let old = old.replace("\r\n", "\n");
    similar::TextDiff::from_lines(old.as_str(), new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{path} (on disk)"), &format!("{path} (generated)"))
        .to_string()
}
