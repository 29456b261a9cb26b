//! The second pass: a column that turned into a string column after numbers or booleans were
//! seen needs its original text back (`"1.50"` must stay `"1.50"`), so those columns alone
//! are read again, as text.

use std::path::Path;

use super::builder::Builder;
use super::record::{open, read_err, record_text};
use super::token::is_na;
use crate::runtime::data::DataError;
use crate::runtime::data::column::{Column, Dtype, NULL_CODE, StrColumn, Values};

/// Builders to columns; the ones that turned into strings after typed values are read again.
pub(super) fn finish_columns(
    path: &Path,
    builders: Vec<Builder>,
    names: &[String],
    width: usize,
) -> Result<Vec<Column>, DataError> {
    let reread: Vec<usize> = builders
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, Builder::Reread))
        .map(|(i, _)| i)
        .collect();
    let mut columns: Vec<Option<Column>> = builders
        .into_iter()
        .zip(names.iter())
        .map(|(b, n)| b.finish(n.clone()))
        .collect();
    if !reread.is_empty() {
        for (i, col) in read_strings(path, &reread, width)? {
            columns[i] = Some(Column {
                name: names[i].clone(),
                dtype: Dtype::Object,
                null_count: col.codes.iter().filter(|&&c| c == NULL_CODE).count(),
                values: Values::Str(col),
            });
        }
    }
    Ok(columns.into_iter().flatten().collect())
}

/// The second pass: the given columns as strings.
fn read_strings(
    path: &Path,
    which: &[usize],
    width: usize,
) -> Result<Vec<(usize, StrColumn)>, DataError> {
    let mut rdr = open(path)?;
    let mut rec = ::csv::ByteRecord::new();
    let mut cols: Vec<(usize, StrColumn)> =
        which.iter().map(|&i| (i, StrColumn::default())).collect();
    let mut first = true;
    let mut row = 0;
    while rdr
        .read_byte_record(&mut rec)
        .map_err(|e| read_err(path, &e))?
    {
        if first {
            first = false;
            continue;
        }
        row += 1;
        record_text(path, &rec, row, width)?;
        for (i, c) in &mut cols {
            let s = std::str::from_utf8(&rec[*i]).unwrap_or_default();
            c.push(if is_na(s) { None } else { Some(s) });
        }
    }
    for (_, c) in &mut cols {
        c.finish();
    }
    Ok(cols)
}
