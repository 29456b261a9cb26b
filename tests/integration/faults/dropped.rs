//! A loopback proxy in front of the real MLflow server that fails the first N requests:
//! odd ones lose the connection before forwarding, even ones get a 503 whose body echoes the
//! `Authorization` header (so a leak of the token into messages would show). Later requests
//! are forwarded unchanged, with `Connection: close`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::harness::{self, transcript_of, unique};
use crate::runtime::{rest, seed_run, stage};

/// The running proxy.
pub struct FaultProxy {
    /// Its base URL (with the upstream's path).
    pub uri: String,
    /// Requests seen.
    pub seen: Arc<AtomicUsize>,
}

fn read_request(stream: &mut TcpStream) -> Option<(Vec<String>, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let len = head
        .iter()
        .find_map(|h| {
            h.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT/prefix`) failing `failures` requests.
    pub fn start(upstream: &str, failures: usize) -> Self {
        let rest_of = upstream.strip_prefix("http://").expect("http upstream");
        let (authority, path) = rest_of.split_at(rest_of.find('/').unwrap_or(rest_of.len()));
        let authority = authority.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut client) = stream else { continue };
                let authority = authority.clone();
                let n = counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let Some((head, body)) = read_request(&mut client) else {
                        return;
                    };
                    if n < failures {
                        if n % 2 == 0 {
                            return; // drop the connection without an answer
                        }
                        let auth = head
                            .iter()
                            .find(|h| h.to_ascii_lowercase().starts_with("authorization:"))
                            .cloned()
                            .unwrap_or_default();
                        let body = format!("upstream overloaded; request had {auth}");
                        let _ = write!(
                            client,
                            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        return;
                    }
                    let Ok(mut up) = TcpStream::connect(&authority) else {
                        return;
                    };
                    let mut req = String::new();
                    for h in &head {
                        let l = h.to_ascii_lowercase();
                        if l.starts_with("connection:") || l.starts_with("host:") {
                            continue;
                        }
                        req.push_str(h);
                        req.push_str("\r\n");
                    }
                    let _ = write!(req, "Host: {authority}\r\nConnection: close\r\n\r\n");
                    let _ = up.write_all(req.as_bytes());
                    let _ = up.write_all(&body);
                    let mut answer = Vec::new();
                    let _ = up.read_to_end(&mut answer);
                    let _ = client.write_all(&answer);
                });
            }
        });
        Self {
            uri: format!("http://127.0.0.1:{port}{path}"),
            seen,
        }
    }
}

#[test]
fn stages_survive_dropped_connections_and_503s() {
    let Some(uri) = harness::mlflow_uri() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = unique("faulty");
    let run = seed_run(&uri, &model, &[("accuracy", 0.93)]);
    let token = "glpat-proxy-SECRET";
    let env = [
        ("MLOPS_MLFLOW_FLAVOUR", "mlflow"),
        ("MLFLOW_TRACKING_TOKEN", token),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0.05"),
        ("MLFLOW_RUN_ID", run.as_str()),
    ];
    let proxy = FaultProxy::start(&uri, 4);
    let o = stage(
        tmp.path(),
        &proxy.uri,
        &["evaluate", "--metric", "accuracy", "--threshold", "0.9"],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("retry"),
        "the faults were seen and retried: {all}"
    );
    assert!(!all.contains(token), "{all}");

    let proxy = FaultProxy::start(&uri, 6);
    let o = stage(
        tmp.path(),
        &proxy.uri,
        &[
            "register", "--name", &model, "--alias", "champion", "--metric", "accuracy",
        ],
        &env,
    );
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(!all.contains(token), "{all}");
    for f in ["register.json", "register.env", "evaluate.json"] {
        let t = std::fs::read_to_string(tmp.path().join("mlops-reports").join(f)).expect("report");
        assert!(!t.contains(token), "{f}");
    }
    let versions = rest(
        &uri,
        "GET",
        "model-versions/search",
        &json!({"filter": format!("name='{model}'")}),
    );
    assert_eq!(
        versions["model_versions"].as_array().map(Vec::len),
        Some(1),
        "exactly one version: {versions}"
    );
    assert!(proxy.seen.load(Ordering::SeqCst) > 6);
}

/// A 429 with `Retry-After` and an answer cut in the middle are retried; the wait honours
/// `Retry-After` (the backoff alone would retry at once).
#[test]
fn cut_answers_and_retry_after_are_retried() {
    use std::time::{Duration, Instant};

    use super::proxy::{Fault, Proxy, Rule};
    use crate::gitlab::{Generation, Replica, TOKEN};

    let gl = Replica::start(Generation::Current);
    let run = gl.seed_run("cut", &[("accuracy", 0.93)]);
    let proxy = Proxy::start(
        &gl.uri,
        vec![
            Rule::new("GET", "runs/get", Fault::Status(429, Some(2)), Some(1)),
            Rule::new("GET", "runs/get", Fault::DropMidAnswer, Some(1)),
        ],
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let env = [
        ("MLFLOW_TRACKING_TOKEN", TOKEN),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0"),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0"),
    ];
    let start = Instant::now();
    let args = [
        "evaluate",
        "--run-id",
        &run,
        "--metric",
        "accuracy",
        "--threshold",
        "0.9",
    ];
    let o = stage(tmp.path(), &proxy.uri, &args, &env);
    let all = transcript_of(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "Retry-After ignored: {all}"
    );
    assert!(proxy.count("GET", "runs/get") >= 3, "{:?}", proxy.log());
    assert!(!all.contains(TOKEN), "{all}");
}
