//! The alias emulation, and gate 2 reading the production version back.

use serde_json::json;

use super::{BOTH, report};
use crate::gitlab::{Replica, TOKEN};
use crate::harness::{kv_str, transcript_of, unique};
use crate::runtime::stage;

/// The alias emulation: a staging version keeps production where it was, and gate 2 reads
/// production back, in both generations.
#[test]
fn aliases_are_emulated_and_gate_2_reads_production() {
    for generation in BOTH {
        let gl = Replica::start(generation);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let model = unique("gl-alias");
        let env = [("MLOPS_ACCESS_TOKEN", TOKEN)];
        let reg = |run: &str, alias: &str| {
            let args = [
                "register", "--name", &model, "--alias", alias, "--metric", "accuracy", "--run-id",
                run,
            ];
            stage(dir, &gl.uri, &args, &env)
        };
        let run1 = gl.seed_run("runs", &[("accuracy", 0.90)]);
        let o = reg(&run1, "production");
        assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
        let o = reg(&run1, "production");
        assert_eq!(o.status.code(), Some(0), "retry: {}", transcript_of(&o));
        let vs = gl.versions(&model);
        assert_eq!(vs.len(), 1);
        assert_eq!(
            kv_str(&vs[0]["tags"], "mlops.alias.production").as_deref(),
            Some("1.0.0")
        );
        let env_text =
            std::fs::read_to_string(dir.join("mlops-reports/register.env")).expect("env");
        assert!(
            env_text.contains("MODEL_VERSION=1.0.0") && env_text.contains("MODEL_VERSION_ID=100"),
            "{env_text}"
        );

        let run2 = gl.seed_run("runs", &[("accuracy", 0.80)]);
        assert_eq!(reg(&run2, "staging").status.code(), Some(0));
        let vs = gl.versions(&model);
        assert_eq!(vs.len(), 2);
        assert_eq!(
            kv_str(&vs[1]["tags"], "gitlab.version").as_deref(),
            Some("2.0.0")
        );
        assert_eq!(
            kv_str(&vs[1]["tags"], "mlops.alias.production").as_deref(),
            Some("1.0.0")
        );
        assert_eq!(
            kv_str(&vs[1]["tags"], "mlops.alias.staging").as_deref(),
            Some("2.0.0")
        );

        let run3 = gl.seed_run("runs", &[("accuracy", 0.92)]);
        let eval = |min: &str| {
            let args = [
                "evaluate",
                "--run-id",
                &run3,
                "--metric",
                "accuracy",
                "--threshold",
                "0.5",
                "--registered-model",
                &model,
                "--compare-alias",
                "production",
                "--min-improvement",
                min,
            ];
            stage(dir, &gl.uri, &args, &env)
        };
        let o = eval("0.01");
        assert_eq!(o.status.code(), Some(0), "{}", transcript_of(&o));
        let ev = report(dir, "evaluate.json");
        assert_eq!(
            (&ev["production"]["version"], &ev["production"]["value"]),
            (&json!("1.0.0"), &json!(0.9))
        );
        assert_eq!(eval("0.05").status.code(), Some(1));
        assert!(gl.unsupported().is_empty(), "{:?}", gl.unsupported());
    }
}
