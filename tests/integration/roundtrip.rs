//! Any user string either round-trips exactly into the YAML (read back with a YAML 1.1
//! reader, as GitLab reads it) and into the shell lines of `script:`, or is refused with a
//! config error. The compiler never panics and never emits a pipeline GitLab would refuse.

use indexmap::IndexMap;
use proptest::prelude::*;

use mlops::compile::{CompileOptions, compile};
use mlops::config::raw::{Args, Config, Framework, ModelSettings, Tags};
use mlops::config::{Source, load_project};

/// Pieces that break naive YAML or shell emitters, plus YAML 1.1 scalars that would silently
/// change type (`on` → true, `0755` → 493, `3.10` → 3.1).
const NASTY: &[&str] = &[
    ": ",
    "#",
    " #x",
    "'",
    "\"",
    "\\",
    "\n",
    "\r\n",
    "\t",
    "$",
    "$CI_JOB_ID",
    "${X}",
    "on",
    "On",
    "yes",
    "no",
    "off",
    "y",
    "n",
    "~",
    "null",
    "true",
    "False",
    "0755",
    "0o17",
    "0x1F",
    "1e3",
    "3.10",
    ".inf",
    "-.nan",
    "1:20",
    "-",
    "- ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a",
    "*a",
    "!tag",
    "%",
    "@",
    "`",
    " ",
    "é",
    "日本語",
    "🙂",
    "\u{85}",
    "\u{2028}",
    "a b",
    "--flag=x y",
    "*",
    "|",
    ">",
];

fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(NASTY), 1..4).prop_map(|v| v.concat()),
        1 => "\\PC{1,12}",
        1 => "[a-z0-9_.-]{1,12}",
    ]
}

fn config_with(
    prefix: String,
    tags: Vec<String>,
    changes: Vec<String>,
    args: Vec<String>,
    requirements: String,
    image_base: String,
    metric: String,
) -> Config {
    let mut model = IndexMap::new();
    model.insert(
        "m1".to_owned(),
        ModelSettings {
            job_prefix: Some(prefix),
            training_script: Some("train.py".to_owned()),
            training_args: Some(Args::List(args)),
            data_path: Some("data.csv".to_owned()),
            framework: Some(Framework::Sklearn),
            metric_name: Some(metric),
            min_threshold: Some(0.5),
            image_registry_base: Some(image_base),
            requirements_file: Some(requirements),
            tags: Some(Tags::All(tags)),
            changes: Some(changes),
            ..ModelSettings::default()
        },
    );
    Config {
        mlops_version: mlops::VERSION.to_owned(),
        model,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn user_strings_round_trip_or_are_refused(
        prefix in nasty(),
        tags in prop::collection::vec(nasty(), 0..3),
        changes in prop::collection::vec(nasty(), 1..3),
        args in prop::collection::vec(nasty(), 0..3),
        requirements in nasty(),
        image_base in nasty(),
        metric in nasty(),
    ) {
        let config = config_with(prefix.clone(), tags.clone(), changes.clone(), args, requirements.clone(), image_base, metric);
        let text = toml::to_string(&config).expect("TOML serializes any string");
        let project = match load_project(&Source::new("mlops.toml", text)) {
            Ok(p) => p,
            Err(e) => {
                // Refused: every problem says what and where.
                prop_assert!(!e.problems.is_empty());
                prop_assert!(e.problems.iter().all(|p| !p.message.is_empty()));
                return Ok(());
            }
        };
        let compiled = compile(&project, &CompileOptions::default())
            .map_err(|e| TestCaseError::fail(format!("accepted config gave an invalid pipeline: {e}")))?;

        // Read back as GitLab would: YAML 1.1, every value must equal what the IR holds.
        let doc = mlops::yaml::parse(&compiled.text).map_err(|e| TestCaseError::fail(format!("unparsable YAML: {e}\n{}", compiled.text)))?;
        let expected = serde_json::to_value(&compiled.pipeline).expect("json");
        prop_assert_eq!(doc.to_json(), expected, "YAML read back differs\n{}", compiled.text);

        // The user's strings themselves, where they land.
        let train = &compiled.pipeline.jobs[&format!("{prefix}:train")];
        prop_assert_eq!(&train.tags, &tags);
        prop_assert_eq!(train.rules[0].changes.as_ref(), Some(&changes));
        // The shell line splits back into exactly the words meant.
        let words = shlex::split(&train.script[0]).expect("the script line is valid shell");
        prop_assert_eq!(words, vec!["python3", "-m", "pip", "install", "--requirement", requirements.as_str()]);
        let words = shlex::split(train.script.last().expect("script")).expect("valid shell");
        prop_assert_eq!(words, vec!["mlops", "run", "train", "--model", "m1"]);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        if let Ok(project) = load_project(&Source::new("mlops.toml", text)) {
            prop_assert!(compile(&project, &CompileOptions::default()).is_ok());
        }
    }
}

#[test]
fn yaml_11_scalars_are_quoted() {
    let config = config_with(
        "on".to_owned(),
        vec![
            "yes".into(),
            "no".into(),
            "off".into(),
            "y".into(),
            "n".into(),
            "~".into(),
            "0755".into(),
            "1e3".into(),
            "3.10".into(),
            // Psych drops `,` and `_` from numbers (found by the property test below).
            "1,000".into(),
            "1_0".into(),
        ],
        vec!["on".into()],
        vec![],
        "0755,".into(),
        "registry.example.com/ml".into(),
        "accuracy".into(),
    );
    let project = load_project(&Source::new(
        "mlops.toml",
        toml::to_string(&config).expect("toml"),
    ))
    .expect("valid");
    let compiled = compile(&project, &CompileOptions::default()).expect("compiles");
    let doc = mlops::yaml::parse(&compiled.text).expect("yaml");
    let json = doc.to_json();
    let tags = &json["on:train"]["tags"];
    assert_eq!(
        tags,
        &serde_json::json!([
            "yes", "no", "off", "y", "n", "~", "0755", "1e3", "3.10", "1,000", "1_0"
        ]),
        "{}",
        compiled.text
    );
    assert_eq!(
        json["on:train"]["cache"][0]["key"]["files"],
        serde_json::json!(["0755,"]),
        "{}",
        compiled.text
    );
    assert_eq!(
        json["variables"]["MLOPS_VERSION"],
        serde_json::json!(mlops::VERSION)
    );
}
