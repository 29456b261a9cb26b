//! What the training script prints: a gigabyte without a newline is streamed in bounded
//! pieces, not held in memory.

use std::time::Duration;

use super::unavailable::spawn_train;
use crate::gitlab::{Generation, Replica};
use crate::harness;

/// The peak resident memory of `pid` in KiB (`VmHWM`), while it runs.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn endless_output_without_newline_uses_bounded_memory() {
    let Some(_py) = harness::python() else { return };
    let gl = Replica::start(Generation::Current);
    let tmp = tempfile::tempdir().expect("tempdir");
    // 128 MiB on stdout, no newline (the unbounded reader peaked at twice that).
    std::fs::write(
        tmp.path().join("train.py"),
        "import sys\nchunk = b'x' * (1 << 20)\nfor _ in range(128):\n    sys.stdout.buffer.write(chunk)\nsys.stdout.flush()\n",
    )
    .expect("script");
    let mut child = spawn_train(tmp.path(), &gl.uri, &[]);
    let pid = child.id();
    // Drain the log so the pipe never blocks mlops; keep only its size.
    let mut err = child.stderr.take().expect("stderr");
    let drain = std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        peak = peak.max(peak_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    let printed = drain.join().expect("drain").expect("copy");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    assert!(printed > 128 << 20, "{printed}");
    assert!(peak < 48 * 1024, "mlops peaked at {peak} KiB");
}
