//! The chunked read: a quote-free file split at line breaks and read on every core, each
//! chunk into its own builders, appended in file order. It steps aside (`None`) for anything
//! it cannot split, and the one-pass read then says what is wrong.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::builder::Builder;
use super::record::{header_names, open};
use super::reread::finish_columns;
use super::token::classify_for;
use crate::runtime::data::Table;

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
pub(super) fn read_parallel(
    path: &Path,
    threads: usize,
    min_bytes: u64,
    keep: bool,
) -> Option<Table> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::data::Need;
    use crate::runtime::data::csv::builder::tests::column_profile;
    use crate::runtime::data::csv::read;
    use crate::runtime::data::csv::serial::read_serial;
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

    /// What a profile-only read must get right of a table: its rows and every column's profile.
    fn profile(t: &Table) -> String {
        let cols: Vec<String> = t.columns.iter().map(column_profile).collect();
        format!("{} {}", t.rows, cols.join("; "))
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
