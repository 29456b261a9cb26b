//! Reading the data `mlops run validate` checks into a [`Table`] of typed columns.
//!
//! Contract: the dtypes and nulls are those pandas would produce (`pd.read_csv` with default
//! arguments, or `pd.read_parquet`), because Evidently and Great Expectations both start from
//! them (`docs/data-checks.md`). Every error names the file, and the row or column where
//! there is one.

pub mod column;
pub mod csv;
pub mod drift_columns;
pub mod kinds;
pub mod parquet;
pub mod plot;
pub mod quality;
pub mod sort_key;

use std::path::{Path, PathBuf};

pub use column::{Cell, Column, Dtype, Values};

/// A whole data file in memory.
#[derive(Debug, Clone)]
pub struct Table {
    /// Where it was read from.
    pub path: PathBuf,
    /// The number of data rows.
    pub rows: usize,
    /// The columns, in file order.
    pub columns: Vec<Column>,
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format a path's extension implies (`.parquet`/`.pq` is Parquet, anything else CSV).
    pub fn from_path(path: &Path) -> Self {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "parquet" || e == "pq" => Format::Parquet,
            _ => Format::Csv,
        }
    }
}

/// Why a file could not be read: always exit code 2.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DataError {
    /// The message, naming the file.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl DataError {
    /// An error about `path`.
    pub fn new(path: &Path, what: impl std::fmt::Display, hint: impl Into<String>) -> Self {
        Self {
            message: format!("`{}`: {what}", path.display()),
            hint: hint.into(),
        }
    }
}

/// What a read must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Every value (drift, expectations).
    Values,
    /// Types, kinds and null counts only: a CSV read may drop float values
    /// ([`column::Values::Dropped`]), which halves its memory and time.
    Profile,
}

/// Whether a file whose size is 0 yields bytes anyway (`/proc`, `/sys`).
fn has_content(path: &Path) -> bool {
    use std::io::Read;
    std::fs::File::open(path).is_ok_and(|mut f| f.read(&mut [0u8; 1]).is_ok_and(|n| n > 0))
}

/// Reads `path` as `format` (or as its extension implies).
pub fn load(path: &Path, format: Option<Format>, need: Need) -> Result<Table, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        DataError::new(
            path,
            format!("cannot read the file: {e}"),
            "check `data_path` in mlops.toml or the `--data`/`--reference` flag",
        )
    })?;
    if meta.is_dir() {
        return Err(DataError::new(
            path,
            "is a directory, not a data file",
            "pass a CSV or Parquet file",
        ));
    }
    if !meta.is_file() || (meta.len() == 0 && has_content(path)) {
        // A device (`/dev/urandom`), a FIFO or a socket, or a `/proc` file that says size 0
        // but has content: none has an end or a size to trust.
        return Err(DataError::new(
            path,
            "not a regular file",
            "pass a CSV or Parquet file; copy a stream into a file first",
        ));
    }
    if meta.len() == 0 {
        return Err(DataError::new(
            path,
            "the file is empty",
            "a CSV file needs at least a header row",
        ));
    }
    match format.unwrap_or_else(|| Format::from_path(path)) {
        Format::Csv => csv::read(path, need),
        Format::Parquet => parquet::read(path),
    }
}
