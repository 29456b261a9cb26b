//! `JUnit` XML, as GitLab's `artifacts:reports:junit` parser reads it: one `<testsuite>` per
//! stage, one `<testcase>` per check, with `<failure>`, `<error>` or `<skipped>`.

use std::fmt::Write as _;

/// The outcome of one test case.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Passed.
    Pass,
    /// A check failed (a verdict, not a crash).
    Failure(String),
    /// The check could not be evaluated.
    Error(String),
    /// Not run.
    Skipped(String),
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `classname`, for grouping in GitLab's test report (for example `validate.nulls`).
    pub classname: String,
    /// `name`.
    pub name: String,
    /// Seconds spent, if measured.
    pub time: Option<f64>,
    /// Result.
    pub outcome: Outcome,
    /// Extra detail for `<system-out>`.
    pub output: Option<String>,
}

impl Case {
    /// A case with no timing or output.
    pub fn new(classname: impl Into<String>, name: impl Into<String>, outcome: Outcome) -> Self {
        Self {
            classname: classname.into(),
            name: name.into(),
            time: None,
            outcome,
            output: None,
        }
    }
}

/// Escapes text for XML content and attributes, dropping characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Renders a suite named `suite` holding `cases`.
pub fn render(suite: &str, cases: &[Case]) -> String {
    let count = |f: fn(&Outcome) -> bool| cases.iter().filter(|c| f(&c.outcome)).count();
    let failures = count(|o| matches!(o, Outcome::Failure(_)));
    let errors = count(|o| matches!(o, Outcome::Error(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let total: f64 = cases
        .iter()
        .filter_map(|c| c.time)
        .filter(|t| *t > 0.0)
        .sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"mlops\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        cases.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3}\">",
        escape(suite),
        cases.len()
    );
    for c in cases {
        // A measured span can round to `-0.000`; JUnit readers expect `>= 0`.
        let time = c
            .time
            .map(|t| format!(" time=\"{:.3}\"", t.max(0.0).abs()))
            .unwrap_or_default();
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"{}\"{time}",
            escape(&c.classname),
            escape(&c.name)
        );
        let body = match &c.outcome {
            Outcome::Pass => None,
            Outcome::Failure(m) => Some(format!(
                "<failure message=\"{}\">{}</failure>",
                escape(first_line(m)),
                escape(m)
            )),
            Outcome::Error(m) => Some(format!(
                "<error message=\"{}\">{}</error>",
                escape(first_line(m)),
                escape(m)
            )),
            Outcome::Skipped(m) => Some(format!("<skipped message=\"{}\"/>", escape(m))),
        };
        let out = c
            .output
            .as_ref()
            .map(|o| format!("<system-out>{}</system-out>", escape(o)));
        if body.is_none() && out.is_none() {
            x.push_str("/>\n");
        } else {
            x.push_str(">\n");
            for part in [body, out].into_iter().flatten() {
                let _ = writeln!(x, "      {part}");
            }
            x.push_str("    </testcase>\n");
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_counts() {
        let xml = render(
            "validate",
            &[
                Case::new("validate.nulls", "a<b", Outcome::Pass),
                Case::new(
                    "validate.nulls",
                    "c",
                    Outcome::Failure("ratio 0.2 > 0.05\nmore".into()),
                ),
                Case::new(
                    "validate.drift",
                    "d",
                    Outcome::Skipped("no reference".into()),
                ),
            ],
        );
        assert!(xml.contains("name=\"a&lt;b\""));
        assert!(xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
        assert!(xml.contains("<failure message=\"ratio 0.2 &gt; 0.05\">"));
    }
}
