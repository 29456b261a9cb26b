//! Child processes: argv only (never a shell), output streamed to stderr with a prefix,
//! SIGTERM and SIGINT forwarded to the child, and an optional timeout.
//!
//! Signals need a handler, which std cannot install without `unsafe`; `signal-hook`'s
//! `flag::register_usize` is a safe wrapper that only stores the signal number in an atomic.
//! `rustix::process::kill_process` forwards it, also without `unsafe`.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGKILL, SIGTERM};

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

/// The longest piece of output printed as one line: a longer line (or output without any
/// newline) is printed in pieces of this size, so memory stays bounded whatever the child
/// writes.
const MAX_LINE: usize = 64 * 1024;

// The values move into the reader thread, which owns them until the stream ends.
#[allow(clippy::needless_pass_by_value)]
fn pump(
    stream: impl Read,
    prefix: String,
    tail: Arc<Mutex<VecDeque<String>>>,
    done: mpsc::Sender<()>,
) {
    let emit = |bytes: &[u8]| {
        let line = String::from_utf8_lossy(bytes);
        let line = line.trim_end_matches(['\n', '\r']);
        log::child_line(&prefix, line);
        if let Ok(mut t) = tail.lock() {
            if t.len() == TAIL_LINES {
                t.pop_front();
            }
            t.push_back(crate::redact::mask(line));
        }
    };
    let mut reader = BufReader::with_capacity(MAX_LINE, stream);
    let mut line: Vec<u8> = Vec::new();
    loop {
        let buf = match reader.fill_buf() {
            Ok([]) => break,
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (take, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) if line.len() + i < MAX_LINE => (i + 1, true),
            _ => (buf.len().min(MAX_LINE - line.len()), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if complete || line.len() >= MAX_LINE {
            emit(&line);
            line.clear();
        }
    }
    if !line.is_empty() {
        emit(&line);
    }
    let _ = done.send(());
}

/// Sends `sig` to the child's process group: the script and every process it started (a
/// data loader's workers, a shell's children), which share the group the child leads.
fn send(child: &std::process::Child, sig: i32) {
    let signal = match sig {
        SIGINT => rustix::process::Signal::INT,
        SIGKILL => rustix::process::Signal::KILL,
        _ => rustix::process::Signal::TERM,
    };
    let pid = rustix::process::Pid::from_child(child);
    if rustix::process::kill_process_group(pid, signal).is_err() {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Runs the child to the end. `Err` only when it cannot be started (for example, not found).
pub fn run(spec: &Spawn) -> std::io::Result<Outcome> {
    install_signal_handlers();
    let start = Instant::now();
    // Its own process group, so that a forwarded signal reaches its children too.
    let mut child = Command::new(&spec.program)
        .process_group(0)
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
            send(&child, SIGKILL);
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
    fn a_timeout_stops_the_children_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > '{}'; wait", pidfile.display());
        let o = sh(&script, Some(Duration::from_millis(300)));
        assert_eq!(o.ended, Ended::TimedOut);
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        // Running, unless gone or a zombie (its state after `)` is `Z`).
        let alive = || {
            std::fs::read_to_string(&stat).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| !r.trim_start().starts_with('Z'))
            })
        };
        let since = Instant::now();
        while alive() {
            assert!(
                since.elapsed() < Duration::from_secs(3),
                "the grandchild still runs"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn long_lines_come_in_bounded_pieces() {
        let o = sh(
            "head -c 200000 /dev/zero | tr '\\0' x; echo; echo end",
            None,
        );
        assert_eq!(o.ended, Ended::Exited(0));
        let long: Vec<&String> = o.tail.iter().filter(|l| l.starts_with('x')).collect();
        assert_eq!(
            long.len(),
            4,
            "{:?}",
            o.tail.iter().map(String::len).collect::<Vec<_>>()
        );
        assert!(long.iter().all(|l| l.len() <= MAX_LINE));
        assert_eq!(long.iter().map(|l| l.len()).sum::<usize>(), 200_000);
        assert_eq!(o.tail.last().map(String::as_str), Some("end"));
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
