//! CSV with pandas' `read_csv` defaults: the NA tokens, int → float when a null appears,
//! `True`/`False` booleans, and everything else as strings (spec B6).
//!
//! One pass over the file types every column as it goes. Only a column that turns into a
//! string column after numbers or booleans were seen needs its original text back
//! (`"1.50"` must stay `"1.50"`); those columns alone are read again in a second pass.

use std::fs::File;
use std::path::Path;

use super::column::{BOOL_NULL, Column, Dtype, StrColumn, Values};
use super::{DataError, Table};

/// `pandas._libs.parsers.STR_NA_VALUES`: exact matches only.
pub fn is_na(s: &str) -> bool {
    matches!(
        s,
        "" | "#N/A"
            | "#N/A N/A"
            | "#NA"
            | "-1.#IND"
            | "-1.#QNAN"
            | "-NaN"
            | "-nan"
            | "1.#IND"
            | "1.#QNAN"
            | "<NA>"
            | "N/A"
            | "NA"
            | "NULL"
            | "NaN"
            | "None"
            | "n/a"
            | "nan"
            | "null"
    )
}

/// What one field parses as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token {
    /// An NA token.
    Na,
    /// An integer.
    Int(i64),
    /// A float (decimal point, exponent, `inf`, or an integer too large for `i64`).
    Float(f64),
    /// `True`/`TRUE`/`true` or the `False` spellings.
    Bool(bool),
    /// Anything else.
    Str,
}

/// Classifies one field the way pandas' C parser would.
pub fn classify(s: &str) -> Token {
    if is_na(s) {
        return Token::Na;
    }
    match s {
        "True" | "TRUE" | "true" => return Token::Bool(true),
        "False" | "FALSE" | "false" => return Token::Bool(false),
        _ => {}
    }
    // pandas' number parsers skip surrounding blanks.
    let t = s.trim_matches(|c| c == ' ' || c == '\t');
    let Some(&first) = t.as_bytes().first() else {
        return Token::Str;
    };
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'I')) {
        return Token::Str;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Token::Int(i);
    }
    // Rust also accepts `nan` and `infinity` spellings; pandas reads `inf`/`Infinity` but
    // no NaN spelling outside the NA list.
    let body = t.trim_start_matches(['-', '+']);
    let alpha = body
        .bytes()
        .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E');
    if alpha && !(body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity")) {
        return Token::Str;
    }
    t.parse::<f64>().map_or(Token::Str, Token::Float)
}

/// A column being built.
enum Builder {
    /// Only NA so far (this many).
    Empty(usize),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<u8>),
    Str(StrColumn),
    /// Became a string column after typed values: read again in a second pass.
    Reread,
}

impl Builder {
    fn push(&mut self, tok: Token, s: &str) {
        match self {
            Builder::Empty(n) => {
                let n = *n;
                *self = match tok {
                    Token::Na => Builder::Empty(n + 1),
                    Token::Int(i) if n == 0 => Builder::Int(vec![i]),
                    Token::Int(i) => Builder::Float(nan_then(n, i as f64)),
                    Token::Float(f) => Builder::Float(nan_then(n, f)),
                    Token::Bool(b) => {
                        let mut v = vec![BOOL_NULL; n];
                        v.push(u8::from(b));
                        Builder::Bool(v)
                    }
                    Token::Str => {
                        let mut c = StrColumn::default();
                        for _ in 0..n {
                            c.push(None);
                        }
                        c.push(Some(s));
                        Builder::Str(c)
                    }
                };
            }
            Builder::Int(v) => match tok {
                Token::Int(i) => v.push(i),
                Token::Na | Token::Float(_) => {
                    // pandas: an int column with a null or a decimal becomes float64.
                    let mut f: Vec<f64> = v.iter().map(|&i| i as f64).collect();
                    f.push(if let Token::Float(x) = tok {
                        x
                    } else {
                        f64::NAN
                    });
                    *self = Builder::Float(f);
                }
                Token::Bool(_) | Token::Str => *self = Builder::Reread,
            },
            Builder::Float(v) => match tok {
                Token::Na => v.push(f64::NAN),
                Token::Int(i) => v.push(i as f64),
                Token::Float(f) => v.push(f),
                Token::Bool(_) | Token::Str => *self = Builder::Reread,
            },
            Builder::Bool(v) => match tok {
                Token::Na => v.push(BOOL_NULL),
                Token::Bool(b) => v.push(u8::from(b)),
                _ => *self = Builder::Reread,
            },
            Builder::Str(c) => c.push(if tok == Token::Na { None } else { Some(s) }),
            Builder::Reread => {}
        }
    }

    fn finish(self, name: String) -> Option<Column> {
        let (dtype, values, nulls) = match self {
            // pandas reads an all-empty column as float64 full of NaN.
            Builder::Empty(n) => (Dtype::Float64, Values::Float(vec![f64::NAN; n]), n),
            Builder::Int(v) => (Dtype::Int64, Values::Int(v), 0),
            Builder::Float(v) => {
                let n = v.iter().filter(|x| x.is_nan()).count();
                (Dtype::Float64, Values::Float(v), n)
            }
            Builder::Bool(v) => {
                let n = v.len() - v.iter().filter(|&&b| b < BOOL_NULL).count();
                // A bool column with a null is `object` holding Python bools.
                let d = if n == 0 { Dtype::Bool } else { Dtype::Object };
                (d, Values::Bool(v), n)
            }
            Builder::Str(mut c) => {
                c.finish();
                let n = c
                    .codes
                    .iter()
                    .filter(|&&x| x == super::column::NULL_CODE)
                    .count();
                (Dtype::Object, Values::Str(c), n)
            }
            Builder::Reread => return None,
        };
        Some(Column {
            name,
            dtype,
            values,
            null_count: nulls,
        })
    }
}

fn nan_then(n: usize, x: f64) -> Vec<f64> {
    let mut v = vec![f64::NAN; n];
    v.push(x);
    v
}

fn open(path: &Path) -> Result<::csv::Reader<File>, DataError> {
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
fn header_names(path: &Path, rec: &::csv::ByteRecord) -> Result<Vec<String>, DataError> {
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

fn read_err(path: &Path, e: &::csv::Error) -> DataError {
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
fn record_text<'r>(
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

/// Reads a CSV file.
pub fn read(path: &Path) -> Result<Table, DataError> {
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
            b.push(classify(s), s);
        }
    }
    check_closed_quotes(path, last_start)?;
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
                null_count: col
                    .codes
                    .iter()
                    .filter(|&&c| c == super::column::NULL_CODE)
                    .count(),
                values: Values::Str(col),
            });
        }
    }
    Ok(Table {
        path: path.to_path_buf(),
        rows,
        columns: columns.into_iter().flatten().collect(),
    })
}

/// The `csv` crate reads an unterminated quote to the end of the file as one field; pandas
/// says "EOF inside string". Such a field can only be the last record, so only its bytes
/// are checked: an odd number of quote characters means the quote never closed.
fn check_closed_quotes(path: &Path, (byte, line): (u64, u64)) -> Result<(), DataError> {
    use std::io::{Read, Seek, SeekFrom};
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

/// Field end offsets of a record, for slicing its text without re-validating UTF-8.
trait BoundsEnds {
    fn bounds_ends(&self) -> impl Iterator<Item = usize>;
}

impl BoundsEnds for ::csv::ByteRecord {
    fn bounds_ends(&self) -> impl Iterator<Item = usize> {
        let mut end = 0;
        self.iter().map(move |f| {
            end += f.len();
            end
        })
    }
}
