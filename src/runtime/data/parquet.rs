//! Parquet through the `parquet` crate's column readers (no Arrow), typed as
//! `pd.read_parquet` (pyarrow) would type the columns: an int column with nulls becomes
//! float64, a bool column with nulls `object`, strings `object`, timestamps `datetime64`.
//! Null counts come from the column chunk statistics when every row group has them.

use std::fs::File;
use std::path::Path;

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::DataType;
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;

use super::column::{BOOL_NULL, Column, Dtype, StrColumn, Values};
use super::{DataError, Table};

const BATCH: usize = 64 * 1024;

fn perr(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::new(
        path,
        format!("not a readable Parquet file: {e}"),
        "check that the file is Parquet, or pass `--format csv`",
    )
}

/// Reads every row group of one column: non-null values plus a null flag per row.
fn read_all<T: DataType>(
    path: &Path,
    readers: Vec<ColumnReaderImpl<T>>,
    max_def: i16,
) -> Result<(Vec<T::T>, Vec<bool>), DataError> {
    let mut values = Vec::new();
    let mut nulls = Vec::new();
    let mut defs = Vec::with_capacity(BATCH);
    for mut r in readers {
        loop {
            defs.clear();
            let (records, _, levels) = r
                .read_records(
                    BATCH,
                    if max_def > 0 { Some(&mut defs) } else { None },
                    None,
                    &mut values,
                )
                .map_err(|e| perr(path, e))?;
            if max_def > 0 {
                nulls.extend(defs[..levels].iter().map(|&d| d < max_def));
            } else {
                nulls.extend(std::iter::repeat_n(false, records));
            }
            if records == 0 {
                break;
            }
        }
    }
    Ok((values, nulls))
}

/// Spreads non-null values over rows, filling nulls with `fill`.
fn spread<T: Copy, U>(values: &[T], nulls: &[bool], fill: U, f: impl Fn(T) -> U) -> Vec<U>
where
    U: Copy,
{
    let mut it = values.iter();
    nulls
        .iter()
        .map(|&n| {
            if n {
                fill
            } else {
                it.next().map_or(fill, |&v| f(v))
            }
        })
        .collect()
}

macro_rules! typed {
    ($path:expr, $rgs:expr, $i:expr, $variant:ident) => {{
        let mut v = Vec::new();
        for rg in $rgs {
            match rg.get_column_reader($i).map_err(|e| perr($path, e))? {
                ColumnReader::$variant(r) => v.push(r),
                _ => return Err(perr($path, "column type changed between row groups")),
            }
        }
        v
    }};
}

/// Reads a Parquet file.
pub fn read(path: &Path) -> Result<Table, DataError> {
    let file = File::open(path).map_err(|e| {
        DataError::new(path, format!("cannot open the file: {e}"), "check the path")
    })?;
    let reader = SerializedFileReader::new(file).map_err(|e| perr(path, e))?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let rows = usize::try_from(meta.file_metadata().num_rows()).unwrap_or(0);
    let rgs: Vec<Box<dyn RowGroupReader + '_>> = (0..meta.num_row_groups())
        .map(|i| reader.get_row_group(i).map_err(|e| perr(path, e)))
        .collect::<Result<_, _>>()?;
    let mut columns = Vec::with_capacity(schema.num_columns());
    for i in 0..schema.num_columns() {
        let desc = schema.column(i);
        if desc.max_rep_level() > 0 {
            return Err(DataError::new(
                path,
                format!("column `{}` is nested (a list or map)", desc.path()),
                "flatten the data to one value per cell",
            ));
        }
        let name = desc.name().to_owned();
        let max_def = desc.max_def_level();
        let logical = desc.logical_type_ref().cloned();
        let stats_nulls: Option<u64> = (0..meta.num_row_groups())
            .map(|g| {
                meta.row_group(g)
                    .column(i)
                    .statistics()
                    .and_then(parquet::file::statistics::Statistics::null_count_opt)
            })
            .sum();
        let (dtype, values, nulls) = match desc.physical_type() {
            Physical::BOOLEAN => {
                let (v, n) = read_all(path, typed!(path, &rgs, i, BoolColumnReader), max_def)?;
                let any = n.iter().any(|&x| x);
                let d = if any { Dtype::Object } else { Dtype::Bool };
                (d, Values::Bool(spread(&v, &n, BOOL_NULL, u8::from)), n)
            }
            Physical::INT32 => {
                let (v, n) = read_all(path, typed!(path, &rgs, i, Int32ColumnReader), max_def)?;
                if matches!(logical, Some(LogicalType::Date))
                    || desc.converted_type() == ConvertedType::DATE
                {
                    (Dtype::Object, Values::Other(n.clone()), n)
                } else {
                    int_column(
                        &v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>(),
                        n,
                        Dtype::Int32,
                    )
                }
            }
            Physical::INT64 => {
                let (v, n) = read_all(path, typed!(path, &rgs, i, Int64ColumnReader), max_def)?;
                if let Some(LogicalType::Timestamp(t)) = &logical {
                    let (k, dtype) = match t.unit {
                        TimeUnit::MILLIS => (1_000_000, Dtype::DatetimeCoarse("ms")),
                        TimeUnit::MICROS => (1_000, Dtype::DatetimeCoarse("us")),
                        TimeUnit::NANOS => (1, Dtype::Datetime),
                    };
                    let ts = spread(&v, &n, None, |x: i64| Some(x.saturating_mul(k)));
                    (dtype, Values::Datetime(ts), n)
                } else {
                    int_column(&v, n, Dtype::Int64)
                }
            }
            Physical::FLOAT => {
                let (v, n) = read_all(path, typed!(path, &rgs, i, FloatColumnReader), max_def)?;
                (
                    Dtype::Float32,
                    Values::Float(spread(&v, &n, f64::NAN, f64::from)),
                    n,
                )
            }
            Physical::DOUBLE => {
                let (v, n) = read_all(path, typed!(path, &rgs, i, DoubleColumnReader), max_def)?;
                (
                    Dtype::Float64,
                    Values::Float(spread(&v, &n, f64::NAN, |x| x)),
                    n,
                )
            }
            Physical::BYTE_ARRAY
                if matches!(
                    logical,
                    Some(LogicalType::String | LogicalType::Enum | LogicalType::Json)
                ) || desc.converted_type() == ConvertedType::UTF8 =>
            {
                let (v, n) = read_all(path, typed!(path, &rgs, i, ByteArrayColumnReader), max_def)?;
                let mut col = StrColumn::default();
                let mut it = v.iter();
                for &null in &n {
                    if null {
                        col.push(None);
                    } else if let Some(b) = it.next() {
                        let s = std::str::from_utf8(b.data()).map_err(|_| {
                            DataError::new(
                                path,
                                format!("column `{name}`: a string is not valid UTF-8"),
                                "write strings as UTF-8",
                            )
                        })?;
                        col.push(Some(s));
                    }
                }
                col.finish();
                (Dtype::Object, Values::Str(col), n)
            }
            _ => {
                // Binary, decimals, INT96: only nulls are interpreted.
                let n = null_flags(path, &rgs, i, max_def)?;
                (Dtype::Object, Values::Other(n.clone()), n)
            }
        };
        let counted = nulls.iter().filter(|&&x| x).count();
        let null_count = stats_nulls
            .and_then(|s| usize::try_from(s).ok())
            .unwrap_or(counted);
        columns.push(Column {
            name,
            dtype,
            values,
            null_count,
        });
    }
    Ok(Table {
        path: path.to_path_buf(),
        rows,
        columns,
    })
}

/// pyarrow's `to_pandas`: an int column with a null becomes float64.
fn int_column(v: &[i64], n: Vec<bool>, dtype: Dtype) -> (Dtype, Values, Vec<bool>) {
    if n.iter().any(|&x| x) {
        (
            Dtype::Float64,
            Values::Float(spread(v, &n, f64::NAN, |x| x as f64)),
            n,
        )
    } else {
        (dtype, Values::Int(v.to_vec()), n)
    }
}

fn null_flags(
    path: &Path,
    rgs: &[Box<dyn RowGroupReader + '_>],
    i: usize,
    max_def: i16,
) -> Result<Vec<bool>, DataError> {
    let mut out = Vec::new();
    for rg in rgs {
        let r = rg.get_column_reader(i).map_err(|e| perr(path, e))?;
        let n = match r {
            ColumnReader::ByteArrayColumnReader(r) => read_all(path, vec![r], max_def)?.1,
            ColumnReader::FixedLenByteArrayColumnReader(r) => read_all(path, vec![r], max_def)?.1,
            ColumnReader::Int96ColumnReader(r) => read_all(path, vec![r], max_def)?.1,
            ColumnReader::Int32ColumnReader(r) => read_all(path, vec![r], max_def)?.1,
            ColumnReader::Int64ColumnReader(r) => read_all(path, vec![r], max_def)?.1,
            _ => return Err(perr(path, "unexpected column type")),
        };
        out.extend(n);
    }
    Ok(out)
}
