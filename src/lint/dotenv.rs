//! Dotenv variables in `rules:`. GitLab evaluates `rules` when it creates the pipeline, before
//! any job has run, so a variable that a job writes into an `artifacts:reports:dotenv` file is
//! never set there: `if: $EVAL_PASSED == "true"` never matches (`docs/pipeline.md`, and
//! gitlab-org/gitlab#235812).
//!
//! Two rules: an error when a `rules:if` names a variable some job writes into its dotenv
//! report, and a warning when, in a pipeline that has dotenv reports, it names a variable
//! that is defined nowhere in the file and is not predefined (probably a dotenv variable
//! written in a way lint cannot follow, or a project variable).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::gitlab::jobs;
use crate::gitlab::violation::{Code, Violation, pointer_segment};

/// Predefined variable prefixes and names (`doc/ci/variables/predefined_variables.md` in
/// `gitlab-org/gitlab`).
const PREDEFINED_PREFIXES: [&str; 4] = ["CI_", "GITLAB_", "RUNNER_", "TRIGGER_"];
const PREDEFINED: [&str; 3] = ["CI", "CHAT_CHANNEL", "CHAT_INPUT"];

/// Script lines of a job (`before_script`, `script`, `after_script`), nested lists flattened.
fn script_lines(job: &Value) -> Vec<&str> {
    fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) => out.extend(s.lines()),
            Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for key in ["before_script", "script", "after_script"] {
        if let Some(v) = job.get(key) {
            flatten(v, &mut out);
        }
    }
    out
}

/// The files a job declares as `artifacts:reports:dotenv`.
fn dotenv_files(job: &Value) -> Vec<String> {
    match job.pointer("/artifacts/reports/dotenv") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

fn normalise(path: &str) -> &str {
    let p = path.trim().trim_matches(['"', '\'']);
    let p = p
        .strip_prefix("$CI_PROJECT_DIR/")
        .or_else(|| p.strip_prefix("${CI_PROJECT_DIR}/"))
        .unwrap_or(p);
    p.strip_prefix("./").unwrap_or(p)
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The variable a shell line writes into one of `files`: `echo "NAME=value" >> file`,
/// `printf 'NAME=%s\n' x > file`, `echo NAME=$x | tee -a file`.
fn written_variable(line: &str, files: &[String]) -> Option<String> {
    let (before, target) = if let Some(i) = line.find(">>") {
        (&line[..i], &line[i + 2..])
    } else if let Some(i) = line.find("tee -a ").or_else(|| line.find("tee ")) {
        let skip = if line[i..].starts_with("tee -a ") {
            7
        } else {
            4
        };
        (&line[..i], &line[i + skip..])
    } else if let Some(i) = line.find('>') {
        (&line[..i], &line[i + 1..])
    } else {
        return None;
    };
    let target = normalise(target.split_whitespace().next()?);
    if !files.iter().any(|f| normalise(f) == target) {
        return None;
    }
    // The first `NAME=` inside the echoed text.
    let text = before.trim_start();
    let text = text
        .strip_prefix("echo")
        .or_else(|| text.strip_prefix("printf"))
        .unwrap_or(text);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_ident_start(chars[i]) && (i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != '$') {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            if chars.get(i) == Some(&'=') {
                return Some(chars[start..i].iter().collect());
            }
        } else {
            i += 1;
        }
    }
    None
}

/// `$NAME` and `${NAME}` in a `rules:if` expression.
pub fn variables_in(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            let braced = chars.get(i + 1) == Some(&'{');
            let mut j = i + 1 + usize::from(braced);
            let start = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            if j > start {
                let name: String = chars[start..j].iter().collect();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

fn predefined(name: &str) -> bool {
    PREDEFINED.contains(&name) || PREDEFINED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Variables defined in the file: global, `default`, per-job and `workflow:rules` variables.
fn defined_variables(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |v: Option<&Value>| {
        if let Some(Value::Object(m)) = v {
            out.extend(m.keys().cloned());
        }
    };
    add(doc.get("variables"));
    if let Some(Value::Object(m)) = doc.as_object().map(|m| Value::Object(m.clone())) {
        for (_, job) in m {
            add(job.get("variables"));
            if let Some(Value::Array(rules)) = job.get("rules") {
                for r in rules {
                    add(r.get("variables"));
                }
            }
        }
    }
    if let Some(Value::Array(rules)) = doc.pointer("/workflow/rules") {
        for r in rules {
            add(r.get("variables"));
        }
    }
    out
}

/// The dotenv violations of a document.
pub fn check(doc: &Value) -> Vec<Violation> {
    let all_jobs = jobs(doc);
    // Hidden jobs (`.template`) can carry the dotenv report through `extends`.
    let mut producers: BTreeMap<String, String> = BTreeMap::new();
    let mut any_dotenv = false;
    if let Some(m) = doc.as_object() {
        for (name, job) in m {
            let files = dotenv_files(job);
            if files.is_empty() {
                continue;
            }
            any_dotenv = true;
            for line in script_lines(job) {
                if let Some(var) = written_variable(line, &files) {
                    producers.entry(var).or_insert_with(|| name.clone());
                }
            }
        }
    }
    if !any_dotenv {
        return vec![];
    }
    let defined = defined_variables(doc);
    let mut out = Vec::new();
    for (name, job) in all_jobs {
        let Some(Value::Array(rules)) = job.get("rules") else {
            continue;
        };
        for (i, rule) in rules.iter().enumerate() {
            let Some(expr) = rule.get("if").and_then(Value::as_str) else {
                continue;
            };
            let at = format!("/{}/rules/{i}/if", pointer_segment(name));
            for var in variables_in(expr) {
                if let Some(producer) = producers.get(&var) {
                    out.push(Violation::error(
                        Code::DotenvInRules,
                        at.clone(),
                        format!(
                            "job `{name}` tests `${var}` in `rules:if`, but `${var}` comes from the dotenv report of `{producer}`: rules are evaluated when the pipeline is created, before any job runs, so this rule never sees it"
                        ),
                    ).with_help(format!(
                        "make `{producer}` (or a gate job) exit non-zero when the condition fails, and give `{name}` `needs: [{producer}]` instead of the rule"
                    )));
                } else if !defined.contains(&var) && !predefined(&var) {
                    out.push(Violation::warning(
                        Code::UndefinedInRules,
                        at.clone(),
                        format!(
                            "job `{name}` tests `${var}` in `rules:if`; it is not defined in this file nor predefined, and this pipeline passes values through dotenv reports, which `rules` never see"
                        ),
                    ).with_help(format!(
                        "if `${var}` is a project or pipeline variable, ignore this; if a job writes it, gate with an exit code and `needs` instead"
                    )));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::Severity;
    use serde_json::json;

    #[test]
    fn finds_written_variables() {
        let files = vec!["eval.env".to_owned()];
        assert_eq!(
            written_variable(r#"echo "EVAL_PASSED=true" >> eval.env"#, &files).as_deref(),
            Some("EVAL_PASSED")
        );
        assert_eq!(
            written_variable(
                "echo MLFLOW_RUN_ID=$RUN >> $CI_PROJECT_DIR/eval.env",
                &files
            )
            .as_deref(),
            Some("MLFLOW_RUN_ID")
        );
        assert_eq!(
            written_variable("printf 'A=%s\\n' 1 > ./eval.env", &files).as_deref(),
            Some("A")
        );
        assert_eq!(written_variable("echo X=1 >> other.env", &files), None);
        assert_eq!(written_variable("python eval.py", &files), None);
    }

    #[test]
    fn rule_on_dotenv_variable_is_an_error() {
        let doc = json!({
            "evaluate": {"script": ["echo \"EVAL_PASSED=true\" >> eval.env"],
                         "artifacts": {"reports": {"dotenv": "eval.env"}}},
            "register": {"script": ["x"], "rules": [{"if": "$EVAL_PASSED == \"true\" && $CI_COMMIT_BRANCH"},
                                                   {"if": "$MYSTERY"}]},
        });
        let f = check(&doc);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].pointer, "/register/rules/0/if");
        assert_eq!(f[1].severity, Severity::Warning);
        assert!(f[1].message.contains("$MYSTERY"));
    }

    #[test]
    fn no_dotenv_no_findings() {
        let doc = json!({"j": {"script": ["x"], "rules": [{"if": "$ANYTHING"}]}});
        assert!(check(&doc).is_empty());
    }

    #[test]
    fn variable_extraction() {
        assert_eq!(
            variables_in("$A == \"x\" || ${B_2} =~ /y/"),
            vec!["A", "B_2"]
        );
    }
}
