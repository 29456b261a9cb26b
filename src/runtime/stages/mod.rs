//! One module per `mlops run` stage, each in the same shape: `Args` (its clap arguments,
//! which flatten [`crate::runtime::context::CommonArgs`]); `Settings::resolve`, a pure
//! function that merges the flags (clap has already applied their `MLOPS_*` variables) over
//! the model's `mlops.toml` settings; the entry point (`validate`, `train`, `evaluate`,
//! `register`, `promote`), which executes and writes one typed report through
//! [`crate::artifacts::write_stage`]; and its error enum.

pub mod evaluate;
pub mod promote;
pub mod register;
pub mod train;
pub mod validate;

/// A model as `mlops.toml` resolves it, for the settings tests.
#[cfg(test)]
pub(crate) fn test_model() -> crate::config::Model {
    let text = r#"mlops-version = "0.1.0"

[model.wine]
framework = "sklearn"
training_script = "train.py"
data_path = "data/train.csv"
metric_name = "accuracy"
min_threshold = 0.85
"#;
    let source = crate::config::Source::new("mlops.toml", text);
    let project = crate::config::load_project(&source).expect("a valid config");
    project.models[0].clone()
}
