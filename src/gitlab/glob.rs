//! The glob engine of `rules:changes`: a pattern against a changed path, matched the way
//! GitLab matches it (see `rules:changes` in GitLab's CI/CD YAML reference). `mlops compile
//! --changed-only` uses it to decide which models changed.

/// A `changes` pattern against a path, as GitLab's `File.fnmatch?` with `FNM_PATHNAME |
/// FNM_DOTMATCH | FNM_EXTGLOB`: `*` and `?` stay within a directory, `**/` spans any number,
/// `{a,b}` alternates. A plain path also matches everything below it (a data directory).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    if !pattern.contains(['*', '?', '[', '{']) {
        let dir = pattern.trim_end_matches('/');
        return path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'));
    }
    expand_braces(pattern)
        .iter()
        .any(|p| glob(p.as_bytes(), path.as_bytes()))
}

fn expand_braces(p: &str) -> Vec<String> {
    let Some(open) = p.find('{') else {
        return vec![p.to_owned()];
    };
    let Some(close) = p[open..].find('}').map(|c| open + c) else {
        return vec![p.to_owned()];
    };
    p[open + 1..close]
        .split(',')
        .flat_map(|alt| expand_braces(&format!("{}{alt}{}", &p[..open], &p[close + 1..])))
        .collect()
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    if p.starts_with(b"**/") {
        // Zero or more whole directories.
        let rest = &p[3..];
        if glob(rest, s) {
            return true;
        }
        return s
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == b'/')
            .any(|(i, _)| glob(rest, &s[i + 1..]));
    }
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            let rest = if p.starts_with(b"**") {
                &p[2..]
            } else {
                &p[1..]
            };
            (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| glob(rest, &s[i..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&p[1..], &s[1..]),
        (Some(b'['), Some(c)) => match p.iter().position(|b| *b == b']') {
            Some(end) if end > 1 => {
                let set = &p[1..end];
                let (neg, set) = match set.first() {
                    Some(b'!' | b'^') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == b'-' {
                        hit |= (set[i]..=set[i + 2]).contains(c);
                        i += 3;
                    } else {
                        hit |= set[i] == *c;
                        i += 1;
                    }
                }
                hit != neg && *c != b'/' && glob(&p[end + 1..], &s[1..])
            }
            _ => *c == b'[' && glob(&p[1..], &s[1..]),
        },
        (Some(a), Some(b)) => a == b && glob(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(path_matches("data/**/*", "data/a/b.csv"));
        assert!(path_matches("data/**/*.csv", "data/b.csv"));
        assert!(path_matches("src/*.py", "src/a.py"));
        assert!(!path_matches("src/*.py", "src/x/a.py"));
        assert!(path_matches("{src,lib}/*.py", "lib/a.py"));
        assert!(path_matches("data", "data/train.csv"));
        assert!(path_matches("train.py", "train.py"));
        assert!(!path_matches("train.py", "train.pyc"));
        assert!(path_matches("model_[0-9].py", "model_3.py"));
        assert!(path_matches("**/*.md", "README.md"));
    }
}
