//! The one-pass read: every record through the `csv` crate, so quotes are honoured and any
//! problem is reported with its exact line.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::builder::Builder;
use super::record::{BoundsEnds, header_names, open, read_err, record_text};
use super::reread::finish_columns;
use super::token::classify_for;
use crate::runtime::data::{DataError, Table};

/// Reads a CSV file in one pass.
pub(super) fn read_serial(path: &Path, keep: bool) -> Result<Table, DataError> {
    let mut rdr = open(path)?;
    let mut rec = ::csv::ByteRecord::new();
    let has_header = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| read_err(path, &e))?;
    if !has_header {
        return Err(DataError::new(
            path,
            "the file is empty",
            "a CSV file needs at least a header row",
        ));
    }
    let names = header_names(path, &rec)?;
    let width = names.len();
    let mut builders: Vec<Builder> = (0..width).map(|_| Builder::Empty(0)).collect();
    let mut rows = 0usize;
    let mut last_start = (0u64, 1u64);
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| read_err(path, &e))?
    {
        rows += 1;
        if let Some(p) = rec.position() {
            last_start = (p.byte(), p.line());
        }
        let text = record_text(path, &rec, rows, width)?;
        let mut start = 0;
        for (b, end) in builders.iter_mut().zip(rec.bounds_ends()) {
            let s = &text[start..end];
            start = end;
            b.push(classify_for(s, keep), s, keep);
        }
    }
    check_closed_quotes(path, last_start)?;
    let columns = finish_columns(path, builders, &names, width)?;
    Ok(Table {
        path: path.to_path_buf(),
        rows,
        columns,
    })
}

/// The `csv` crate reads an unterminated quote to the end of the file as one field; pandas
/// says "EOF inside string". Such a field can only be the last record, so only its bytes
/// are checked: an odd number of quote characters means the quote never closed.
fn check_closed_quotes(path: &Path, (byte, line): (u64, u64)) -> Result<(), DataError> {
    let mut f = File::open(path).map_err(|e| {
        DataError::new(path, format!("cannot open the file: {e}"), "check the path")
    })?;
    let mut tail = Vec::new();
    f.seek(SeekFrom::Start(byte))
        .and_then(|_| f.read_to_end(&mut tail))
        .map_err(|e| {
            DataError::new(path, format!("cannot read the file: {e}"), "check the file")
        })?;
    if tail.iter().map(|&b| usize::from(b == b'"')).sum::<usize>() % 2 == 1 {
        return Err(DataError::new(
            path,
            format!("line {line}: a quoted field is never closed (end of file inside a string)"),
            "close the quote, or escape a quote inside a quoted field as `\"\"`",
        ));
    }
    Ok(())
}
