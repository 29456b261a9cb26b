//! Every value the compiler writes is checked as written (issue #13): a value GitLab or
//! MLflow cannot use is refused with exit 2 and a `line:column` message naming the field, and
//! the text written is read back and checked, so nothing can add a key to it.

use std::path::Path;

use crate::harness;
use crate::harness::transcript;

const HEAD: &str = r#"mlops-version = "0.1.0"

[defaults]
framework = "sklearn"
training_script = "train.py"
metric_name = "accuracy"
min_threshold = 0.8
data_path = "data.csv"
"#;

fn project(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mlops.toml"), format!("{HEAD}{body}")).expect("write");
    dir
}

fn compile_in(dir: &Path, args: &[&str]) -> (i32, String) {
    transcript(harness::mlops().current_dir(dir).arg("compile").args(args))
}

/// The config is refused (exit 2) and the message names `field` at `line:col`.
fn refused(body: &str, at: &str, field: &str) {
    let dir = project(body);
    let (code, text) = compile_in(dir.path(), &["--stdout"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&format!("mlops.toml:{at}]")),
        "not at {at}:\n{text}"
    );
    assert!(text.contains(field), "does not name {field}:\n{text}");
    assert!(!dir.path().join(".gitlab-ci.yml").exists());
}

#[test]
fn the_config_name_cannot_add_a_key() {
    let dir = project("\n[model.m]\n");
    let name = "ci\nb: x.toml";
    std::fs::copy(dir.path().join("mlops.toml"), dir.path().join(name)).expect("copy");
    let (code, text) = compile_in(dir.path(), &["-c", name]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("contains a control character"), "{text}");
    assert!(!dir.path().join(".gitlab-ci.yml").exists());
    std::fs::copy(dir.path().join("mlops.toml"), dir.path().join("a$B.toml")).expect("copy");
    let (code, text) = compile_in(dir.path(), &["-c", "a$B.toml"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("GitLab would expand"), "{text}");
    // A name with quotes, `#` and `: ` is fine: the written file reads back as it was lowered.
    let odd = "my: \"odd\" # name.toml";
    std::fs::copy(dir.path().join("mlops.toml"), dir.path().join(odd)).expect("copy");
    let (code, text) = compile_in(dir.path(), &["-c", odd]);
    assert_eq!(code, 0, "{text}");
    let written = std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("written");
    let doc = mlops::yaml::parse(&written).expect("yaml").to_json();
    assert_eq!(doc["variables"]["MLOPS_CONFIG"], odd);
    let keys: Vec<&String> = doc.as_object().expect("map").keys().collect();
    assert_eq!(keys[..4], ["workflow", "default", "stages", "variables"]);
}

#[test]
fn artifacts_expire_in_is_what_gitlab_accepts() {
    for bad in ["forever-ish", "on", "30\\ndays", "0 days"] {
        refused(
            &format!("\n[pipeline]\nartifacts_expire_in = \"{bad}\"\n\n[model.m]\n"),
            "11:23",
            "pipeline.artifacts_expire_in",
        );
    }
    for good in ["never", "1 week", "2 hrs 30 min", "3 days"] {
        let dir = project(&format!(
            "\n[pipeline]\nartifacts_expire_in = \"{good}\"\n\n[model.m]\n"
        ));
        let (code, text) = compile_in(dir.path(), &["--stdout"]);
        assert_eq!(code, 0, "{good}: {text}");
        assert!(text.contains(&format!("expire_in: {good}")), "{text}");
    }
}

#[test]
fn report_dir_stays_inside_the_project() {
    refused(
        "\n[pipeline]\nreport_dir = \"../../etc\"\n\n[model.m]\n",
        "11:14",
        "pipeline.report_dir",
    );
    // An absolute path is refused by the schema, at the same place.
    refused(
        "\n[pipeline]\nreport_dir = \"/etc\"\n\n[model.m]\n",
        "11:14",
        "pipeline.report_dir",
    );
}

#[test]
fn runtime_url_has_no_control_characters() {
    refused(
        "\n[runtime]\ninstall = \"url\"\nurl = \"https://example.com/a\\nb\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n\n[model.m]\n",
        "12:7",
        "runtime.url",
    );
}

#[test]
fn smaller_holes_are_refused_at_the_field() {
    refused(
        "\n[model.m]\nvalidation.null_ratio.x = 2\n",
        "11:27",
        "model.m.validation.null_ratio.x",
    );
    refused(
        "\n[model.m]\nalias = \"latest\"\n",
        "11:9",
        "alias `latest`",
    );
    refused("\n[model.m]\nalias = \"v2\"\n", "11:9", "alias `v2`");
    refused(
        "\n[model.m]\ncompare.alias = \"V7\"\n",
        "11:17",
        "alias `V7`",
    );
    refused(
        "\n[model.m]\nchanges = [\"/abs\"]\n",
        "11:11",
        "`changes` entry \"/abs\"",
    );
    refused(
        "as = \"x\"\n\n[model.m]\n",
        "9:1",
        "`as` cannot be a default",
    );
    refused(
        "\n[model.Wine]\n\n[model.wine]\n",
        "12:8",
        "models `Wine` and `wine`",
    );
    refused(
        "image_registry_base = \"/\"\n\n[model.m]\n",
        "9:23",
        "`image_registry_base`",
    );
    // A deeply dotted key is reported at the key, not at 1:1.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mlops.toml"),
        format!(
            "{}model.m.validation.null_ratio.x = 2\nmodel.m.validation.nope = 1\n{}",
            "mlops-version = \"0.1.0\"\n",
            &HEAD[24..]
        ),
    )
    .expect("write");
    let (code, text) = compile_in(dir.path(), &["--stdout"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("mlops.toml:2:35]"), "{text}");
    assert!(text.contains("mlops.toml:3:20]"), "{text}");
}
