//! A fault-injecting HTTP proxy in front of a real server (the suite's MLflow, or the GitLab
//! replica). Each request is matched against the rules in order; the first rule whose method
//! and path match, and which has uses left, decides what happens to it:
//!
//! - [`Fault::Status`]: answer 503, 429 (or any status) with an optional `Retry-After`,
//!   without forwarding;
//! - [`Fault::DropMidAnswer`]: forward, then send the status line, the headers and half of
//!   the body, and close;
//! - [`Fault::Delay`]: wait, then forward and answer (a client with a shorter timeout has
//!   given up by then, so the server completes a request nobody hears about);
//! - [`Fault::LoseAnswer`]: forward and complete the request, then close without answering;
//! - [`Fault::Down`]: close at once, forwarding nothing (the server looks unreachable).
//!
//! Requests no rule matches are forwarded unchanged. Every request is logged
//! ([`Proxy::log`]) with what was done to it.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to a matched request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status (with `Retry-After: <s>` when given) and a small JSON body.
    Status(u16, Option<u64>),
    /// Forward, then cut the answer in the middle of its body.
    DropMidAnswer,
    /// Wait this long, then forward and answer.
    Delay(Duration),
    /// Forward and complete, then close without an answer.
    LoseAnswer,
    /// Close without forwarding.
    Down,
}

/// A rule: `method` (`*` for any) and a part of the path, the fault, and how many requests
/// it applies to (`None`: every one).
#[derive(Debug, Clone)]
pub struct Rule {
    method: String,
    path: String,
    fault: Fault,
    uses: Option<usize>,
}

impl Rule {
    /// `fault` for the next `uses` requests `method` whose path contains `path`.
    pub fn new(method: &str, path: &str, fault: Fault, uses: Option<usize>) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            fault,
            uses,
        }
    }
}

/// The running proxy.
pub struct Proxy {
    /// The upstream URI with the proxy's authority (`http://127.0.0.1:<port>/<upstream path>`).
    pub uri: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    log: Arc<Mutex<Vec<String>>>,
}

struct Head {
    method: String,
    path: String,
    lines: Vec<String>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> Option<Head> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut first = String::new();
    if reader.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let mut parts = first.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut lines = vec![first.trim_end().to_owned()];
    let mut len = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        lines.push(h.trim_end().to_owned());
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Head {
        method,
        path,
        lines,
        body,
    })
}

/// Sends the request upstream and returns the whole raw answer.
fn forward(authority: &str, req: &Head) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(authority).ok()?;
    let mut text = String::new();
    for h in &req.lines {
        let l = h.to_ascii_lowercase();
        if l.starts_with("connection:") || l.starts_with("host:") {
            continue;
        }
        text.push_str(h);
        text.push_str("\r\n");
    }
    let _ = write!(text, "Host: {authority}\r\nConnection: close\r\n\r\n");
    up.write_all(text.as_bytes()).ok()?;
    up.write_all(&req.body).ok()?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).ok()?;
    Some(answer)
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT/prefix`) with these rules.
    pub fn start(upstream: &str, rules: Vec<Rule>) -> Self {
        let rest = upstream.strip_prefix("http://").expect("http upstream");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let authority = authority.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let rules = Arc::new(Mutex::new(rules));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (r, l) = (Arc::clone(&rules), Arc::clone(&log));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(client) = stream else { continue };
                let (authority, rules, log) = (authority.clone(), Arc::clone(&r), Arc::clone(&l));
                std::thread::spawn(move || serve(&client, &authority, &rules, &log));
            }
        });
        Self {
            uri: format!("http://127.0.0.1:{port}{path}"),
            rules,
            log,
        }
    }

    /// Adds a rule after the existing ones.
    pub fn add(&self, rule: Rule) {
        self.rules.lock().expect("rules").push(rule);
    }

    /// `"<METHOD> <path> -> <what happened>"` per request, in arrival order.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// How many requests of `method` on a path containing `path` arrived.
    pub fn count(&self, method: &str, path: &str) -> usize {
        let prefix = format!("{method} ");
        self.log()
            .iter()
            .filter(|l| {
                l.starts_with(&prefix) && l.split(" -> ").next().is_some_and(|h| h.contains(path))
            })
            .count()
    }
}

fn take_fault(rules: &Mutex<Vec<Rule>>, req: &Head) -> Option<Fault> {
    let mut rules = rules.lock().expect("rules");
    let rule = rules.iter_mut().find(|r| {
        (r.method == "*" || r.method == req.method)
            && req.path.contains(&r.path)
            && r.uses != Some(0)
    })?;
    if let Some(n) = rule.uses.as_mut() {
        *n -= 1;
    }
    Some(rule.fault.clone())
}

fn serve(client: &TcpStream, authority: &str, rules: &Mutex<Vec<Rule>>, log: &Mutex<Vec<String>>) {
    let Some(req) = read_request(client) else {
        return;
    };
    let fault = take_fault(rules, &req);
    let what = fault
        .as_ref()
        .map_or_else(|| "forwarded".to_owned(), |f| format!("{f:?}"));
    log.lock()
        .expect("log")
        .push(format!("{} {} -> {what}", req.method, req.path));
    let mut out = client;
    match fault {
        None => {
            if let Some(answer) = forward(authority, &req) {
                let _ = out.write_all(&answer);
            }
        }
        Some(Fault::Status(code, retry_after)) => {
            let body = format!(
                "{{\"error_code\":\"TEMPORARILY_UNAVAILABLE\",\"message\":\"injected {code}\"}}"
            );
            let ra = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            let _ = write!(
                out,
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/json\r\n{ra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Some(Fault::DropMidAnswer) => {
            if let Some(answer) = forward(authority, &req) {
                let head_end = answer
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(answer.len(), |p| p + 4);
                let cut = head_end + (answer.len() - head_end) / 2;
                let _ = out.write_all(&answer[..cut.max(head_end.min(answer.len()))]);
            }
        }
        Some(Fault::Delay(d)) => {
            std::thread::sleep(d);
            if let Some(answer) = forward(authority, &req) {
                let _ = out.write_all(&answer);
            }
        }
        Some(Fault::LoseAnswer) => {
            let _ = forward(authority, &req);
        }
        Some(Fault::Down) => {}
    }
    let _ = out.flush();
    let _ = client.shutdown(std::net::Shutdown::Both);
}
