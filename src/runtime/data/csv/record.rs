//! Records from the `csv` crate: opening a file, the header's column names, and the shape
//! and encoding checks of one record, with errors that name the line.

use std::fs::File;
use std::path::Path;

use crate::runtime::data::DataError;

pub(super) fn open(path: &Path) -> Result<::csv::Reader<File>, DataError> {
    let file = File::open(path).map_err(|e| {
        DataError::new(path, format!("cannot open the file: {e}"), "check the path")
    })?;
    Ok(::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file))
}

/// pandas' names for blank and repeated headers: `Unnamed: 3`, `a.1`.
pub(super) fn header_names(path: &Path, rec: &::csv::ByteRecord) -> Result<Vec<String>, DataError> {
    let mut names: Vec<String> = Vec::with_capacity(rec.len());
    for (i, raw) in rec.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        let s = std::str::from_utf8(raw).map_err(|_| {
            DataError::new(
                path,
                format!("line 1 (header), column {}: not valid UTF-8", i + 1),
                "save the file as UTF-8",
            )
        })?;
        let base = if s.is_empty() {
            format!("Unnamed: {i}")
        } else {
            s.to_owned()
        };
        let mut name = base.clone();
        let mut k = 1;
        while names.contains(&name) {
            name = format!("{base}.{k}");
            k += 1;
        }
        names.push(name);
    }
    Ok(names)
}

pub(super) fn read_err(path: &Path, e: &::csv::Error) -> DataError {
    let at = e
        .position()
        .map(|p| format!("line {}: ", p.line()))
        .unwrap_or_default();
    DataError::new(
        path,
        format!("{at}malformed CSV: {e}"),
        "check the quoting of that row",
    )
}

/// Checks one record's shape and encoding; returns it as text.
pub(super) fn record_text<'r>(
    path: &Path,
    rec: &'r ::csv::ByteRecord,
    row: usize,
    width: usize,
) -> Result<&'r str, DataError> {
    let line = rec.position().map_or(row + 1, |p| p.line() as usize);
    if rec.len() != width {
        return Err(DataError::new(
            path,
            format!(
                "line {line} (data row {row}) has {} fields, the header has {width}",
                rec.len()
            ),
            "every row needs one value per header column (quote values that contain commas)",
        ));
    }
    std::str::from_utf8(rec.as_slice()).map_err(|_| {
        let col = rec
            .iter()
            .position(|f| std::str::from_utf8(f).is_err())
            .map_or(0, |c| c + 1);
        DataError::new(
            path,
            format!("line {line} (data row {row}), column {col}: not valid UTF-8"),
            "save the file as UTF-8",
        )
    })
}

/// Field end offsets of a record, for slicing its text without re-validating UTF-8.
pub(super) trait BoundsEnds {
    fn bounds_ends(&self) -> impl Iterator<Item = usize>;
}

impl BoundsEnds for ::csv::ByteRecord {
    #[inline]
    fn bounds_ends(&self) -> impl Iterator<Item = usize> {
        let mut end = 0;
        self.iter().map(move |f| {
            end += f.len();
            end
        })
    }
}
