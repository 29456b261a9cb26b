//! The last step before a file is written: the text itself, not the IR it came from, is read
//! back with the YAML 1.1 reader GitLab's is modelled on ([`crate::yaml`]) and checked. It
//! must read back as exactly the pipeline that was lowered (so nothing in the banner or a
//! value can add a key), pass GitLab's schema and semantic rules, and fit GitLab's limits on a
//! whole file ([`crate::gitlab::capacity`]).
//!
//! A text that reads back differently or breaks a rule is a compiler bug
//! ([`InternalError`]); a text that is too big for GitLab is the user's to fix, by splitting
//! the models into child pipelines ([`Refused::Limits`]).

use super::InternalError;
use crate::gitlab::{self, Severity, Violation, ir};

/// Why a text may not be written.
#[derive(Debug)]
pub enum Refused {
    /// The compiler produced something GitLab would refuse or read differently.
    Internal(InternalError),
    /// The pipeline breaks one of GitLab's limits on a whole file.
    Limits(Vec<Violation>),
}

impl From<InternalError> for Refused {
    fn from(e: InternalError) -> Self {
        Refused::Internal(e)
    }
}

fn internal(findings: Vec<String>) -> Refused {
    Refused::Internal(InternalError { findings })
}

/// Checks `text` as GitLab will read it; `pipeline` is what it must read back as. Returns the
/// warnings (limits of older GitLab releases) when nothing refuses it.
pub fn verify(text: &str, pipeline: &ir::Pipeline) -> Result<Vec<Violation>, Refused> {
    let root = crate::yaml::parse(text).map_err(|e| {
        internal(vec![format!(
            "the written text is not YAML at {}:{}: {}",
            e.line, e.col, e.message
        )])
    })?;
    let json = root.to_json();
    let want = serde_json::to_value(pipeline).map_err(|e| internal(vec![e.to_string()]))?;
    if json != want {
        return Err(internal(vec![format!(
            "the written text reads back differently from the pipeline it was emitted from{}",
            first_difference(&json, &want)
                .map(|k| format!(" (at top-level key `{k}`)"))
                .unwrap_or_default()
        )]));
    }
    let mut findings: Vec<String> = gitlab::check_schema(&json)
        .into_iter()
        .chain(gitlab::check_semantics(&json))
        .filter(|v| v.severity == Severity::Error)
        .map(|v| format!("{}: {}", v.pointer, v.message))
        .collect();
    findings.dedup();
    if !findings.is_empty() {
        return Err(internal(findings));
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = gitlab::capacity::check(&root, &json)
        .into_iter()
        .partition(|v| v.severity == Severity::Error);
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(Refused::Limits(errors))
    }
}

fn first_difference(got: &serde_json::Value, want: &serde_json::Value) -> Option<String> {
    let (Some(g), Some(w)) = (got.as_object(), want.as_object()) else {
        return None;
    };
    g.iter()
        .find(|(k, v)| w.get(*k) != Some(*v))
        .or_else(|| w.iter().find(|(k, _)| !g.contains_key(*k)))
        .map(|(k, _)| k.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ir::Pipeline {
        let mut p = ir::Pipeline::default();
        p.stages.push("a".into());
        p.jobs.insert(
            "j".into(),
            ir::Job {
                stage: Some("a".into()),
                script: vec!["echo hi".into()],
                ..ir::Job::default()
            },
        );
        p
    }

    #[test]
    fn the_written_text_must_read_back_as_the_pipeline() {
        let p = tiny();
        let body = super::super::emit::body(&p).expect("emits");
        assert!(verify(&body, &p).expect("valid").is_empty());
        // A config name with a newline in the banner would add a top-level key.
        let injected = format!("# from ci\nb: x.toml\n{body}");
        let Err(Refused::Internal(e)) = verify(&injected, &p) else {
            panic!("an injected key must be refused");
        };
        assert!(e.findings[0].contains("`b`"), "{e:?}");
    }
}
