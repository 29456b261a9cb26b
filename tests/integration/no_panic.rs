//! No input makes a command panic: arbitrary bytes as CSV and as Parquet through
//! `mlops run validate`, and arbitrary text in every string of `mlops.toml` through
//! `mlops compile`. A panic would exit 101; the allowed codes are 0, 1 and 2.

use std::fmt::Write as _;

use proptest::prelude::*;

use crate::harness;

fn validate(file: &std::path::Path, extra: &[&str]) -> Option<i32> {
    let dir = file.parent().expect("dir");
    harness::mlops()
        .current_dir(dir)
        .args(["run", "validate", "--data"])
        .arg(file)
        .args(extra)
        .output()
        .expect("mlops runs")
        .status
        .code()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_csv_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let f = tmp.path().join("data.csv");
        std::fs::write(&f, &bytes).expect("write");
        let code = validate(&f, &[]);
        prop_assert!(matches!(code, Some(0..=2)), "exit {code:?} for {bytes:?}");
    }

    #[test]
    fn arbitrary_bytes_as_parquet_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048), footer in any::<u32>()) {
        // The magic at both ends and a footer length, so the bytes reach the footer parser.
        let mut bytes = b"PAR1".to_vec();
        bytes.extend(&body);
        bytes.extend(footer.to_le_bytes());
        bytes.extend(b"PAR1");
        let tmp = tempfile::tempdir().expect("tempdir");
        let f = tmp.path().join("data.parquet");
        std::fs::write(&f, &bytes).expect("write");
        let code = validate(&f, &[]);
        prop_assert!(matches!(code, Some(0..=2)), "exit {code:?}");
    }

    #[test]
    fn arbitrary_text_in_config_strings_never_panics(
        field in prop::sample::select(vec![
            "training_script", "data_path", "metric_name", "alias", "experiment_name",
            "reference_data_path", "image_suffix", "image_registry_base", "requirements_file",
            "as", "dvc_remote",
        ]),
        value in "\\PC*",
    ) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let toml = format!(
            "mlops-version = \"{}\"\n\n[model.m]\nframework = \"sklearn\"\ntraining_script = \"t.py\"\ndata_path = \"d.csv\"\nmetric_name = \"acc\"\nmin_threshold = 0.5\n{field} = {}\n",
            env!("CARGO_PKG_VERSION"),
            toml_string(&value),
        );
        // A key given twice is a TOML error; that is fine, it must not panic either.
        std::fs::write(tmp.path().join("mlops.toml"), toml).expect("write");
        let code = harness::mlops()
            .current_dir(tmp.path())
            .args(["compile", "--stdout"])
            .output()
            .expect("mlops runs")
            .status
            .code();
        prop_assert!(matches!(code, Some(0 | 2)), "exit {code:?} for {field} = {value:?}");
    }
}

/// A TOML basic string holding `s` exactly.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn huge_headers_and_flags_never_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = tmp.path().join("wide.csv");
    let name = "x".repeat(70_000);
    std::fs::write(&f, format!("{name},b\n1,2\n")).expect("write");
    assert!(matches!(validate(&f, &[]), Some(0..=2)));
    let wanted = "y".repeat(70_000);
    assert!(matches!(
        validate(&f, &["--required-columns", &wanted]),
        Some(0..=2)
    ));
}
