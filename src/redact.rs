//! Keeps secrets out of every message: the token, the password of a `user:password@` URI,
//! `MLFLOW_TRACKING_PASSWORD` and `AWS_SECRET_ACCESS_KEY`, each in the forms it travels in:
//! plain, URL-encoded (percent-encoded in a URI) and inside HTTP Basic credentials
//! (`base64(user:password)`), as a script's MLflow client may print them.
//!
//! A stage registers its secrets once ([`register`]); every log line, error and report file
//! then passes through [`mask`], so output that no caller redacted (a script's own lines) is
//! masked too.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

/// Replaces secrets in text before it is logged or written.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// What a secret is replaced with (GitLab's own word for masked values).
pub const MASK: &str = "[MASKED]";

/// Secrets shorter than this are not searched for in their encoded forms: a one-letter
/// password would mask every base64 string it happens to be in.
const MIN_ENCODED: usize = 4;

impl Redactor {
    /// A redactor for these secrets (empty ones are ignored), in the forms given.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut r = Self::default();
        r.add(secrets);
        r
    }

    /// A redactor for the token and the URI's password, and the secrets the environment
    /// holds (`MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`,
    /// `AWS_SECRET_ACCESS_KEY`), in every form they travel in.
    pub fn for_connection(
        uri: &str,
        token: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let mut all = Vec::new();
        if let Some(t) = token {
            all.extend(forms(None, t));
        }
        if let Some((user, password)) = userinfo(uri) {
            let decoded = percent_decode(&password);
            all.extend(forms(Some(&user), &password));
            all.extend(forms(Some(&percent_decode(&user)), &decoded));
        }
        if let Some(p) = env("MLFLOW_TRACKING_PASSWORD") {
            all.extend(forms(env("MLFLOW_TRACKING_USERNAME").as_deref(), &p));
        }
        if let Some(k) = env("AWS_SECRET_ACCESS_KEY") {
            all.extend(forms(None, &k));
        }
        Self::new(all)
    }

    fn add(&mut self, secrets: impl IntoIterator<Item = String>) {
        for s in secrets {
            if !s.is_empty() && !self.secrets.contains(&s) {
                self.secrets.push(s);
            }
        }
        // Longest first, so a secret containing another is masked whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// `text` with every secret and URI password masked.
    pub fn apply(&self, text: &str) -> String {
        let mut out = strip_userinfo(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

/// The forms `secret` may be printed in: plain, percent-encoded, and base64 as HTTP Basic
/// credentials (`user:secret`, and inside any base64 text: [`base64_cores`]).
fn forms(user: Option<&str>, secret: &str) -> Vec<String> {
    let mut v = vec![secret.to_owned()];
    if secret.len() < MIN_ENCODED {
        return v;
    }
    v.push(percent_encode(secret));
    v.push(percent_encode(secret).replace("%20", "+"));
    if let Some(u) = user {
        v.push(base64(&format!("{u}:{secret}")));
    }
    for plain in [
        secret.to_owned(),
        format!(":{secret}"),
        format!("{secret}:"),
    ] {
        // The padding depends on what follows; match without it.
        v.push(base64(&plain).trim_end_matches('=').to_owned());
    }
    v.extend(base64_cores(secret));
    v
}

/// The `(user, password)` of `scheme://user:password@host`, still percent-encoded.
fn userinfo(uri: &str) -> Option<(String, String)> {
    let rest = &uri[uri.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let info = &authority[..authority.rfind('@')?];
    let (user, password) = info.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What base64 makes of `secret` wherever it stands in the encoded text: for each of the
/// three alignments, the 4-character groups made only of the secret's bytes. Those are the
/// same whatever comes before or after (`base64("any-user:" + secret)`), so masking them
/// hides the secret in Basic credentials with a user nobody told us about.
fn base64_cores(secret: &str) -> Vec<String> {
    let mut cores = Vec::new();
    for k in 0..3 {
        let encoded = base64(&format!("{}{secret}", "\0".repeat(k)));
        let start = if k == 0 { 0 } else { 4 };
        let end = (k + secret.len()) / 3 * 4;
        if end >= start + 8 {
            cores.push(encoded[start..end].to_owned());
        }
    }
    cores
}

/// Standard base64 with padding (RFC 4648), as HTTP Basic uses it.
fn base64(s: &str) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn global() -> &'static Mutex<Redactor> {
    static GLOBAL: OnceLock<Mutex<Redactor>> = OnceLock::new();
    GLOBAL.get_or_init(|| Mutex::new(Redactor::default()))
}

/// Adds `r`'s secrets to those [`mask`] removes from all output of this process.
pub fn register(r: &Redactor) {
    if let Ok(mut g) = global().lock() {
        g.add(r.secrets.iter().cloned());
    }
}

/// `text` with every registered secret, and any `user:password@` in a URI, masked.
pub fn mask(text: &str) -> String {
    match global().lock() {
        Ok(g) => g.apply(text),
        Err(_) => strip_userinfo(text),
    }
}

/// Masks `user:pass@` in `scheme://user:pass@host` occurrences.
pub fn strip_userinfo(text: &str) -> String {
    if !text.contains("://") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        if let Some(at) = authority.rfind('@') {
            out.push_str(MASK);
            out.push_str(&authority[at..]);
        } else {
            out.push_str(authority);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_tokens_and_userinfo() {
        let r = Redactor::new(["glpat-abc".to_owned(), String::new()]);
        assert_eq!(r.apply("Bearer glpat-abc failed"), "Bearer [MASKED] failed");
        assert_eq!(
            r.apply("see https://u:p@host/x and http://host/y"),
            "see https://[MASKED]@host/x and http://host/y"
        );
    }

    #[test]
    fn masks_encoded_forms() {
        assert_eq!(base64("user:p@ss w0rd"), "dXNlcjpwQHNzIHcwcmQ=");
        assert_eq!(base64("ab"), "YWI=");
        let env = |k: &str| (k == "AWS_SECRET_ACCESS_KEY").then(|| "aws/Secret+Key".to_owned());
        let r = Redactor::for_connection(
            "http://user:p%40ss%20w0rd@host:5000",
            Some("tok-123-456789"),
            &env,
        );
        for leak in [
            "Authorization: Basic dXNlcjpwQHNzIHcwcmQ=",
            "password=p%40ss%20w0rd and p@ss w0rd",
            "Bearer tok-123-456789, Basic OnRvay0xMjMtNDU2Nzg5",
            "Basic dXNlcm5hbWU6dG9rLTEyMy00NTY3ODk=",
            "AWS aws/Secret+Key aws%2FSecret%2BKey",
        ] {
            let out = r.apply(leak);
            for s in [
                "dXNlcjpwQHNzIHcwcmQ",
                "p%40ss",
                "p@ss",
                "tok-123",
                "OnRvay0xMjMtNDU2Nzg5",
                "LTEyMy00NTY3ODk",
                "Secret",
            ] {
                assert!(!out.contains(s), "{leak} -> {out}");
            }
        }
    }
}
