//! Log output of the runtime: GitLab collapsible sections in CI, plain headers elsewhere.
//! Everything goes to stderr; stdout is kept for data.

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
            eprintln!(
                "\x1b[0Ksection_start:{}:{name}{opt}\r\x1b[0K{header}",
                now()
            );
        } else {
            eprintln!("── {header}");
        }
        Self { name, gitlab }
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        if self.gitlab {
            eprintln!("\x1b[0Ksection_end:{}:{}\r\x1b[0K", now(), self.name);
        }
    }
}

/// One informational line.
pub fn info(msg: &str) {
    eprintln!("{msg}");
}

/// A warning line.
pub fn warn(msg: &str) {
    eprintln!("warning: {msg}");
}

/// Formats rows as an aligned plain-text table (first row is the header).
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (ri, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
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
