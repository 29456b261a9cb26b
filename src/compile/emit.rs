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
    let value = serde_json::to_value(value).map_err(|e| EmitError(e.to_string()))?;
    serde_saphyr::to_string_with_options(&PsychSafe(&value), options())
        .map_err(|e| EmitError(e.to_string()))
}

/// A value whose strings are double-quoted wherever Ruby's Psych, which GitLab reads YAML
/// with, would not read them back as the same string. serde-saphyr's YAML 1.1 quoting covers
/// the standard cases (`on`, `0755`, `3.10`); Psych goes further, for example dropping `,` and
/// `_` from numbers (`0755,` is 493, `1,000` is 1000).
struct PsychSafe<'a>(&'a serde_json::Value);

fn psych_reads_back(s: &str) -> bool {
    matches!(crate::yaml::scalar::resolve_plain(s), crate::yaml::Value::Str(t) if t == s)
}

fn serialize_text<S: serde::Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    if psych_reads_back(s) {
        ser.serialize_str(s)
    } else {
        serde_saphyr::DoubleQuoted(s).serialize(ser)
    }
}

struct PsychKey<'a>(&'a str);

impl Serialize for PsychKey<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        serialize_text(self.0, ser)
    }
}

impl Serialize for PsychSafe<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use serde_json::Value;
        match self.0 {
            Value::String(s) => serialize_text(s, ser),
            Value::Array(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&PsychSafe(item))?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = ser.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(&PsychKey(k), &PsychSafe(v))?;
                }
                map.end()
            }
            other => other.serialize(ser),
        }
    }
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

    #[test]
    fn psych_numbers_with_separators_are_quoted() {
        // Psych drops `,` and `_` from numbers: unquoted, these would reach GitLab as ints.
        for s in ["0755,", "1,000", "1_000", "0x1_F", "1,5.0"] {
            let text = to_yaml(&vec![s]).expect("emits");
            assert_eq!(text, format!("- \"{s}\"\n"), "{s}");
            let back = crate::yaml::parse(&text).expect("parses").to_json();
            assert_eq!(back, serde_json::json!([s]));
        }
        assert_eq!(to_yaml(&vec!["plain"]).expect("emits"), "- plain\n");
    }
}
