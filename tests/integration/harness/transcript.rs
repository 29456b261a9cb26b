//! A command's exit code, stdout and stderr as one block: what snapshots hold and what a
//! failing assertion prints.

use std::process::{Command, Output};

/// Runs `cmd`; its exit code and its transcript.
pub fn transcript(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("the command runs");
    (out.status.code().unwrap_or(-1), transcript_of(&out))
}

/// The transcript of a finished command: `exit: <code>`, then stdout and stderr.
pub fn transcript_of(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
