//! JSON pointers into the parsed config (RFC 6901), and how a TOML user names the key one
//! points at.

/// Appends one escaped segment to a JSON pointer (RFC 6901).
pub fn push_pointer(base: &str, segment: &str) -> String {
    let escaped = segment.replace('~', "~0").replace('/', "~1");
    format!("{base}/{escaped}")
}

/// `model.wine.min_threshold`, the way a TOML user names a key.
pub fn toml_path(pointer: &str) -> String {
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|raw| {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            if seg.parse::<usize>().is_ok() {
                format!("[{seg}]")
            } else if !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                format!(".{seg}")
            } else {
                format!(".{}", serde_json::to_string(&seg).unwrap_or(seg))
            }
        })
        .collect();
    let joined = parts.concat();
    let trimmed = joined.strip_prefix('.').unwrap_or(&joined);
    if trimmed.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{trimmed}`")
    }
}
