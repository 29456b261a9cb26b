//! The report page's plots as inline SVG, built here rather than in the template so every
//! user string is escaped in one place ([`esc`]) and every number is written with a fixed
//! precision (same input, same bytes). Each plot has a `viewBox` and no fixed size, so it
//! scales with the page; reference and current differ in shape (filled against outlined),
//! never in colour alone.

use std::fmt::Write as _;

use super::model::PlotView;

/// Escapes text for SVG/HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // controls other than tab and newline are not allowed in XML text
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A number for people: up to four significant decimals, scientific outside [1e-3, 1e6).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "∞".into()
        } else {
            "-∞".into()
        };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        return format!("{x:.3e}");
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

/// A coordinate, one decimal.
fn c(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

/// A share as a percentage for people.
fn pct(n: u64, total: u64) -> String {
    if total == 0 {
        return "0 %".into();
    }
    format!("{:.1} %", n as f64 * 100.0 / total as f64)
}

/// Cuts a label to `max` characters, marking the cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

const W: f64 = 320.0;
const LEGEND: &str = "<g class=\"lg\"><rect class=\"r\" x=\"196\" y=\"3\" width=\"10\" height=\"8\"/><text x=\"209\" y=\"11\">reference</text><rect class=\"c\" x=\"262\" y=\"3\" width=\"10\" height=\"8\"/><text x=\"275\" y=\"11\">current</text></g>";

/// The plot of one column; `name` labels it for screen readers.
pub fn plot(name: &str, p: &PlotView) -> String {
    match p {
        PlotView::Histogram {
            edges,
            reference,
            current,
        } => histogram(name, edges, reference, current),
        PlotView::Bars {
            labels,
            reference,
            current,
            other,
        } => {
            let mut rows: Vec<(String, u64, u64)> = labels
                .iter()
                .zip(reference.iter().zip(current))
                .map(|(l, (&r, &k))| (l.clone(), r, k))
                .collect();
            if let Some(o) = other {
                rows.push((
                    format!("other ({} values)", o.categories),
                    o.reference,
                    o.current,
                ));
            }
            bars(name, &rows)
        }
    }
}

/// Overlaid histograms of the shares per bin: reference filled, current outlined.
fn histogram(name: &str, edges: &[f64], reference: &[u64], current: &[u64]) -> String {
    let (tr, tc) = (reference.iter().sum::<u64>(), current.iter().sum::<u64>());
    let share = |n: u64, t: u64| if t == 0 { 0.0 } else { n as f64 / t as f64 };
    let top = reference
        .iter()
        .map(|&n| share(n, tr))
        .chain(current.iter().map(|&n| share(n, tc)))
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let (x0, y0, pw, ph) = (34.0, 18.0, W - 42.0, 100.0);
    let n = reference.len().max(1) as f64;
    let bw = pw / n;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"plot\" viewBox=\"0 0 320 140\" role=\"img\" aria-label=\"{}\"><title>{}</title>{LEGEND}",
        esc(&format!(
            "{name}: histogram of reference and current shares"
        )),
        esc(&format!(
            "{name}: share of rows per bin, reference (filled) against current (outlined)"
        )),
    );
    let bar = |s: &mut String, cls: &str, i: usize, v: f64| {
        let h = v / top * ph;
        let _ = write!(
            s,
            "<rect class=\"{cls}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            c(x0 + bw * i as f64),
            c(y0 + ph - h),
            c(bw),
            c(h)
        );
    };
    for (i, &r) in reference.iter().enumerate() {
        bar(&mut s, "r", i, share(r, tr));
    }
    for (i, &k) in current.iter().enumerate() {
        bar(&mut s, "c", i, share(k, tc));
    }
    let lo = edges.first().copied().unwrap_or(0.0);
    let hi = edges.last().copied().unwrap_or(0.0);
    let _ = write!(
        s,
        "<path class=\"ax\" d=\"M{x0} {y0}V{b}H{r}\"/><text x=\"{x1}\" y=\"{ty}\" text-anchor=\"end\">{top}</text><text x=\"{x1}\" y=\"{b}\" text-anchor=\"end\">0</text><text x=\"{x0}\" y=\"134\">{lo}</text><text x=\"{r}\" y=\"134\" text-anchor=\"end\">{hi}</text></svg>",
        b = c(y0 + ph),
        r = c(x0 + pw),
        x1 = c(x0 - 3.0),
        ty = c(y0 + 8.0),
        top = esc(&format!("{:.1} %", top * 100.0)),
        lo = esc(&num(lo)),
        hi = esc(&num(hi)),
    );
    s
}

/// Paired horizontal bars of the shares per value: reference filled, current outlined.
fn bars(name: &str, rows: &[(String, u64, u64)]) -> String {
    let tr: u64 = rows.iter().map(|r| r.1).sum();
    let tc: u64 = rows.iter().map(|r| r.2).sum();
    let share = |n: u64, t: u64| if t == 0 { 0.0 } else { n as f64 / t as f64 };
    let top = rows
        .iter()
        .map(|r| share(r.1, tr).max(share(r.2, tc)))
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let (x0, pw, rh) = (112.0, W - 120.0, 16.0);
    let h = 20.0 + rh * rows.len() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"plot\" viewBox=\"0 0 320 {}\" role=\"img\" aria-label=\"{}\"><title>{}</title>{LEGEND}",
        c(h),
        esc(&format!(
            "{name}: bars of reference and current shares per value"
        )),
        esc(&format!(
            "{name}: share of rows per value, reference (filled) against current (outlined)"
        )),
    );
    for (i, (label, r, k)) in rows.iter().enumerate() {
        let y = 18.0 + rh * i as f64;
        let _ = write!(
            s,
            "<g><title>{}</title><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"r\" x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"6\"/><rect class=\"c\" x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"6\"/></g>",
            esc(&format!(
                "{label}: reference {}, current {}",
                pct(*r, tr),
                pct(*k, tc)
            )),
            c(x0 - 4.0),
            c(y + 10.0),
            esc(&cut(label, 18)),
            c(y + 1.0),
            c(share(*r, tr) / top * pw),
            c(y + 7.5),
            c(share(*k, tc) / top * pw),
        );
    }
    s.push_str("</svg>");
    s
}

/// One metric against its threshold and the production value, on one number line.
pub fn gate(metric: &str, value: Option<f64>, threshold: f64, production: Option<f64>) -> String {
    let points: Vec<f64> = [value, Some(threshold), production]
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite())
        .collect();
    let lo = points.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = points.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo {
        (hi - lo) * 0.15
    } else {
        lo.abs().max(1.0) * 0.1
    };
    let (lo, hi) = (lo - pad, hi + pad);
    let (x0, pw) = (16.0, W - 32.0);
    let at = |v: f64| x0 + (v - lo) / (hi - lo) * pw;
    // labels near an end grow inwards, so none is cut by the view box
    let anchor = |x: f64| {
        if x < 80.0 {
            "start"
        } else if x > W - 80.0 {
            "end"
        } else {
            "middle"
        }
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"plot gate\" viewBox=\"0 0 320 76\" role=\"img\" aria-label=\"{}\"><title>{}</title><path class=\"ax\" d=\"M{x0} 40H{}\"/>",
        esc(&format!("{metric} against its threshold and production")),
        esc(&format!(
            "{metric}: value {}, threshold {}, production {}",
            value.map_or("none".into(), num),
            num(threshold),
            production.map_or("none".into(), num)
        )),
        c(x0 + pw),
    );
    let _ = write!(
        s,
        "<path class=\"th\" d=\"M{x} 26V54\"/><text x=\"{x}\" y=\"70\" text-anchor=\"{}\">threshold {}</text>",
        anchor(at(threshold)),
        esc(&num(threshold)),
        x = c(at(threshold)),
    );
    if let Some(p) = production.filter(|p| p.is_finite()) {
        let x = at(p);
        let _ = write!(
            s,
            "<path class=\"pr\" d=\"M{} 40l6 -6l6 6l-6 6z\"/><text x=\"{}\" y=\"58\" text-anchor=\"{}\">◆ production {}</text>",
            c(x - 6.0),
            c(x),
            anchor(x),
            esc(&num(p)),
        );
    }
    if let Some(v) = value.filter(|v| v.is_finite()) {
        let x = at(v);
        let _ = write!(
            s,
            "<circle class=\"va\" cx=\"{}\" cy=\"40\" r=\"6\"/><text x=\"{}\" y=\"20\" text-anchor=\"{}\">● {} {}</text>",
            c(x),
            c(x),
            anchor(x),
            esc(metric),
            esc(&num(v)),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<script>\"a\" & 'b'\u{7}"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;\u{FFFD}"
        );
    }

    #[test]
    fn numbers_have_a_fixed_form() {
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(0.123_456_7), "0.1235");
        assert_eq!(num(1.5e-9), "1.500e-9");
        assert_eq!(num(2_500_000.0), "2.500e6");
        assert_eq!(c(3.0), "3");
        assert_eq!(c(3.04), "3");
        assert_eq!(c(3.06), "3.1");
    }

    #[test]
    fn labels_are_cut_and_escaped_in_bars() {
        let p = PlotView::Bars {
            labels: vec!["<b>".into(), "x".repeat(40)],
            reference: vec![1, 2],
            current: vec![2, 1],
            other: None,
        };
        let s = plot("col\"", &p);
        assert!(s.contains("&lt;b&gt;") && !s.contains("<b>"));
        assert!(s.contains(&format!("{}…", "x".repeat(17))));
        assert!(s.contains("aria-label=\"col&quot;: bars"));
    }
}
