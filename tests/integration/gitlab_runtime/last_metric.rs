//! The gate on a metric logged once per epoch reads its last value.

use serde_json::json;

use super::{BOTH, ENV, report};
use crate::gitlab::Replica;
use crate::harness::{self, transcript_of};
use crate::runtime::stage;

/// A script that logs the gate metric once per epoch is gated on its last value, in both
/// generations (GitLab lists every row, or the last one logged).
#[test]
fn gate_uses_the_last_value_of_a_metric_logged_per_epoch() {
    let Some(_py) = harness::python() else { return };
    for generation in BOTH {
        let gl = Replica::start(generation);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        std::fs::write(
            dir.join("epochs.py"),
            "import mlflow\nfor step, acc in enumerate([0.95, 0.9, 0.4]):\n    mlflow.log_metric('accuracy', acc, step=step)\n",
        )
        .expect("script");
        let o = stage(
            dir,
            &gl.uri,
            &["train", "--script", "epochs.py", "--experiment", "e"],
            &ENV,
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{generation:?}: {}",
            transcript_of(&o)
        );
        let gate = ["evaluate", "--metric", "accuracy", "--threshold", "0.5"];
        let o = stage(dir, &gl.uri, &gate, &ENV);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{generation:?}: {}",
            transcript_of(&o)
        );
        let ev = report(dir, "evaluate.json");
        assert_eq!(
            (&ev["value"], &ev["metrics"]["accuracy"]),
            (&json!(0.4), &json!(0.4))
        );
    }
}
