//! The report page (`report.html`): its structure as a snapshot, its size at 100 columns,
//! hostile column names, bad `--html` paths, and (in [`chromium`]) how a real browser renders
//! it. The page's numbers come from `validate.json`, which the validate tests check.

mod chromium;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::harness::{mlops, root, transcript_of};

fn fx(name: &str) -> PathBuf {
    root().join("tests/fixtures/validate").join(name)
}

/// GitLab's variables as a pipeline would set them.
const CI: [(&str, &str); 6] = [
    ("CI_COMMIT_SHA", "4f2a9c81d3e7b6a5f4e3d2c1b0a99887766554433"),
    ("CI_COMMIT_SHORT_SHA", "4f2a9c81"),
    ("CI_PIPELINE_ID", "1234"),
    (
        "CI_PIPELINE_URL",
        "https://gitlab.example.com/g/p/-/pipelines/1234",
    ),
    ("CI_JOB_NAME", "wine:validate"),
    ("CI_JOB_URL", "https://gitlab.example.com/g/p/-/jobs/99"),
];

/// Runs `mlops run validate` in `dir` with `args`; the reports go to `dir/reports`.
pub fn validate_in(dir: &Path, args: &[&str]) -> Output {
    mlops()
        .current_dir(dir)
        .args(["run", "validate"])
        .args(args)
        .args(["--report-dir", "reports"])
        .envs(CI)
        .output()
        .expect("mlops runs")
}

/// A report page of `current` against `reference` (fixture names), in a fresh directory.
pub fn page_of(current: &str, reference: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for f in [current, reference] {
        std::fs::copy(fx(f), tmp.path().join(f)).expect("copy fixture");
    }
    let out = validate_in(tmp.path(), &["--data", current, "--reference", reference]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&out)
    );
    let page = tmp.path().join("reports/report.html");
    assert!(page.is_file(), "{}", transcript_of(&out));
    (tmp, page)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}

#[test]
fn drift_page_structure_snapshot() {
    let (tmp, page) = page_of("drift_small_cur.csv", "drift_small_ref.csv");
    let html = read(&page);
    insta::with_settings!({
        snapshot_path => "../../../snapshots/report",
        prepend_module_to_snapshot => false,
        filters => vec![(r"mlops \d+\.\d+\.\d+[-.\w]*", "mlops [VERSION]")],
    }, {
        insta::assert_snapshot!("drift_small.html", html);
    });
    // Same input, same bytes.
    let again = validate_in(
        tmp.path(),
        &[
            "--data",
            "drift_small_cur.csv",
            "--reference",
            "drift_small_ref.csv",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(read(&page), html);
}

#[test]
fn page_is_self_contained() {
    let (_tmp, page) = page_of("drift_large_cur.csv", "drift_large_ref.csv");
    let html = read(&page);
    let lower = html.to_lowercase();
    for banned in [
        "<script", "<img", "<link", "<iframe", "@import", "url(", "src=",
    ] {
        assert!(!lower.contains(banned), "the page holds {banned}");
    }
    // every href is one of the CI links
    for href in html.split("href=\"").skip(1) {
        // minijinja escapes `/` in attribute values as `&#x2f;`, which browsers decode
        let url = href[..href.find('"').expect("closed")].replace("&#x2f;", "/");
        assert!(url.starts_with("https://gitlab.example.com/"), "{url}");
    }
    assert!(html.contains("@media print"));
    assert!(html.contains("name=\"viewport\""));
}

#[test]
fn no_html_writes_no_page_and_html_moves_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fx("nulls_200.csv"), tmp.path().join("d.csv")).expect("copy");
    // an earlier run's plot data is removed with the page off
    std::fs::create_dir(tmp.path().join("reports")).expect("mkdir");
    std::fs::write(tmp.path().join("reports/validate.plots.json"), "{}").expect("write");
    let out = validate_in(tmp.path(), &["--data", "d.csv", "--no-html"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&out)
    );
    assert!(tmp.path().join("reports/validate.json").is_file());
    assert!(!tmp.path().join("reports/report.html").exists());
    assert!(!tmp.path().join("reports/validate.plots.json").exists());
    let out = validate_in(tmp.path(), &["--data", "d.csv", "--html", "out/page.html"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&out)
    );
    assert!(tmp.path().join("out/page.html").is_file());
    assert!(!tmp.path().join("reports/report.html").exists());
}

#[test]
fn unwritable_html_path_is_exit_2_with_the_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fx("nulls_200.csv"), tmp.path().join("d.csv")).expect("copy");
    std::fs::write(tmp.path().join("file"), "x").expect("write");
    // a directory where the page should go, and a path under a regular file
    std::fs::create_dir(tmp.path().join("dir.html")).expect("mkdir");
    for bad in ["dir.html", "file/report.html"] {
        let out = validate_in(tmp.path(), &["--data", "d.csv", "--html", bad]);
        let text = transcript_of(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(
            text.contains(&format!("cannot write the report page `{bad}`")),
            "{text}"
        );
        assert!(text.contains("hint: check the `--html` path"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
    }
}

/// A CSV whose column names try to break out of the page.
pub const HOSTILE: [&str; 4] = [
    "<script>document.body.setAttribute('data-pwned','1')</script>",
    "a \"quoted\" 'name' & <b>bold</b>",
    "\u{202e}txt.exe \u{5e2}\u{5de}\u{5d5}\u{5d3}\u{5d4}",
    "</svg><svg onload=\"document.body.setAttribute('data-pwned','2')\">",
];

/// Writes `cur.csv` and `ref.csv` with the [`HOSTILE`] columns (a number, a category, ...).
pub fn hostile_data(dir: &Path) {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let header: Vec<String> = HOSTILE.iter().map(|h| quote(h)).collect();
    for (file, shift) in [("ref.csv", 0), ("cur.csv", 7)] {
        let mut text = header.join(",") + "\n";
        for i in 0..300 {
            let cat = ["<i>x</i>", "\"y\"", "z&amp;"][(i + shift) % 3];
            let _ = writeln!(
                text,
                "{},{},{},{}",
                f64::from(i32::try_from((i * 37 + shift * 11) % 101).unwrap_or(0)) / 3.0,
                quote(cat),
                (i + shift) % 4,
                i % 50 + shift
            );
        }
        std::fs::write(dir.join(file), text).expect("write csv");
    }
}

#[test]
fn hostile_column_names_are_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    hostile_data(tmp.path());
    let out = validate_in(tmp.path(), &["--data", "cur.csv", "--reference", "ref.csv"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&out)
    );
    let html = read(&tmp.path().join("reports/report.html"));
    assert!(!html.contains("<script"), "a raw script tag");
    assert!(!html.contains("<b>bold"), "raw markup from a name");
    assert!(!html.contains("<svg onload"), "raw markup from a name");
    assert!(!html.contains("<i>x"), "raw markup from a category");
    assert!(html.contains("&lt;script&gt;document.body.setAttribute("));
    assert!(html.contains("\u{202e}txt.exe"));
    // every tested column has its plot
    let report: serde_json::Value =
        serde_json::from_str(&read(&tmp.path().join("reports/validate.json"))).expect("json");
    let tested = report["drift"]["columns"]
        .as_object()
        .expect("drift")
        .values()
        .filter(|c| c["status"] == "tested")
        .count();
    assert_eq!(tested, 4);
    assert_eq!(html.matches("<svg class=\"plot\"").count(), tested);
}

#[test]
fn a_hundred_columns_stay_under_one_megabyte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows = 2000;
    for (file, shift) in [("ref.csv", 0u64), ("cur.csv", 1)] {
        let header: Vec<String> = (0..100).map(|c| format!("column_{c:03}")).collect();
        let mut text = header.join(",") + "\n";
        let mut x = 12_345u64 + shift;
        for _ in 0..rows {
            let cells: Vec<String> = (0..100)
                .map(|c| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let r = x >> 33;
                    if c % 2 == 0 {
                        // a number with many distinct values: a histogram
                        format!("{}.{}", r % 1000, r % 97)
                    } else {
                        // a category with more than 20 values: 20 bars and "other"
                        format!("category-with-a-long-name-{}", r % 400 % 45)
                    }
                })
                .collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        std::fs::write(tmp.path().join(file), text).expect("write");
    }
    let out = validate_in(tmp.path(), &["--data", "cur.csv", "--reference", "ref.csv"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        transcript_of(&out)
    );
    let html = read(&tmp.path().join("reports/report.html"));
    assert_eq!(html.matches("<svg class=\"plot\"").count(), 100);
    assert!(html.contains("other (25 values)"));
    eprintln!("100 columns: {} bytes", html.len());
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
}
