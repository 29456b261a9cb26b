//! Child processes: argv only (never a shell), output streamed to stderr with a prefix,
//! SIGTERM and SIGINT forwarded to the child, and an optional timeout.
//!
//! Signals need a handler, which std cannot install without `unsafe`; `signal-hook`'s
//! `flag::register_usize` is a safe wrapper that only stores the signal number in an atomic.
//! `rustix::process::kill_process` forwards it, also without `unsafe`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::runtime::log;

/// How long a child may take to stop after a forwarded signal before it is killed.
pub const GRACE: Duration = Duration::from_secs(10);

/// Lines of output kept for error messages.
const TAIL_LINES: usize = 60;

/// The signal this process received (0 when none), set by the handler.
fn received() -> &'static Arc<AtomicUsize> {
    static FLAG: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicUsize::new(0));
        for sig in [SIGTERM, SIGINT] {
            // Failing to install a handler only loses forwarding; the child still runs.
            let _ = signal_hook::flag::register_usize(sig, Arc::clone(&flag), sig as usize);
        }
        flag
    })
}

/// Installs the SIGTERM/SIGINT handlers now (before any child starts).
pub fn install_signal_handlers() {
    let _ = received();
}

/// The signal received so far, if any.
pub fn received_signal() -> Option<i32> {
    match received().load(Ordering::SeqCst) {
        0 => None,
        s => i32::try_from(s).ok(),
    }
}

/// A child to run.
#[derive(Debug, Clone)]
pub struct Spawn {
    /// The program (looked up on `PATH`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Prefix of each output line in the log.
    pub prefix: String,
    /// Stop the child after this long.
    pub timeout: Option<Duration>,
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// It died from a signal nobody forwarded (the OOM killer, a crash).
    Signalled(i32),
    /// This process received the signal and forwarded it.
    Interrupted(i32),
    /// The timeout ran out and the child was stopped.
    TimedOut,
}

/// The result of a finished child.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub ended: Ended,
    /// The last lines of its output (stdout and stderr interleaved).
    pub tail: Vec<String>,
    /// How long it ran.
    pub duration: Duration,
}

impl Outcome {
    /// The tail as one string.
    pub fn tail_text(&self) -> String {
        self.tail.join("\n")
    }
}

// The values move into the reader thread, which owns them until the stream ends.
#[allow(clippy::needless_pass_by_value)]
fn pump(
    stream: impl Read,
    prefix: String,
    tail: Arc<Mutex<VecDeque<String>>>,
    done: mpsc::Sender<()>,
) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches(['\n', '\r']);
                log::child_line(&prefix, line);
                if let Ok(mut t) = tail.lock() {
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(crate::runtime::mlflow::redact::mask(line));
                }
            }
        }
    }
    let _ = done.send(());
}

fn send(child: &std::process::Child, sig: i32) {
    let signal = if sig == SIGINT {
        rustix::process::Signal::INT
    } else {
        rustix::process::Signal::TERM
    };
    let _ = rustix::process::kill_process(rustix::process::Pid::from_child(child), signal);
}

/// Runs the child to the end. `Err` only when it cannot be started (for example, not found).
pub fn run(spec: &Spawn) -> std::io::Result<Outcome> {
    install_signal_handlers();
    let start = Instant::now();
    let mut child = Command::new(&spec.program)
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let (tx, rx) = mpsc::channel();
    let mut pumps = 0;
    if let Some(out) = child.stdout.take() {
        let (t, p, d) = (Arc::clone(&tail), spec.prefix.clone(), tx.clone());
        std::thread::spawn(move || pump(out, p, t, d));
        pumps += 1;
    }
    if let Some(err) = child.stderr.take() {
        let (t, p, d) = (Arc::clone(&tail), spec.prefix.clone(), tx.clone());
        std::thread::spawn(move || pump(err, p, t, d));
        pumps += 1;
    }
    drop(tx);

    let mut forwarded: Option<(i32, Instant)> = None;
    let mut timed_out: Option<Instant> = None;
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        if forwarded.is_none() {
            if let Some(sig) = received_signal() {
                send(&child, sig);
                forwarded = Some((sig, Instant::now()));
            }
        }
        if timed_out.is_none() && spec.timeout.is_some_and(|t| start.elapsed() > t) {
            send(&child, SIGTERM);
            timed_out = Some(Instant::now());
        }
        let since = forwarded.map(|f| f.1).or(timed_out);
        if since.is_some_and(|s| s.elapsed() > GRACE) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    // A grandchild may hold the pipes open after the child exits; do not wait for it forever.
    for _ in 0..pumps {
        if rx.recv_timeout(Duration::from_secs(2)).is_err() {
            break;
        }
    }
    let ended = if timed_out.is_some() {
        Ended::TimedOut
    } else if let Some((sig, _)) = forwarded {
        Ended::Interrupted(sig)
    } else if let Some(code) = status.code() {
        Ended::Exited(code)
    } else {
        Ended::Signalled(status.signal().unwrap_or(0))
    };
    let tail = tail
        .lock()
        .map(|t| t.iter().cloned().collect())
        .unwrap_or_default();
    Ok(Outcome {
        ended,
        tail,
        duration: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Option<Duration>) -> Outcome {
        run(&Spawn {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("X_TEST".into(), "v".into())],
            prefix: "[t] ".into(),
            timeout,
        })
        .unwrap()
    }

    #[test]
    fn exit_codes_tail_and_timeout() {
        let o = sh("echo \"$X_TEST\"; echo err >&2; exit 3", None);
        assert_eq!(o.ended, Ended::Exited(3));
        assert!(o.tail.contains(&"v".to_owned()) && o.tail.contains(&"err".to_owned()));
        let o = sh("sleep 5", Some(Duration::from_millis(200)));
        assert_eq!(o.ended, Ended::TimedOut);
        assert!(o.duration < Duration::from_secs(4));
        let missing = run(&Spawn {
            program: "/nonexistent/prog".into(),
            args: vec![],
            env: vec![],
            prefix: String::new(),
            timeout: None,
        });
        assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }
}
