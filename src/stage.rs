//! The stages of every model. A stage owns its name, what it needs, and the report files
//! it writes; the compiler (job names, `needs`, `artifacts:reports`) and the runtime (what
//! each `mlops run <stage>` writes) both read them from here.

use std::fmt;

/// A stage of a model's pipeline, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Data checks.
    Validate,
    /// The MLflow run around the training script.
    Train,
    /// The quality gates.
    Evaluate,
    /// The model version and its alias.
    Register,
    /// The production alias moved to the version this pipeline registered (a manual job).
    Promote,
}

/// The report files of a stage, by the GitLab report kind that collects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportFiles {
    /// `artifacts:reports:dotenv`.
    pub dotenv: Option<&'static str>,
    /// `artifacts:reports:junit`.
    pub junit: Option<&'static str>,
    /// `artifacts:reports:metrics` (OpenMetrics).
    pub metrics: Option<&'static str>,
    /// `artifacts:reports:annotations`.
    pub annotations: Option<&'static str>,
    /// The stage's JSON summary.
    pub json: &'static str,
    /// The report page it writes, which the merge request links (`artifacts:expose_as`).
    pub page: Option<&'static str>,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Validate,
        Stage::Train,
        Stage::Evaluate,
        Stage::Register,
        Stage::Promote,
    ];

    /// The name: the GitLab stage, the job-name suffix and the `mlops run` subcommand.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Train => "train",
            Stage::Evaluate => "evaluate",
            Stage::Register => "register",
            Stage::Promote => "promote",
        }
    }

    /// The stages of the same model whose jobs this one needs: train's dotenv carries the
    /// run id to evaluate and register, evaluate renders the report page again from
    /// validate's results, register runs only after the gate passed, and promote reads the
    /// version register wrote into its dotenv report.
    pub fn needs(self) -> &'static [Stage] {
        match self {
            Stage::Validate => &[],
            Stage::Train => &[Stage::Validate],
            Stage::Evaluate => &[Stage::Validate, Stage::Train],
            Stage::Register => &[Stage::Train, Stage::Evaluate],
            Stage::Promote => &[Stage::Register],
        }
    }

    /// The files the stage writes into the model's report directory.
    pub fn reports(self) -> ReportFiles {
        match self {
            Stage::Validate => ReportFiles {
                junit: Some("validate.junit.xml"),
                json: "validate.json",
                page: Some("report.html"),
                ..ReportFiles::default()
            },
            Stage::Train => ReportFiles {
                dotenv: Some("train.env"),
                annotations: Some("train.annotations.json"),
                json: "train.json",
                ..ReportFiles::default()
            },
            Stage::Evaluate => ReportFiles {
                dotenv: Some("evaluate.env"),
                junit: Some("evaluate.junit.xml"),
                metrics: Some("metrics.txt"),
                json: "evaluate.json",
                page: Some("report.html"),
                ..ReportFiles::default()
            },
            Stage::Register => ReportFiles {
                dotenv: Some("register.env"),
                annotations: Some("register.annotations.json"),
                json: "register.json",
                ..ReportFiles::default()
            },
            Stage::Promote => ReportFiles {
                dotenv: Some("promote.env"),
                annotations: Some("promote.annotations.json"),
                json: "promote.json",
                ..ReportFiles::default()
            },
        }
    }

    /// Its position in [`Stage::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One value per stage, read by stage (runner tags, for example).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PerStage<T>(pub [T; 5]);

impl<T> std::ops::Index<Stage> for PerStage<T> {
    type Output = T;
    fn index(&self, stage: Stage) -> &T {
        &self.0[stage.index()]
    }
}

impl<T> PerStage<T> {
    /// Every value, in pipeline order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_come_earlier_and_names_are_distinct() {
        for s in Stage::ALL {
            assert!(s.needs().iter().all(|n| n < &s), "{s}");
            assert_eq!(Stage::ALL[s.index()], s);
            assert!(s.reports().json.starts_with(s.name()));
        }
    }
}
