//! YAML 1.1 traps in `variables:`. GitLab reads YAML 1.1 (Psych), then turns every variable
//! value into a string. An unquoted `on` arrives as `true`, `0755` as `493`, `3.10` as `3.1`:
//! the job sees something other than what the file says. Only values whose string form
//! differs from the text as written are reported (`PORT: 8080` is fine).

use crate::gitlab::violation::{Code, Violation, pointer_segment};
use crate::yaml::{Node, Value};

/// The value as Ruby's `to_s` writes it, which is what the job receives.
fn ruby_string(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "NaN".to_owned(),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
        }
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
        Value::Float(f) => f.to_string(),
        Value::Str(_) | Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// The scalar as written at `line:col` (to the end of the line, comment and flow
/// punctuation removed).
fn written(text: &str, line: usize, col: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let rest: String = l.chars().skip(col.checked_sub(1)?).collect();
    let rest = rest.split(" #").next().unwrap_or_default();
    let rest = rest.split([',', '}', ']']).next().unwrap_or_default();
    Some(rest.trim().to_owned())
}

fn check_map(map: &Node, at: &str, text: &str, out: &mut Vec<Violation>) {
    let Value::Map(pairs) = &map.value else {
        return;
    };
    for (k, v) in pairs {
        let name = k.key_string();
        // `NAME: {value: ..., description: ...}`
        let (node, pointer) = match v.get("value") {
            Some(inner) => (inner, format!("{at}/{}/value", pointer_segment(&name))),
            None => (v, format!("{at}/{}", pointer_segment(&name))),
        };
        let Some(seen) = ruby_string(&node.value) else {
            continue;
        };
        let as_written = if matches!(node.value, Value::Null) {
            String::new()
        } else {
            written(text, node.line, node.col).unwrap_or_default()
        };
        if seen == as_written {
            continue;
        }
        let what = match node.value {
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            _ => "null",
        };
        let shown = if as_written.is_empty() {
            "nothing"
        } else {
            as_written.as_str()
        };
        out.push(
            Violation::warning(
                Code::Yaml11Trap,
                pointer,
                format!(
                    "variable `{name}` is written `{shown}`, which YAML 1.1 reads as {what}: jobs get `{seen}`"
                ),
            )
            .with_help(format!("quote it: `{name}: \"{as_written}\"`")),
        );
    }
}

/// The trap violations of a document (global, `default:` and per-job `variables`).
pub fn check(root: &Node, text: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let Value::Map(pairs) = &root.value else {
        return out;
    };
    for (k, v) in pairs {
        let key = k.key_string();
        if key == "variables" {
            check_map(v, "/variables", text, &mut out);
        } else if let Some(vars) = v.get("variables") {
            check_map(
                vars,
                &format!("/{}/variables", pointer_segment(&key)),
                text,
                &mut out,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<Violation> {
        check(&crate::yaml::parse(text).expect("parses"), text)
    }

    #[test]
    fn flags_values_that_change() {
        let f = findings(
            "variables:\n  A: on\n  B: 0755\n  C: 3.10  # python\n  D: 8080\n  E: 'on'\n  F: true\n  G: 1.5\njob:\n  variables: {H: yes, I: \"yes\"}\n  script: [x]\n",
        );
        let ptrs: Vec<&str> = f.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(
            ptrs,
            vec![
                "/variables/A",
                "/variables/B",
                "/variables/C",
                "/job/variables/H"
            ]
        );
        assert!(f[2].message.contains("`3.1`"), "{}", f[2].message);
    }

    #[test]
    fn expanded_form() {
        let f = findings("variables:\n  A:\n    value: off\n    description: x\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].pointer, "/variables/A/value");
    }
}
