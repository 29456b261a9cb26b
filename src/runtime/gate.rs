//! The evaluate decision: gate 1 (absolute threshold) and gate 2 (comparison with the
//! production model) in one object, which alone decides the exit code, `evaluate.json`, the
//! `JUnit` cases, the dotenv and the log table. Pure: the stage fetches, this decides.

use serde::Serialize;

use crate::artifacts::junit::{Case, Outcome};
use crate::config::raw::NoProduction;
use crate::exit::Exit;

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Could not be decided.
    Error,
}

impl Verdict {
    /// `pass`, `fail` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

/// The production model gate 2 compares with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Production {
    /// The alias that marks it.
    pub alias: String,
    /// Its version (SemVer on GitLab), when one exists.
    pub version: Option<String>,
    /// Its run.
    pub run_id: Option<String>,
    /// Its value of the gated metric, when known.
    pub value: Option<f64>,
}

/// Gate 2's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRule {
    /// Least absolute improvement.
    pub min_improvement: f64,
    /// Least relative improvement (0.01 = 1 %).
    pub min_relative_improvement: f64,
    /// Verdict without a production model.
    pub when_no_production: NoProduction,
}

/// Everything the decision needs.
#[derive(Debug, Clone, PartialEq)]
pub struct GateInput {
    /// The gated metric.
    pub metric: String,
    /// The run's value, if the run has the metric.
    pub value: Option<f64>,
    /// Metrics the run does have (for the error message).
    pub available: Vec<String>,
    /// Gate 1's threshold.
    pub threshold: f64,
    /// Direction.
    pub higher_is_better: bool,
    /// Gate 2, when configured, with what was found in production.
    pub compare: Option<(CompareRule, Production)>,
}

/// One gate's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// `threshold` or `compare`.
    pub name: String,
    /// The verdict.
    pub status: Verdict,
    /// Why, in one sentence.
    pub message: String,
    /// The value it must reach (threshold, or production value plus the improvement).
    pub required: Option<f64>,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// `pass`, `fail` or `error`.
    pub status: Verdict,
    /// The gated metric.
    pub metric: String,
    /// Its value.
    pub value: Option<f64>,
    /// Gate 1's threshold.
    pub threshold: f64,
    /// Direction.
    pub higher_is_better: bool,
    /// The production model, when gate 2 ran.
    pub production: Option<Production>,
    /// Each gate.
    pub gates: Vec<GateResult>,
}

fn fmt(v: f64) -> String {
    format!("{v}")
}

/// `a` is at least as good as `b`.
fn at_least(a: f64, b: f64, higher: bool) -> bool {
    if higher { a >= b } else { a <= b }
}

impl Decision {
    /// Decides.
    pub fn decide(input: &GateInput) -> Self {
        let higher = input.higher_is_better;
        let cmp = if higher { ">=" } else { "<=" };
        let mut gates = Vec::new();
        match input.value {
            None => gates.push(GateResult {
                name: "threshold".into(),
                status: Verdict::Error,
                message: format!(
                    "the run has no metric `{}`; it has: {}",
                    input.metric,
                    if input.available.is_empty() {
                        "(no metrics)".to_owned()
                    } else {
                        input.available.join(", ")
                    }
                ),
                required: Some(input.threshold),
            }),
            Some(v) if v.is_nan() => gates.push(GateResult {
                name: "threshold".into(),
                status: Verdict::Error,
                message: format!("`{}` is NaN", input.metric),
                required: Some(input.threshold),
            }),
            Some(v) => {
                let ok = at_least(v, input.threshold, higher);
                gates.push(GateResult {
                    name: "threshold".into(),
                    status: if ok { Verdict::Pass } else { Verdict::Fail },
                    message: format!(
                        "{} = {} {} {cmp} {}",
                        input.metric,
                        fmt(v),
                        if ok { "is" } else { "is not" },
                        fmt(input.threshold)
                    ),
                    required: Some(input.threshold),
                });
            }
        }
        let mut production = None;
        if let Some((rule, prod)) = &input.compare {
            production = Some(prod.clone());
            gates.push(compare_gate(input, rule, prod));
        }
        let status = if gates.iter().any(|g| g.status == Verdict::Error) {
            Verdict::Error
        } else if gates.iter().any(|g| g.status == Verdict::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        Self {
            status,
            metric: input.metric.clone(),
            value: input.value,
            threshold: input.threshold,
            higher_is_better: higher,
            production,
            gates,
        }
    }

    /// 0 pass, 1 fail, 2 error.
    pub fn exit(&self) -> Exit {
        match self.status {
            Verdict::Pass => Exit::Success,
            Verdict::Fail => Exit::Failure,
            Verdict::Error => Exit::Error,
        }
    }

    /// One `JUnit` case per gate.
    pub fn junit_cases(&self) -> Vec<Case> {
        self.gates
            .iter()
            .map(|g| {
                let outcome = match g.status {
                    Verdict::Pass => Outcome::Pass,
                    Verdict::Fail => Outcome::Failure(g.message.clone()),
                    Verdict::Error => Outcome::Error(g.message.clone()),
                };
                let mut c = Case::new(
                    format!("evaluate.{}", g.name),
                    format!("{} {}", g.name, self.metric),
                    outcome,
                );
                c.output = Some(g.message.clone());
                c
            })
            .collect()
    }

    /// The log table: metric, value, threshold, production value, verdict.
    pub fn table_rows(&self) -> Vec<Vec<String>> {
        let opt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), fmt);
        let prod = self.production.as_ref().map_or_else(
            || "—".to_owned(),
            |p| match (&p.version, p.value) {
                (Some(ver), Some(v)) => format!("{} (v{ver})", fmt(v)),
                (Some(ver), None) => format!("? (v{ver})"),
                _ => "none".to_owned(),
            },
        );
        let dir = if self.higher_is_better { ">=" } else { "<=" };
        vec![
            vec![
                "metric".into(),
                "value".into(),
                "threshold".into(),
                "production".into(),
                "verdict".into(),
            ],
            vec![
                self.metric.clone(),
                opt(self.value),
                format!("{dir} {}", fmt(self.threshold)),
                prod,
                self.status.as_str().to_uppercase(),
            ],
        ]
    }
}

fn compare_gate(input: &GateInput, rule: &CompareRule, prod: &Production) -> GateResult {
    let name = "compare".to_owned();
    let higher = input.higher_is_better;
    let (Some(v), Some(_)) = (input.value, prod.version.as_ref()) else {
        if input.value.is_none() {
            return GateResult {
                name,
                status: Verdict::Error,
                message: "no value to compare".into(),
                required: None,
            };
        }
        let (status, word) = match rule.when_no_production {
            NoProduction::Pass => (Verdict::Pass, "passes"),
            NoProduction::Fail => (Verdict::Fail, "fails"),
        };
        return GateResult {
            name,
            status,
            message: format!(
                "no model has the alias `{}` yet; the gate {word} (when_no_production)",
                prod.alias
            ),
            required: None,
        };
    };
    let Some(p) = prod.value else {
        return GateResult {
            name,
            status: Verdict::Error,
            message: format!(
                "the production model (alias `{}`) has no value for `{}`",
                prod.alias, input.metric
            ),
            required: None,
        };
    };
    let margin = rule
        .min_improvement
        .max(rule.min_relative_improvement * p.abs());
    let required = if higher { p + margin } else { p - margin };
    let ok = at_least(v, required, higher);
    let delta = if higher { v - p } else { p - v };
    GateResult {
        name,
        status: if ok { Verdict::Pass } else { Verdict::Fail },
        message: format!(
            "{} = {} vs production {} (alias `{}`): improvement {} {} the required {}",
            input.metric,
            fmt(v),
            fmt(p),
            prod.alias,
            fmt(delta),
            if ok { "meets" } else { "misses" },
            fmt(margin)
        ),
        required: Some(required),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: Option<f64>, higher: bool) -> GateInput {
        GateInput {
            metric: "acc".into(),
            value,
            available: vec!["f1".into(), "loss".into()],
            threshold: 0.8,
            higher_is_better: higher,
            compare: None,
        }
    }

    fn prod(version: Option<&str>, value: Option<f64>) -> Production {
        Production {
            alias: "production".into(),
            version: version.map(Into::into),
            run_id: None,
            value,
        }
    }

    fn rule(min: f64, rel: f64, none: NoProduction) -> CompareRule {
        CompareRule {
            min_improvement: min,
            min_relative_improvement: rel,
            when_no_production: none,
        }
    }

    #[test]
    fn threshold_both_directions_and_equality() {
        assert_eq!(
            Decision::decide(&input(Some(0.8), true)).exit(),
            Exit::Success
        );
        assert_eq!(
            Decision::decide(&input(Some(0.79), true)).exit(),
            Exit::Failure
        );
        assert_eq!(
            Decision::decide(&input(Some(0.5), false)).exit(),
            Exit::Success
        );
        assert_eq!(
            Decision::decide(&input(Some(0.81), false)).exit(),
            Exit::Failure
        );
        let d = Decision::decide(&input(None, true));
        assert_eq!(d.exit(), Exit::Error);
        assert!(
            d.gates[0].message.contains("f1, loss"),
            "{}",
            d.gates[0].message
        );
    }

    #[test]
    fn compare_gate() {
        let mut i = input(Some(0.9), true);
        i.compare = Some((
            rule(0.05, 0.0, NoProduction::Pass),
            prod(Some("1"), Some(0.84)),
        ));
        assert_eq!(Decision::decide(&i).status, Verdict::Pass);
        i.compare = Some((
            rule(0.07, 0.0, NoProduction::Pass),
            prod(Some("1"), Some(0.84)),
        ));
        assert_eq!(Decision::decide(&i).status, Verdict::Fail);
        i.compare = Some((
            rule(0.0, 0.1, NoProduction::Pass),
            prod(Some("1"), Some(0.85)),
        ));
        assert_eq!(Decision::decide(&i).status, Verdict::Fail); // needs 0.935
        i.compare = Some((rule(0.0, 0.0, NoProduction::Fail), prod(None, None)));
        assert_eq!(Decision::decide(&i).exit(), Exit::Failure);
        i.compare = Some((rule(0.0, 0.0, NoProduction::Pass), prod(None, None)));
        assert_eq!(Decision::decide(&i).exit(), Exit::Success);
        i.compare = Some((rule(0.0, 0.0, NoProduction::Pass), prod(Some("2"), None)));
        assert_eq!(Decision::decide(&i).exit(), Exit::Error);
        // Lower is better: loss 0.2 against production 0.3 with 0.05 required.
        let mut l = input(Some(0.2), false);
        l.threshold = 0.5;
        l.compare = Some((
            rule(0.05, 0.0, NoProduction::Pass),
            prod(Some("3"), Some(0.3)),
        ));
        let d = Decision::decide(&l);
        assert_eq!(d.status, Verdict::Pass);
        assert_eq!(d.gates[1].required, Some(0.25));
        assert_eq!(d.junit_cases().len(), 2);
    }
}
