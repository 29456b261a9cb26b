//! Exit codes, the same for every command (`docs/runtime.md`).

use std::process::ExitCode;

/// The outcome of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Success,
    /// 1: a check or gate failed, or `--check` found a difference.
    Failure,
    /// 2: bad usage, config or input.
    Error,
    /// 75: a temporary infrastructure failure after retries (`EX_TEMPFAIL`).
    TempFail,
    /// A child's own exit code, passed through (a crashed training script), or 128+n for
    /// signal n.
    Code(u8),
}

impl Exit {
    /// 128 + n: stopped by signal `n`, as a shell reports it.
    pub fn signalled(signal: i32) -> Self {
        Exit::Code(128u8.saturating_add(u8::try_from(signal).unwrap_or(0)))
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Error => 2,
            Exit::TempFail => 75,
            Exit::Code(c) => c,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}
