//! Signals and the training timeout reach the script's children (its process group), and
//! `train_timeout` stops a script that runs too long: SIGTERM, SIGKILL after the grace
//! period, the run KILLED, exit 1.

use std::path::Path;
use std::time::{Duration, Instant};

use super::unavailable::{spawn_train, terminate, wait_for};
use crate::gitlab::{Generation, Replica};
use crate::harness::{self, transcript_of};

/// A script that starts `sleep 300`, records its pid, and sleeps itself; with `stubborn` it
/// ignores SIGTERM.
fn script(dir: &Path, stubborn: bool) {
    let ignore = if stubborn {
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("train.py"),
        format!(
            "import signal, subprocess, time\n{ignore}p = subprocess.Popen(['sleep', '300'])\nopen('child.pid', 'w').write(str(p.pid))\nprint('started', flush=True)\ntime.sleep(300)\n"
        ),
    )
    .expect("script");
}

/// Whether the process is running (not gone, not a zombie).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

fn child_pid(dir: &Path) -> String {
    assert!(
        wait_for(Duration::from_secs(30), || dir.join("child.pid").is_file()),
        "the script never started its child"
    );
    std::thread::sleep(Duration::from_millis(100));
    std::fs::read_to_string(dir.join("child.pid")).expect("pid")
}

fn report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("mlops-reports/train.json")).expect("train.json");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn sigterm_reaches_the_scripts_children() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    script(tmp.path(), false);
    let child = spawn_train(tmp.path(), &gl.uri, &[]);
    let pid = child_pid(tmp.path());
    terminate(&child);
    let o = child.wait_with_output().expect("waits");
    assert_eq!(o.status.code(), Some(143), "{}", transcript_of(&o));
    assert!(
        wait_for(Duration::from_secs(3), || !alive(&pid)),
        "`sleep` {pid} outlived the job"
    );
    let r = report(tmp.path());
    assert_eq!(r["run_status"], "KILLED", "{r}");
}

#[test]
fn train_timeout_stops_a_stubborn_script_and_its_children() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    script(tmp.path(), true);
    let start = Instant::now();
    let child = spawn_train(tmp.path(), &gl.uri, &[("MLOPS_TRAIN_TIMEOUT", "12s")]);
    let pid = child_pid(tmp.path());
    let o = child.wait_with_output().expect("waits");
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    // 12 s (the bootstrap imports MLflow first), then 10 s of grace for a script that ignores SIGTERM, then SIGKILL.
    assert!(
        start.elapsed() < Duration::from_secs(50),
        "{:?}",
        start.elapsed()
    );
    assert!(all.contains("ran longer than `train_timeout`"), "{all}");
    assert!(!alive(&pid), "`sleep` {pid} outlived the job");
    let r = report(tmp.path());
    assert_eq!(
        (r["status"].as_str(), r["run_status"].as_str()),
        (Some("killed"), Some("KILLED")),
        "{r}"
    );
    let run_id = r["run_id"].as_str().expect("run id");
    assert_eq!(gl.run(run_id)["info"]["status"], "KILLED");
}
