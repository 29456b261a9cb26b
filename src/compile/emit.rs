//! `compile::emit`: the [`Pipeline`] → YAML text. This is the one place that decides YAML
//! style: block collections, no folding, and YAML 1.1 quoting of ambiguous scalars
//! (`on`, `yes`, `0755`, `3.10`, ...), because GitLab reads YAML 1.1.

use serde::Serialize;

use super::ir::Pipeline;

/// YAML serialization failed: the IR holds something the serializer cannot write.
#[derive(Debug, thiserror::Error)]
#[error("cannot serialize the pipeline: {0}")]
pub struct EmitError(String);

fn options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        indent_step: 2,
        prefer_block_scalars: false,
        yaml_12: false,
    }
}

/// Serializes one value with the project's YAML style.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, EmitError> {
    serde_saphyr::to_string_with_options(value, options()).map_err(|e| EmitError(e.to_string()))
}

/// The body of the file (everything after the banner): top-level sections separated by a
/// blank line so that each job reads as a block.
pub fn body(pipeline: &Pipeline) -> Result<String, EmitError> {
    #[derive(Serialize)]
    struct Head<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        workflow: Option<&'a super::ir::Workflow>,
        #[serde(skip_serializing_if = "Option::is_none")]
        default: Option<&'a super::ir::Defaults>,
        stages: &'a [String],
        #[serde(skip_serializing_if = "indexmap::IndexMap::is_empty")]
        variables: &'a indexmap::IndexMap<String, String>,
    }
    let mut sections: Vec<String> = Vec::new();
    sections.push(to_yaml(&Head {
        workflow: pipeline.workflow.as_ref(),
        default: pipeline.default.as_ref(),
        stages: &pipeline.stages,
        variables: &pipeline.variables,
    })?);
    for (name, job) in &pipeline.jobs {
        let mut one = indexmap::IndexMap::new();
        one.insert(name, job);
        sections.push(to_yaml(&one)?);
    }
    Ok(sections
        .iter()
        .map(|s| s.trim_end_matches('\n'))
        .collect::<Vec<_>>()
        .join("\n\n")
        + "\n")
}

/// One entry of the top-level `variables:` block, as it appears in [`body`]: the line with
/// its indentation and newline.
pub fn variable_line(name: &str, value: &str) -> Result<String, EmitError> {
    let mut one = indexmap::IndexMap::new();
    one.insert(name, value);
    let mut outer = indexmap::IndexMap::new();
    outer.insert("variables", one);
    let text = to_yaml(&outer)?;
    Ok(text
        .split_once('\n')
        .map_or_else(String::new, |(_, rest)| rest.to_owned()))
}

/// The banner that opens every generated file.
pub fn banner(config_path: &str, command: &str) -> String {
    crate::templates::render(
        "banner.txt",
        minijinja::context! { version => crate::VERSION, config => config_path, command => command },
    )
    .expect("the banner template renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_line_matches_the_block_in_body() {
        let mut p = Pipeline::default();
        p.stages.push("a".into());
        p.variables.insert("X".into(), String::new());
        p.variables.insert("Y".into(), "on".into());
        let text = body(&p).expect("emits");
        let line = variable_line("X", "").expect("emits");
        assert_eq!(line, "  X: \"\"\n");
        assert_eq!(text.matches(&line).count(), 1, "{text}");
        // `Y` is a YAML 1.1 boolean too, so even the key is quoted.
        assert_eq!(
            variable_line("Y", "on").expect("emits"),
            "  \"Y\": \"on\"\n"
        );
    }
}
