//! The in-memory column: one typed vector per column, chosen for 1M-row tables. Numbers are
//! stored unboxed (`NaN` marks a float null, as in pandas), booleans as one byte, and strings
//! interned per column (a `u32` code per row plus a dictionary of distinct values), so a
//! categorical column of a million rows costs 4 MB instead of a million `Option<String>`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The code of a null in a [`StrColumn`].
pub const NULL_CODE: u32 = u32::MAX;
/// A null in a boolean column.
pub const BOOL_NULL: u8 = 2;

/// The pandas dtype a column would have (`read_csv` defaults, or `read_parquet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// `int64`.
    Int64,
    /// `int32` (Parquet only).
    Int32,
    /// `float64`.
    Float64,
    /// `float32` (Parquet only).
    Float32,
    /// `bool` (no nulls).
    Bool,
    /// `object`: strings, or booleans with nulls.
    Object,
    /// `datetime64[ns]` (Parquet nanosecond timestamps).
    Datetime,
    /// `datetime64[us]` or `datetime64[ms]`: pandas 2 keeps a Parquet timestamp's unit, and
    /// Evidently types only nanosecond columns as datetime.
    DatetimeCoarse(&'static str),
}

impl Dtype {
    /// numpy's `dtype.type.__name__`, as Great Expectations reports it.
    pub fn type_name(self) -> &'static str {
        match self {
            Dtype::Int64 => "int64",
            Dtype::Int32 => "int32",
            Dtype::Float64 => "float64",
            Dtype::Float32 => "float32",
            Dtype::Bool => "bool",
            Dtype::Object => "object_",
            Dtype::Datetime | Dtype::DatetimeCoarse(_) => "datetime64",
        }
    }
}

/// A column's values.
#[derive(Debug, Clone)]
pub enum Values {
    /// Integers without nulls.
    Int(Vec<i64>),
    /// Floats; `NaN` is null.
    Float(Vec<f64>),
    /// Booleans: 0, 1, or [`BOOL_NULL`].
    Bool(Vec<u8>),
    /// Interned strings.
    Str(StrColumn),
    /// Timestamps in nanoseconds since the epoch; `None` is null.
    Datetime(Vec<Option<i64>>),
    /// A type this tool does not interpret (Parquet dates, decimals, binary): only its
    /// nulls are known.
    Other(Vec<bool>),
    /// Floats whose values a profile-only read did not keep ([`super::Need::Profile`]):
    /// this many rows; the nulls are the column's `null_count`.
    Dropped(usize),
}

/// Strings interned per column.
#[derive(Debug, Clone, Default)]
pub struct StrColumn {
    /// One code per row, [`NULL_CODE`] for null.
    pub codes: Vec<u32>,
    /// Distinct non-null values, in order of first appearance.
    pub dict: Vec<String>,
    index: HashMap<Box<str>, u32, BuildHasherDefault<FxHasher>>,
}

impl StrColumn {
    /// Appends a value (`None` for null).
    pub fn push(&mut self, v: Option<&str>) {
        let code = match v {
            None => NULL_CODE,
            Some(s) => {
                if let Some(&c) = self.index.get(s) {
                    c
                } else {
                    let c = u32::try_from(self.dict.len()).unwrap_or(NULL_CODE - 1);
                    self.dict.push(s.to_owned());
                    self.index.insert(s.into(), c);
                    c
                }
            }
        };
        self.codes.push(code);
    }

    /// Appends `other` (built from the rows after this column's): its strings are interned
    /// here, so codes keep meaning "order of first appearance" over both.
    pub fn append(&mut self, other: &StrColumn) {
        let remap: Vec<u32> = other
            .dict
            .iter()
            .map(|s| {
                if let Some(&c) = self.index.get(s.as_str()) {
                    c
                } else {
                    let c = u32::try_from(self.dict.len()).unwrap_or(NULL_CODE - 1);
                    self.index.insert(s.as_str().into(), c);
                    self.dict.push(s.clone());
                    c
                }
            })
            .collect();
        self.codes.reserve(other.codes.len());
        self.codes.extend(other.codes.iter().map(|&c| {
            if c == NULL_CODE {
                NULL_CODE
            } else {
                remap[c as usize]
            }
        }));
    }

    /// Drops the lookup index once the column is complete.
    pub fn finish(&mut self) {
        self.index = HashMap::default();
    }
}

/// One column of a [`super::Table`].
#[derive(Debug, Clone)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// The pandas dtype.
    pub dtype: Dtype,
    /// The values.
    pub values: Values,
    /// Null count (pandas `isna().sum()`).
    pub null_count: usize,
}

/// One value, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A null.
    Null,
    /// An integer.
    Int(i64),
    /// A float (never `NaN`).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
    /// A timestamp (ns).
    Datetime(i64),
    /// A value of an uninterpreted type.
    Other,
}

impl Column {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Str(s) => s.codes.len(),
            Values::Datetime(v) => v.len(),
            Values::Other(v) => v.len(),
            Values::Dropped(n) => *n,
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value in row `i` (which must be `< len()`).
    pub fn cell(&self, i: usize) -> Cell<'_> {
        match &self.values {
            Values::Int(v) => Cell::Int(v[i]),
            Values::Float(v) if v[i].is_nan() => Cell::Null,
            Values::Float(v) => Cell::Float(v[i]),
            Values::Bool(v) => match v[i] {
                0 => Cell::Bool(false),
                1 => Cell::Bool(true),
                _ => Cell::Null,
            },
            Values::Str(s) => match s.codes[i] {
                NULL_CODE => Cell::Null,
                c => Cell::Str(&s.dict[c as usize]),
            },
            Values::Datetime(v) => v[i].map_or(Cell::Null, Cell::Datetime),
            Values::Dropped(_) => Cell::Other,
            Values::Other(v) => {
                if v[i] {
                    Cell::Null
                } else {
                    Cell::Other
                }
            }
        }
    }

    /// The number of non-null values.
    pub fn count(&self) -> usize {
        self.len() - self.null_count
    }
}

/// The Firefox/rustc hash: much faster than `SipHash` for short keys, and the interner is
/// never exposed to adversarial collisions that matter (a slow file is still read).
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
