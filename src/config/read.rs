//! Reading `mlops.toml` from disk into a [`Source`]: the one place the config layer touches
//! the file system. Failures are returned as a [`ReadError`] with a hint; the caller prints.

use std::path::Path;

use super::source::Source;

/// Why a config file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is missing or unreadable.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("`{path}` is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The path as given.
        path: String,
        /// The offset of the first invalid byte.
        offset: usize,
    },
}

impl ReadError {
    /// What to do about it, when there is something to do.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("run `mlops init` to create one, or pass `-c PATH`")
            }
            ReadError::Io { .. } => None,
            ReadError::NotUtf8 { .. } => Some("save the file as UTF-8"),
        }
    }
}

/// Reads a config file; the source is named as [`display_path`] writes the path.
pub fn read_source(path: &Path) -> Result<Source, ReadError> {
    let shown = || path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: shown(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        path: shown(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    Ok(Source::new(display_path(path), text))
}

/// A path as written in messages and generated files: forward slashes, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_with_forward_slashes_and_no_dot_prefix() {
        assert_eq!(display_path(Path::new("./ci/mlops.toml")), "ci/mlops.toml");
        assert_eq!(display_path(Path::new("ci\\mlops.toml")), "ci/mlops.toml");
    }

    #[test]
    fn errors_say_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = read_source(&dir.path().join("mlops.toml")).expect_err("missing");
        assert!(
            missing.to_string().starts_with("cannot read `"),
            "{missing}"
        );
        assert_eq!(
            missing.hint(),
            Some("run `mlops init` to create one, or pass `-c PATH`")
        );
        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(&latin1, b"a = \"\xe9\"\n").expect("write");
        let e = read_source(&latin1).expect_err("not UTF-8");
        assert!(
            e.to_string()
                .ends_with("is not UTF-8 (invalid byte at offset 5)"),
            "{e}"
        );
        assert_eq!(e.hint(), Some("save the file as UTF-8"));
    }
}
