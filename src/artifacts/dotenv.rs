//! dotenv reports (`artifacts:reports:dotenv`), within GitLab's rules: `[A-Za-z0-9_]` names,
//! one line per value, no quotes, no comments, at most 5 KB.

use std::fmt::Write as _;

/// GitLab rejects dotenv files above this size.
pub const MAX_BYTES: usize = 5 * 1024;

/// A value GitLab cannot carry in a dotenv report.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DotenvError {
    /// The name has characters outside `[A-Za-z0-9_]`.
    #[error("invalid dotenv variable name `{0}`")]
    Name(String),
    /// The value has a newline or is surrounded by whitespace GitLab would strip.
    #[error("the value of `{0}` cannot be written to a dotenv report (newline or edge whitespace)")]
    Value(String),
    /// The file would exceed GitLab's limit.
    #[error("the dotenv report would be {0} bytes; GitLab accepts {MAX_BYTES}")]
    TooLarge(usize),
}

/// Renders `NAME=value` lines.
pub fn render(vars: &[(&str, &str)]) -> Result<String, DotenvError> {
    let mut out = String::new();
    for (name, value) in vars {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DotenvError::Name((*name).to_owned()));
        }
        if value.contains(['\n', '\r']) || value.trim() != *value {
            return Err(DotenvError::Value((*name).to_owned()));
        }
        let _ = writeln!(out, "{name}={value}");
    }
    if out.len() > MAX_BYTES {
        return Err(DotenvError::TooLarge(out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_refuses() {
        assert_eq!(
            render(&[("A", "1"), ("B_2", "x y")]).unwrap(),
            "A=1\nB_2=x y\n"
        );
        assert!(matches!(render(&[("A-B", "1")]), Err(DotenvError::Name(_))));
        assert!(matches!(
            render(&[("A", "1\n2")]),
            Err(DotenvError::Value(_))
        ));
    }
}
