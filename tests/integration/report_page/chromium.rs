//! The report page in real headless Chromium (Debian's `chromium`, installed by
//! `scripts/harness-install.sh`): the DOM it builds, screenshots at desktop and phone sizes,
//! and the network requests the page makes (none). Each check is first shown to fail on a
//! page made to fail it, so a broken check cannot pass silently.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{HOSTILE, hostile_data, page_of, validate_in};
use crate::harness::{require_tool, transcript_of};

/// What one Chromium run left.
struct Run {
    /// `--dump-dom`'s output, when asked for.
    dom: String,
    /// URLs the page itself asked the network for (from the net log).
    page_requests: Vec<String>,
}

/// Runs headless Chromium on `page` with `extra` flags, offline (every host resolves to
/// nothing) and with a fresh profile; reads the net log back.
fn chromium(bin: &Path, page: &Path, extra: &[String]) -> Run {
    let tmp = tempfile::tempdir().expect("tempdir");
    let netlog = tmp.path().join("net.json");
    let url = format!("file://{}", page.display());
    let out = Command::new("timeout")
        .arg("120")
        .arg(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(extra)
        .arg(&url)
        .output()
        .expect("chromium starts");
    assert!(out.status.success(), "{}", transcript_of(&out));
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).expect("net log"))
        .expect("net log is JSON");
    Run {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        page_requests: page_requests(&log),
    }
}

/// The URL requests a `file://` page started. Chromium's own background requests (update
/// checks, accounts) have no page as their top frame; a page's subresources carry its
/// `file://` site in their network isolation key.
fn page_requests(log: &Value) -> Vec<String> {
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == start)
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

fn screenshot(bin: &Path, page: &Path, size: &str, out: &Path) -> Vec<u8> {
    chromium(
        bin,
        page,
        &[
            format!("--screenshot={}", out.display()),
            format!("--window-size={size}"),
            "--hide-scrollbars".to_owned(),
        ],
    );
    let png = std::fs::read(out).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    png
}

/// A PNG with content: much larger than the same-sized screenshot of an empty page (a
/// blank page compresses to almost nothing), and with many distinct byte values.
fn assert_not_blank(png: &[u8], blank: &[u8], what: &str) {
    let distinct = png.iter().collect::<std::collections::HashSet<_>>().len();
    assert!(
        png.len() > 8 * blank.len() && distinct > 200,
        "{what}: {} bytes ({distinct} distinct) against {} for a blank page",
        png.len(),
        blank.len()
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write page");
    p
}

#[test]
fn the_checks_fail_on_a_page_that_loads_and_runs_things() {
    let Some(bin) = require_tool("chromium") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let page = write(
        tmp.path(),
        "leaky.html",
        "<!DOCTYPE html><html><body><p>x</p><img src=\"http://leak.example.invalid/p.png\"><link rel=\"stylesheet\" href=\"https://fonts.example.invalid/a.css\"><script>document.body.setAttribute('data-pwned','1')</script></body></html>",
    );
    let run = chromium(&bin, &page, &["--dump-dom".to_owned()]);
    assert!(run.dom.contains("data-pwned=\"1\""), "{}", run.dom);
    let mut urls = run.page_requests;
    urls.sort();
    assert_eq!(
        urls,
        [
            "http://leak.example.invalid/p.png",
            "https://fonts.example.invalid/a.css"
        ]
    );
    let blank = write(
        tmp.path(),
        "blank.html",
        "<!DOCTYPE html><html><body></body></html>",
    );
    let b = screenshot(&bin, &blank, "1280,2000", &tmp.path().join("b.png"));
    let b2 = screenshot(&bin, &blank, "1280,2000", &tmp.path().join("b2.png"));
    let r = std::panic::catch_unwind(|| assert_not_blank(&b2, &b, "blank"));
    assert!(r.is_err(), "a blank page must fail the not-blank check");
}

#[test]
fn drift_and_no_drift_pages_in_chromium() {
    let Some(bin) = require_tool("chromium") else {
        return;
    };
    let shots = tempfile::tempdir().expect("tempdir");
    let blank_page = write(
        shots.path(),
        "blank.html",
        "<!DOCTYPE html><html><body></body></html>",
    );
    let blank = screenshot(
        &bin,
        &blank_page,
        "1280,2000",
        &shots.path().join("blank.png"),
    );
    let blank_phone = screenshot(
        &bin,
        &blank_page,
        "390,844",
        &shots.path().join("blankp.png"),
    );
    for (case, cur, reference, drift) in [
        ("drift", "drift_large_cur.csv", "drift_large_ref.csv", true),
        (
            "no drift",
            "drift_large_ref.csv",
            "drift_large_ref.csv",
            false,
        ),
    ] {
        let (tmp, page) = page_of(cur, reference);
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.path().join("reports/validate.json")).expect("json"),
        )
        .expect("json");
        let run = chromium(&bin, &page, &["--dump-dom".to_owned()]);
        let dom = &run.dom;
        assert!(
            run.page_requests.is_empty(),
            "{case}: {:?}",
            run.page_requests
        );
        let overall = if drift { "✗ failed" } else { "✓ passed" };
        assert!(
            dom.contains(&format!("id=\"overall\">{overall}")),
            "{case}: {dom}"
        );
        // one card per column, each with its name, verdicts, and a plot when tested
        let cards: Vec<&str> = dom.split("<article class=\"col\"").skip(1).collect();
        let drift_cols = report["drift"]["columns"]
            .as_object()
            .expect("drift columns");
        assert_eq!(cards.len(), drift_cols.len(), "{case}");
        for (name, c) in drift_cols {
            let card = cards
                .iter()
                .find(|k| k.contains(&format!("<h3 class=\"name\">{name}</h3>")))
                .unwrap_or_else(|| panic!("{case}: no card for {name}"));
            let verdict = match (c["status"].as_str(), c["drift_detected"].as_bool()) {
                (Some("tested"), Some(true)) => "▲ drift",
                (Some("tested"), _) => "✓ no drift",
                (Some("skipped"), _) => "– not tested",
                _ => "! error",
            };
            assert!(card.contains(verdict), "{case}: {name} lacks {verdict}");
            let plots = card.matches("<svg class=\"plot\"").count();
            assert_eq!(
                plots,
                usize::from(c["status"] == "tested"),
                "{case}: {name}"
            );
            if let Some(reason) = c["reason"].as_str() {
                assert!(card.contains(reason), "{case}: {name} reason");
            }
            if let Some(col) = report["columns"].get(name) {
                let nulls = if col["null_status"] == "passed" {
                    "✓ passed"
                } else {
                    "✗ failed"
                };
                assert!(card.contains(nulls), "{case}: {name} nulls");
            }
        }
        let wide = screenshot(&bin, &page, "1280,2000", &shots.path().join("wide.png"));
        assert_not_blank(&wide, &blank, case);
        let phone = screenshot(&bin, &page, "390,844", &shots.path().join("phone.png"));
        assert_not_blank(&phone, &blank_phone, case);
    }
}

#[test]
fn hostile_names_show_as_text_and_never_run() {
    let Some(bin) = require_tool("chromium") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    hostile_data(tmp.path());
    let out = validate_in(tmp.path(), &["--data", "cur.csv", "--reference", "ref.csv"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&out)
    );
    let html = std::fs::read_to_string(tmp.path().join("reports/report.html")).expect("page");
    // Without the Content-Security-Policy line, escaping alone must keep scripts out.
    let csp = html
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .expect("the page has a CSP");
    let bare = html.replace(csp, "");
    let page = write(tmp.path(), "bare.html", &bare);
    let run = chromium(&bin, &page, &["--dump-dom".to_owned()]);
    // the names hold `data-pwned` as text; as an attribute it would mean a script ran
    assert!(!run.dom.contains("data-pwned=\""), "a name ran as script");
    for name in HOSTILE {
        let as_text = name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\u{a0}', "&nbsp;");
        assert!(
            run.dom
                .contains(&format!("<h3 class=\"name\">{as_text}</h3>")),
            "{name:?} is not shown as text"
        );
    }
    // the same page with one real script tag does change the DOM
    let control = bare.replace(
        "</body>",
        "<script>document.body.setAttribute('data-pwned','1')</script></body>",
    );
    let page = write(tmp.path(), "control.html", &control);
    let run = chromium(&bin, &page, &["--dump-dom".to_owned()]);
    assert!(
        run.dom.contains("data-pwned=\"1\""),
        "the control script did not run"
    );
}
