//! The one way files are written: through a temporary file in the same directory, renamed
//! over the target, so a crash or a full disk never leaves half a file, and a failed write
//! leaves no temporary file behind.

use std::path::Path;

/// Writes `text` to `path` atomically, creating the parent directory.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.{}.mlops-tmp", std::process::id()));
    let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_creates_parents_and_leaves_no_temp_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/out.txt");
        super::write(&path, "one").unwrap();
        super::write(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1);
        // A directory in the way: the write fails, and no temporary file stays.
        let dir = tmp.path().join("d");
        std::fs::create_dir_all(dir.join("x")).unwrap();
        assert!(super::write(&dir.join("x"), "no").is_err());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    /// Every file mlops writes goes through [`super::write`]; a direct write would leave half
    /// a file (or a zero-byte one) on a full disk. Model downloads are the one exception:
    /// they stream into a scratch directory and remove the file when the copy fails.
    #[test]
    fn every_writer_goes_through_atomic_write() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, found);
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                // Only the code before the file's tests.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (n, line) in code.lines().enumerate() {
                    let direct = ["fs::write(", "File::create(", "OpenOptions::new("]
                        .iter()
                        .any(|w| line.contains(w));
                    if direct {
                        found.push(format!("{}:{}", p.display(), n + 1));
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        let allowed = |f: &String| {
            f.contains("src/atomic.rs:") || f.contains("src/runtime/mlflow/client.rs:")
        };
        let others: Vec<&String> = found.iter().filter(|f| !allowed(f)).collect();
        assert!(
            others.is_empty(),
            "write through crate::atomic::write: {others:?}"
        );
    }
}
