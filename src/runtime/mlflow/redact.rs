//! Keeps secrets out of every message: the token, and any `user:password@` in a URI.

/// Replaces secrets in text before it is logged or written.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// What a secret is replaced with (GitLab's own word for masked values).
pub const MASK: &str = "[MASKED]";

impl Redactor {
    /// A redactor for these secrets (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    /// `text` with every secret and URI password masked.
    pub fn apply(&self, text: &str) -> String {
        let mut out = strip_userinfo(text);
        for s in &self.secrets {
            out = out.replace(s.as_str(), MASK);
        }
        out
    }
}

/// Masks `user:pass@` in `scheme://user:pass@host` occurrences.
pub fn strip_userinfo(text: &str) -> String {
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
}
