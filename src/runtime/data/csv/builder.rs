//! A column being built, one field at a time, with pandas' type changes (an int column with
//! a null becomes float64, typed values followed by text become a string column), and the
//! merge of two builders of consecutive chunks of a file.

use super::token::Token;
use crate::runtime::data::column::{BOOL_NULL, Column, Dtype, NULL_CODE, StrColumn, Values};

/// A column being built.
pub(super) enum Builder {
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
    #[inline]
    pub(super) fn push(&mut self, tok: Token, s: &str, keep: bool) {
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
    pub(super) fn append(self, next: Builder, keep: bool) -> Builder {
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
    pub(super) fn reserve(&mut self, n: usize) {
        match self {
            Builder::Int(v) => v.reserve(n),
            Builder::Float(v) => v.reserve(n),
            Builder::Bool(v) => v.reserve(n),
            Builder::Str(c) => c.codes.reserve(n),
            Builder::Empty(_) | Builder::FloatCount(..) | Builder::Reread => {}
        }
    }

    pub(super) fn finish(self, name: String) -> Option<Column> {
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
                let n = c.codes.iter().filter(|&&x| x == NULL_CODE).count();
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::runtime::data::csv::token::{classify_for, is_na};

    /// What a profile-only read must get right of a column: dtype, length, nulls, kind.
    pub(crate) fn column_profile(c: &Column) -> String {
        format!(
            "{} {:?} {} {} {:?}",
            c.name,
            c.dtype,
            c.len(),
            c.null_count,
            crate::runtime::data::kinds::infer(c)
        )
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
        let null_count = s.codes.iter().filter(|&&c| c == NULL_CODE).count();
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
}
