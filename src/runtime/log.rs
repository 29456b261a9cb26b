//! Log output of the runtime: GitLab collapsible sections in CI, plain headers elsewhere.
//! Everything goes to stderr; stdout is kept for data.
//!
//! Every line is printed through [`escape`]: text from data files, servers and scripts may
//! hold control characters (ANSI escapes in a CSV header), which the log shows as `\x1b`
//! instead of obeying them. Printing never panics: a closed stderr is ignored, and table
//! widths are padded by hand (`format!`'s width argument is limited to 65,535).

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

fn in_gitlab() -> bool {
    std::env::var("GITLAB_CI").is_ok_and(|v| v == "true")
        || std::env::var("CI_JOB_ID").is_ok_and(|v| !v.is_empty())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A collapsible log section; it closes when dropped.
pub struct Section {
    name: String,
    gitlab: bool,
}

impl Section {
    /// Opens a section. `name` is an identifier (`[a-z0-9_]`), `header` the visible title.
    pub fn start(name: &str, header: &str, collapsed: bool) -> Self {
        let gitlab = in_gitlab();
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if gitlab {
            let opt = if collapsed { "[collapsed=true]" } else { "" };
            line(&format!(
                "\x1b[0Ksection_start:{}:{name}{opt}\r\x1b[0K{}",
                now(),
                escape(header, false)
            ));
        } else {
            line(&format!("── {}", escape(header, false)));
        }
        Self { name, gitlab }
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        if self.gitlab {
            line(&format!(
                "\x1b[0Ksection_end:{}:{}\r\x1b[0K",
                now(),
                self.name
            ));
        }
    }
}

/// Writes one line to stderr, every known secret masked; a closed stderr is ignored.
fn line(text: &str) {
    let text = crate::redact::mask(text);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// `text` with every control character written as an escape (`\x1b`, `\u{9b}`), so the
/// terminal shows it instead of obeying it. Tabs stay, and newlines too when `newlines`.
pub fn escape(text: &str, newlines: bool) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push(c),
            '\n' if newlines => out.push(c),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One line from a child process, after `prefix`, control characters escaped.
pub fn child_line(prefix: &str, text: &str) {
    line(&format!("{prefix}{}", escape(text, false)));
}

/// One informational line (several when `msg` holds newlines).
pub fn info(msg: &str) {
    line(&escape(msg, true));
}

/// A warning line.
pub fn warn(msg: &str) {
    line(&format!("warning: {}", escape(msg, true)));
}

/// `text` padded with spaces to `width` characters.
fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    let mut out = String::with_capacity(text.len() + width.saturating_sub(n));
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    out
}

/// Formats rows as an aligned plain-text table (first row is the header).
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape(c, false)).collect())
        .collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (ri, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if ri == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_take_any_width_and_escape_control_characters() {
        let wide = "x".repeat(70_000);
        let t = table(&[
            vec!["a".into(), "b".into()],
            vec![wide.clone(), "\x1b[31mred".into()],
        ]);
        assert!(t.contains(&wide) && t.contains("\\x1b[31mred") && !t.contains('\x1b'));
        assert_eq!(escape("a\tb\u{9b}c\nd", true), "a\tb\\u{9b}c\nd");
        assert_eq!(escape("a\rb\nc", false), "a\\x0db\\x0ac");
    }
}
