//! `metrics.txt` for `artifacts:reports:metrics`: one `name value` line per metric, then
//! `# EOF`.

use std::fmt::Write as _;

/// A metric name GitLab's metrics report shows as-is: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Renders metrics, in the given order.
pub fn render(metrics: &[(String, f64)]) -> String {
    let mut out = String::new();
    for (name, value) in metrics {
        let v = if value.is_nan() {
            "NaN".to_owned()
        } else if value.is_infinite() {
            if *value > 0.0 {
                "+Inf".to_owned()
            } else {
                "-Inf".to_owned()
            }
        } else {
            format!("{value}")
        };
        let _ = writeln!(out, "{} {v}", sanitize(name));
    }
    out.push_str("# EOF\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders() {
        let t = super::render(&[("val-loss".into(), 0.25), ("acc".into(), 1.0)]);
        assert_eq!(t, "val_loss 0.25\nacc 1\n# EOF\n");
    }
}
