//! The structural fingerprint: a hash of the generated pipeline with the fingerprint itself
//! blanked. Anything that changes the YAML changes it; thresholds and paths, read at run time,
//! do not. The runtime recomputes it from `mlops.toml` and stops when the committed YAML is
//! stale.

/// FNV-1a, 64 bits, as 16 lowercase hex digits. Stable across platforms and releases.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vectors() {
        assert_eq!(super::fingerprint(""), "cbf29ce484222325");
        assert_eq!(super::fingerprint("a"), "af63dc4c8601ec8c");
    }
}
