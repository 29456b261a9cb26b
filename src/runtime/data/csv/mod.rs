//! CSV with pandas' `read_csv` defaults: the NA tokens, int → float when a null appears,
//! `True`/`False` booleans, and everything else as strings (`docs/data-checks.md`).
//!
//! One pass over the file types every column as it goes: `token` classifies each field and
//! `builder` grows a typed column from it. Only a column that turns into a string column
//! after numbers or booleans were seen needs its original text back (`"1.50"` must stay
//! `"1.50"`); those columns alone are read again in a second pass (`reread`). A large file
//! without quotes is read in chunks on every core (`chunked`); any other file, or any
//! problem, goes to the one-pass read (`serial`), which reports the exact row.

mod builder;
mod chunked;
mod record;
mod reread;
mod serial;
mod token;

use std::path::Path;

pub use token::{Token, is_na};

use super::{DataError, Need, Table};

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
        if let Some(t) = chunked::read_parallel(path, threads.min(8), PARALLEL_MIN_BYTES, keep) {
            return Ok(t);
        }
    }
    serial::read_serial(path, keep)
}
