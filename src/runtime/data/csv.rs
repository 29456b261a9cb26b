//! CSV with pandas' `read_csv` defaults: the NA tokens, int → float when a null appears,
//! `True`/`False` booleans, and everything else as strings (spec B6).
//!
//! One pass over the file types every column as it goes. Only a column that turns into a
//! string column after numbers or booleans were seen needs its original text back
//! (`"1.50"` must stay `"1.50"`); those columns alone are read again in a second pass.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::column::{BOOL_NULL, Column, Dtype, StrColumn, Values};
use super::{DataError, Need, Table};

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

/// Classifies one field the way pandas' C parser would; without `keep`, a plain decimal is
/// `Float(0.0)` (its value is not computed).
fn classify_for(s: &str, keep: bool) -> Token {
    number(s, keep).unwrap_or_else(|| classify_general(s))
}

/// The common shapes in one scan (`value = false` skips computing a float's value): `-?[0-9]{1,18}` is an int (it fits an `i64`), and
/// `-?[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)?` with a digit is a float. `None` for anything
/// else, which [`classify_general`] decides; no NA or boolean token has these shapes.
fn number(s: &str, value: bool) -> Option<Token> {
    let bytes = s.as_bytes();
    let (neg, d) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    // One pass: the digits as an integer (wrapping past 19 digits, when it is not used),
    // the count before and after the point, then an optional exponent.
    let mut mantissa: u64 = 0;
    let mut at = 0;
    while at < d.len() && d[at].is_ascii_digit() {
        mantissa = mantissa
            .wrapping_mul(10)
            .wrapping_add(u64::from(d[at] - b'0'));
        at += 1;
    }
    let whole = at;
    if whole == d.len() {
        if whole == 0 || whole > 18 {
            return None;
        }
        let int = i64::try_from(mantissa).ok()?;
        return Some(Token::Int(if neg { -int } else { int }));
    }
    let mut frac = 0;
    if d[at] == b'.' {
        at += 1;
        while at < d.len() && d[at].is_ascii_digit() {
            mantissa = mantissa
                .wrapping_mul(10)
                .wrapping_add(u64::from(d[at] - b'0'));
            at += 1;
        }
        frac = at - whole - 1;
    }
    if whole + frac == 0 {
        return None;
    }
    let mut exp: i64 = 0;
    if at < d.len() && matches!(d[at], b'e' | b'E') {
        at += 1;
        let minus = at < d.len() && d[at] == b'-';
        if at < d.len() && matches!(d[at], b'-' | b'+') {
            at += 1;
        }
        let first = at;
        while at < d.len() && d[at].is_ascii_digit() {
            exp = exp
                .saturating_mul(10)
                .saturating_add(i64::from(d[at] - b'0'));
            at += 1;
        }
        if at == first {
            return None;
        }
        if minus {
            exp = -exp;
        }
    }
    if at != d.len() {
        return None;
    }
    if !value {
        // Every string of this shape parses (overflow gives inf): the type is certain.
        return Some(Token::Float(0.0));
    }
    let x = exact_decimal(mantissa, whole + frac, exp - i64::try_from(frac).ok()?)
        .or_else(|| s.parse::<f64>().ok().map(f64::abs))?;
    Some(Token::Float(if neg { -x } else { x }))
}

/// Clinger's fast path: a decimal whose `digits` form an integer `m <= 2^53` and whose
/// power of ten `|e| <= 22` is `m * 10^e` or `m / 10^-e` rounded once, because both
/// operands are exact doubles and IEEE multiplication and division round correctly. That is
/// the value a correctly rounding parser (Rust's `parse`) returns. `None` outside that range.
fn exact_decimal(m: u64, digits: usize, e: i64) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if digits > 19 || m > 1 << 53 {
        return None;
    }
    let p = usize::try_from(e.unsigned_abs())
        .ok()
        .filter(|&p| p <= 22)?;
    let m = m as f64;
    Some(if e >= 0 { m * POW10[p] } else { m / POW10[p] })
}

/// [`classify_for`] for every shape: NA tokens, booleans, blanks around numbers, `+`, `inf`.
fn classify_general(s: &str) -> Token {
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
    /// Floats, counted but not kept ([`Need::Profile`]): rows and nulls.
    FloatCount(usize, usize),
    /// Became a string column after typed values: read again in a second pass.
    Reread,
}

impl Builder {
    fn push(&mut self, tok: Token, s: &str, keep: bool) {
        match self {
            Builder::Empty(n) => {
                let n = *n;
                *self = match tok {
                    Token::Na => Builder::Empty(n + 1),
                    Token::Int(i) if n == 0 => Builder::Int(vec![i]),
                    Token::Int(_) | Token::Float(_) if !keep => Builder::FloatCount(n + 1, n),
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
                // pandas: an int column with a null or a decimal becomes float64.
                Token::Na | Token::Float(_) if !keep => {
                    *self = Builder::FloatCount(v.len() + 1, usize::from(tok == Token::Na));
                }
                Token::Na | Token::Float(_) => {
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
            Builder::FloatCount(n, nulls) => match tok {
                Token::Na => {
                    *n += 1;
                    *nulls += 1;
                }
                Token::Int(_) | Token::Float(_) => *n += 1,
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

    /// Appends the builder of the rows that follow (a later chunk of the file), with the
    /// outcome the one-pass read of both would have had.
    fn append(self, next: Builder, keep: bool) -> Builder {
        use Builder::{Bool, Empty, Float, FloatCount, Int, Reread, Str};
        let floats = |v: Vec<i64>| v.into_iter().map(|i| i as f64).collect::<Vec<f64>>();
        match (self, next) {
            (Reread, _) | (_, Reread) => Reread,
            // A chunk without rows (blank lines only) changes nothing.
            (Empty(0), b) => b,
            (a, Empty(0)) => a,
            (Empty(n), Empty(m)) => Empty(n + m),
            (Empty(n), FloatCount(l, nulls)) => FloatCount(n + l, n + nulls),
            (FloatCount(l, nulls), Empty(m)) => FloatCount(l + m, nulls + m),
            (Int(a), FloatCount(l, nulls)) => FloatCount(a.len() + l, nulls),
            (FloatCount(l, nulls), Int(b)) => FloatCount(l + b.len(), nulls),
            (FloatCount(l, a), FloatCount(m, b)) => FloatCount(l + m, a + b),
            // pandas: an int column with a null becomes float64.
            (Empty(n), Int(v)) if !keep => FloatCount(n + v.len(), n),
            (Int(v), Empty(m)) if !keep => FloatCount(v.len() + m, m),
            (Empty(n), Int(v)) => Float(nan_then_all(n, floats(v))),
            (Empty(n), Float(v)) => Float(nan_then_all(n, v)),
            (Empty(n), Bool(v)) => {
                let mut out = vec![BOOL_NULL; n];
                out.extend(v);
                Bool(out)
            }
            (Empty(n), Str(c)) => {
                let mut out = StrColumn::default();
                for _ in 0..n {
                    out.push(None);
                }
                out.append(&c);
                Str(out)
            }
            (Int(v), Empty(m)) => {
                let mut f = floats(v);
                f.resize(f.len() + m, f64::NAN);
                Float(f)
            }
            (Float(mut v), Empty(m)) => {
                v.resize(v.len() + m, f64::NAN);
                Float(v)
            }
            (Bool(mut v), Empty(m)) => {
                v.resize(v.len() + m, BOOL_NULL);
                Bool(v)
            }
            (Str(mut c), Empty(m)) => {
                for _ in 0..m {
                    c.push(None);
                }
                Str(c)
            }
            (Int(mut a), Int(b)) => {
                a.extend(b);
                Int(a)
            }
            (Int(a), Float(b)) => {
                let mut f = floats(a);
                f.extend(b);
                Float(f)
            }
            (Float(mut a), Int(b)) => {
                a.extend(b.into_iter().map(|i| i as f64));
                Float(a)
            }
            (Float(mut a), Float(b)) => {
                a.extend(b);
                Float(a)
            }
            (Bool(mut a), Bool(b)) => {
                a.extend(b);
                Bool(a)
            }
            (Str(mut a), Str(b)) => {
                a.append(&b);
                Str(a)
            }
            // Numbers, booleans and strings mixed: strings whose original text is needed.
            _ => Reread,
        }
    }

    /// Makes room for `n` more values, so a long column is not copied as it grows.
    fn reserve(&mut self, n: usize) {
        match self {
            Builder::Int(v) => v.reserve(n),
            Builder::Float(v) => v.reserve(n),
            Builder::Bool(v) => v.reserve(n),
            Builder::Str(c) => c.codes.reserve(n),
            Builder::Empty(_) | Builder::FloatCount(..) | Builder::Reread => {}
        }
    }

    fn finish(self, name: String) -> Option<Column> {
        let (dtype, values, nulls) = match self {
            Builder::FloatCount(n, nulls) => (Dtype::Float64, Values::Dropped(n), nulls),
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

fn nan_then_all(n: usize, rest: Vec<f64>) -> Vec<f64> {
    let mut v = vec![f64::NAN; n];
    v.extend(rest);
    v
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

/// Files below this size are read by one thread.
const PARALLEL_MIN_BYTES: u64 = 8 << 20;

/// Reads a CSV file: in chunks on every core when the file has no quote character (so every
/// line break ends a record), otherwise, or after any problem, in one pass that reports the
/// exact row.
/// With [`Need::Profile`] float values are counted, not kept.
pub fn read(path: &Path, need: Need) -> Result<Table, DataError> {
    let keep = need == Need::Values;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads > 1 {
        if let Some(t) = read_parallel(path, threads.min(8), PARALLEL_MIN_BYTES, keep) {
            return Ok(t);
        }
    }
    read_serial(path, keep)
}

/// One chunk's builders and row count; `None` when it holds a quote, a lone carriage return,
/// a ragged row, invalid UTF-8 or a read error (the one-pass read then says which).
///
/// Without quotes a record is a line and a field is the text between commas, so lines are
/// split directly, as the `csv` crate would split them: `\n` and `\r\n` end a record,
/// blank lines are skipped. After the first record the builders reserve room for about
/// `room` bytes' worth of rows (the first chunk for the whole file, as the others are
/// appended to it).
fn read_chunk(
    path: &Path,
    (start, end): (u64, u64),
    width: usize,
    room: u64,
    keep: bool,
) -> Option<(Vec<Builder>, usize)> {
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut input = file.take(end - start);
    let mut builders: Vec<Builder> = (0..width).map(|_| Builder::Empty(0)).collect();
    let mut rows = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = input.read(&mut buf[filled..]).ok()?;
        filled += n;
        let upto = if n == 0 {
            filled
        } else {
            match buf[..filled].iter().rposition(|&b| b == b'\n') {
                Some(p) => p + 1,
                None => continue,
            }
        };
        let block = &buf[..upto];
        if block.contains(&b'"') {
            return None;
        }
        let crlf = block.contains(&b'\r');
        for line in std::str::from_utf8(block).ok()?.split('\n') {
            let line = if crlf {
                let l = line.strip_suffix('\r').unwrap_or(line);
                if l.contains('\r') {
                    return None;
                }
                l
            } else {
                line
            };
            if line.is_empty() {
                continue;
            }
            // Fields end at commas (ASCII, so every slice is on a character boundary).
            let mut col = 0;
            let mut from = 0;
            for (i, &c) in line.as_bytes().iter().enumerate() {
                if c == b',' {
                    let s = &line[from..i];
                    builders.get_mut(col)?.push(classify_for(s, keep), s, keep);
                    col += 1;
                    from = i + 1;
                }
            }
            let s = &line[from..];
            builders.get_mut(col)?.push(classify_for(s, keep), s, keep);
            if col + 1 != width {
                return None;
            }
            rows += 1;
            if rows == 1 {
                // A line is its text and its line break.
                let per_line = line.len() as u64 + 1;
                let estimate = usize::try_from(room / per_line * 11 / 10).unwrap_or(0);
                for b in &mut builders {
                    b.reserve(estimate);
                }
            }
        }
        if n == 0 {
            return Some((builders, rows));
        }
        buf.copy_within(upto..filled, 0);
        filled -= upto;
    }
}

/// The parallel read; `None` sends the caller to the one-pass read.
fn read_parallel(path: &Path, threads: usize, min_bytes: u64, keep: bool) -> Option<Table> {
    let len = std::fs::metadata(path).ok()?.len();
    if len < min_bytes {
        return None;
    }
    let mut rdr = open(path).ok()?;
    let mut rec = ::csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).ok()? || rec.as_slice().contains(&b'"') {
        return None;
    }
    let names = header_names(path, &rec).ok()?;
    let width = names.len();
    let body = rdr.position().byte();
    drop(rdr);
    // Chunk starts: the byte after the first line break at or after each even split.
    let mut file = File::open(path).ok()?;
    let mut bounds = vec![body];
    for k in 1..threads as u64 {
        let at = body + (len - body) * k / threads as u64;
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut probe = BufReader::with_capacity(1 << 16, &mut file);
        let mut skipped = Vec::new();
        probe.read_until(b'\n', &mut skipped).ok()?;
        let next = at + skipped.len() as u64;
        if next > *bounds.last()? && next < len {
            bounds.push(next);
        }
    }
    bounds.push(len);
    let chunks: Vec<Option<(Vec<Builder>, usize)>> = std::thread::scope(|sc| {
        let handles: Vec<_> = bounds
            .windows(2)
            .enumerate()
            .map(|(k, w)| {
                let (a, b) = (w[0], w[1]);
                let room = if k == 0 { len - body } else { b - a };
                sc.spawn(move || read_chunk(path, (a, b), width, room, keep))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut chunks = chunks.into_iter();
    let (mut builders, mut rows) = chunks.next()??;
    for chunk in chunks {
        let (next, n) = chunk?;
        rows += n;
        builders = builders
            .into_iter()
            .zip(next)
            .map(|(a, b)| a.append(b, keep))
            .collect();
    }
    let columns = finish_columns(path, builders, &names, width).ok()?;
    Some(Table {
        path: path.to_path_buf(),
        rows,
        columns,
    })
}

/// Builders to columns; the ones that turned into strings after typed values are read again.
fn finish_columns(
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
                null_count: col
                    .codes
                    .iter()
                    .filter(|&&c| c == super::column::NULL_CODE)
                    .count(),
                values: Values::Str(col),
            });
        }
    }
    Ok(columns.into_iter().flatten().collect())
}

/// Reads a CSV file in one pass.
fn read_serial(path: &Path, keep: bool) -> Result<Table, DataError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Field texts by family: NA tokens, ints, floats, bools, strings (numbers among them,
    /// whose text matters once a column turns to strings).
    const FAMILIES: [&[&str]; 5] = [
        &["", "NA", "nan"],
        &["1", "-7", "2"],
        &["1.50", "3e2", "-0.0"],
        &["True", "false"],
        &["red", "blue", "x y", "1.50"],
    ];

    /// Runs of rows, each run drawing every column from one family, so chunks of the file
    /// disagree about column types in every combination.
    fn table() -> impl Strategy<Value = Vec<Vec<&'static str>>> {
        // Short runs, so chunk boundaries often fall exactly between two runs.
        let runs = prop::collection::vec((0usize..5, 1usize..4, any::<u64>()), 1..24);
        (1usize..4, runs).prop_map(|(width, runs)| {
            let mut rows = Vec::new();
            for (family, len, seed) in runs {
                let pick = FAMILIES[family];
                for r in 0..len {
                    rows.push(
                        (0..width)
                            .map(|c| pick[(seed as usize).wrapping_add(r * 7 + c * 3) % pick.len()])
                            .collect(),
                    );
                }
            }
            rows
        })
    }

    fn write(rows: &[Vec<&str>], crlf: bool) -> tempfile::NamedTempFile {
        let width = rows[0].len();
        let mut text: Vec<String> = vec![
            (0..width)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(","),
        ];
        text.extend(rows.iter().map(|r| r.join(",")));
        let eol = if crlf { "\r\n" } else { "\n" };
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text.join(eol) + eol).unwrap();
        f
    }

    fn shape(t: &Table) -> String {
        format!("{} {:?}", t.rows, t.columns)
    }

    /// What a profile-only read must get right: per column the dtype, length, nulls, kind.
    fn profile(t: &Table) -> String {
        let cols: Vec<String> = t.columns.iter().map(column_profile).collect();
        format!("{} {}", t.rows, cols.join("; "))
    }

    fn column_profile(c: &Column) -> String {
        format!(
            "{} {:?} {} {} {:?}",
            c.name,
            c.dtype,
            c.len(),
            c.null_count,
            super::super::kinds::infer(c)
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Chunked reading gives the table the one-pass read gives, for any split.
        #[test]
        fn parallel_equals_serial(rows in table(), threads in 2usize..6, crlf: bool) {
            let f = write(&rows, crlf);
            let serial = read_serial(f.path(), true).unwrap();
            let parallel = read_parallel(f.path(), threads, 0, true).expect("no quotes: parallel path");
            prop_assert_eq!(shape(&parallel), shape(&serial));
            // A profile-only read, either way, profiles as the full read does.
            let lean = read_serial(f.path(), false).unwrap();
            let lean_parallel = read_parallel(f.path(), threads, 0, false).expect("parallel");
            prop_assert_eq!(profile(&lean), profile(&serial));
            prop_assert_eq!(profile(&lean_parallel), profile(&serial));
        }
    }

    /// The column one builder makes of `texts`; a column that must be read again is built
    /// from the texts as strings, as the second pass does.
    fn resolved(b: Builder, texts: &[&str]) -> String {
        resolved_column(b, texts, |c| format!("{c:?}"))
    }

    fn resolved_column(b: Builder, texts: &[&str], show: impl Fn(&Column) -> String) -> String {
        if let Some(c) = b.finish("c".into()) {
            return show(&c);
        }
        let mut s = StrColumn::default();
        for t in texts {
            s.push(if is_na(t) { None } else { Some(t) });
        }
        s.finish();
        let null_count = s
            .codes
            .iter()
            .filter(|&&c| c == super::super::column::NULL_CODE)
            .count();
        let values = Values::Str(s);
        show(&Column {
            name: "c".into(),
            dtype: Dtype::Object,
            values,
            null_count,
        })
    }

    fn built(texts: &[&str], keep: bool) -> Builder {
        let mut b = Builder::Empty(0);
        for t in texts {
            b.push(classify_for(t, keep), t, keep);
        }
        b
    }

    /// Every sequence of up to four values, split at every point: appending the builders of
    /// the two parts gives the column of the whole.
    #[test]
    fn append_agrees_with_one_pass_exhaustively() {
        let pool = ["NA", "", "1", "-7", "1.50", "True", "false", "red"];
        let mut seqs: Vec<Vec<&str>> = vec![vec![]];
        for _ in 0..4 {
            let longer: Vec<Vec<&str>> = seqs
                .iter()
                .filter(|s| s.len() == seqs.last().map_or(0, Vec::len))
                .flat_map(|s| pool.iter().map(move |p| [s.clone(), vec![*p]].concat()))
                .collect();
            seqs.extend(longer);
        }
        assert_eq!(seqs.len(), 1 + 8 + 64 + 512 + 4096);
        for s in &seqs {
            let whole = resolved(built(s, true), s);
            let whole_profile = resolved_column(built(s, true), s, column_profile);
            assert_eq!(
                resolved_column(built(s, false), s, column_profile),
                whole_profile,
                "{s:?} profile-only"
            );
            for k in 0..=s.len() {
                let merged = built(&s[..k], true).append(built(&s[k..], true), true);
                assert_eq!(resolved(merged, s), whole, "{s:?} split at {k}");
                let lean = built(&s[..k], false).append(built(&s[k..], false), false);
                assert_eq!(
                    resolved_column(lean, s, column_profile),
                    whole_profile,
                    "{s:?} profile-only, split at {k}"
                );
            }
        }
    }

    proptest! {
        /// The exact decimal path gives Rust's correctly rounded value, bit for bit.
        #[test]
        fn exact_decimal_matches_parse(w in 0u64..100_000_000, f in 0u64..10_000_000, fd in 0usize..8, e in -30i32..30, exp: bool, neg: bool) {
            let frac = if fd == 0 { String::new() } else { format!(".{:0fd$}", f % 10u64.pow(fd as u32)) };
            let s = format!("{}{w}{frac}{}", if neg { "-" } else { "" }, if exp { format!("e{e}") } else { String::new() });
            let want: f64 = s.parse().unwrap();
            match number(&s, true) {
                Some(Token::Float(x)) => prop_assert_eq!(x.to_bits(), want.to_bits(), "{}", s),
                Some(Token::Int(i)) => prop_assert_eq!(i as f64, want, "{}", s),
                other => prop_assert!(false, "{} gave {:?}", s, other),
            }
        }

        /// The one-scan number path agrees with the general classifier wherever it answers.
        #[test]
        fn number_fast_path_agrees(s in "[-+]?[0-9]{0,20}(\\.[0-9]{0,4})?([eE][-+]?[0-9]{0,3})?|.{0,6}") {
            if let Some(t) = number(&s, true) {
                prop_assert_eq!(t, classify_general(&s), "{:?}", s);
            }
        }
    }

    #[test]
    fn number_fast_path_shapes() {
        for (s, want) in [
            ("0", Some(Token::Int(0))),
            ("-0", Some(Token::Int(0))),
            ("007", Some(Token::Int(7))),
            (
                "999999999999999999",
                Some(Token::Int(999_999_999_999_999_999)),
            ),
            ("9999999999999999999", None),
            ("1.5", Some(Token::Float(1.5))),
            ("-.5", Some(Token::Float(-0.5))),
            ("1.", Some(Token::Float(1.0))),
            ("1e3", Some(Token::Float(1000.0))),
            ("1E-2", Some(Token::Float(0.01))),
            (".", None),
            ("-", None),
            ("1e", None),
            ("+1", None),
            (" 1", None),
            ("1.#IND", None),
            ("", None),
        ] {
            assert_eq!(number(s, true), want, "{s:?}");
            if let Some(t) = want {
                assert_eq!(classify_general(s), t, "{s:?}");
            }
        }
    }

    proptest! {
        /// On any quote-free bytes (ragged rows, blank lines, lone `\r`, bad UTF-8) the chunked
        /// read either gives what the one-pass read gives or steps aside for it.
        #[test]
        fn parallel_never_disagrees(
            lines in prop::collection::vec(
                ("[a1. e\\-]{0,3}", "[a1. e\\-]{0,3}", 0usize..12),
                0..40,
            ),
            threads in 2usize..5,
        ) {
            let mut bytes = b"x,y\n".to_vec();
            for (a, b, variant) in &lines {
                let line = match variant {
                    0 => format!("{a},{b},z\n"), // ragged
                    1 => format!("{a},{b}\r"),   // a lone carriage return
                    2 => "\n".to_owned(),        // blank
                    3 => format!("{a},{b}\r\n"),
                    4 => format!("{a},\u{e9}{b}\n"),
                    5 => format!("{a},{b}\u{ff}\n").replace('\u{ff}', "\u{fffd}"),
                    _ => format!("{a},{b}\n"),
                };
                bytes.extend(line.as_bytes());
                if *variant == 5 {
                    bytes.push(0xff); // invalid UTF-8
                    bytes.push(b'\n');
                }
            }
            let f = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(f.path(), &bytes).unwrap();
            let serial = read_serial(f.path(), true);
            match read_parallel(f.path(), threads, 0, true) {
                Some(p) => {
                    prop_assert!(serial.is_ok(), "{:?}", String::from_utf8_lossy(&bytes));
                    prop_assert_eq!(shape(&p), shape(&serial.unwrap()));
                }
                // Stepping aside is only allowed for what the chunked reader cannot split.
                None => prop_assert!(
                    serial.is_err() || bytes.contains(&b'\r'),
                    "{:?}", String::from_utf8_lossy(&bytes)
                ),
            }
        }
    }

    #[test]
    fn quotes_send_the_read_to_one_pass() {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "a,b\n1,\"x\ny\"\n2,z\n3,w\n").unwrap();
        assert!(read_parallel(f.path(), 2, 0, true).is_none());
        let t = read(f.path(), Need::Values).unwrap();
        assert_eq!(t.rows, 3);
    }
}
