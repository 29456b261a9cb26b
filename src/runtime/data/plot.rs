//! `validate.plots.json`: per drift-tested column, the data of its reference-vs-current plot
//! on the report page (`docs/data-checks.md`, "The report page"). Numbers get a histogram
//! with the same bins for both sides; categories (and numbers with at most five distinct
//! values) get paired bars, the 20 most frequent values plus one "other" bar.

use std::collections::BTreeMap;

use serde::Serialize;

use super::sort_key::Key;
use crate::runtime::drift::Binned;

/// Most categories drawn as their own bar.
pub const TOP_CATEGORIES: usize = 20;

/// One column's plot data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Plot {
    /// Overlaid histograms over shared bins.
    Histogram {
        /// Bin edges, ascending (one more than the counts).
        edges: Vec<f64>,
        /// Reference counts per bin.
        reference: Vec<u64>,
        /// Current counts per bin.
        current: Vec<u64>,
    },
    /// Paired bars, most frequent first.
    Bars {
        /// The values, as text.
        labels: Vec<String>,
        /// Reference counts per value.
        reference: Vec<u64>,
        /// Current counts per value.
        current: Vec<u64>,
        /// The rest, when there are more than [`TOP_CATEGORIES`] values.
        #[serde(skip_serializing_if = "Option::is_none")]
        other: Option<Other>,
    },
}

/// The categories beyond the first [`TOP_CATEGORIES`], as one bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Other {
    /// How many categories it holds.
    pub categories: usize,
    /// Their reference count.
    pub reference: u64,
    /// Their current count.
    pub current: u64,
}

/// A number as a label: integers without a fraction, others in their shortest form.
fn number(x: f64) -> String {
    format!("{x}")
}

/// The plot of a numerical column, from what its drift test binned.
pub fn from_binned(b: Binned) -> Plot {
    match b {
        Binned::Histogram {
            edges,
            reference,
            current,
        } => Plot::Histogram {
            edges,
            reference,
            current,
        },
        Binned::Values {
            values,
            reference,
            current,
        } => Plot::Bars {
            labels: values.into_iter().map(number).collect(),
            reference,
            current,
            other: None,
        },
    }
}

/// The paired bars of a categorical column from both sides' value counts; `booleans` labels
/// 0 and 1 as pandas prints a `bool` column.
pub fn categories(
    reference: &BTreeMap<Key, u64>,
    current: &BTreeMap<Key, u64>,
    booleans: bool,
) -> Plot {
    let mut all: BTreeMap<&Key, (u64, u64)> = BTreeMap::new();
    for (k, &n) in reference {
        all.entry(k).or_default().0 += n;
    }
    for (k, &n) in current {
        all.entry(k).or_default().1 += n;
    }
    let mut rows: Vec<(&Key, (u64, u64))> = all.into_iter().collect();
    // most frequent over both sides first; ties keep the sorted key order (stable sort)
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.0 + r.1.1));
    let label = |k: &Key| match k {
        Key::Num(x) if booleans => if *x == 0.0 { "False" } else { "True" }.to_owned(),
        Key::Num(x) => number(*x),
        Key::Str(s) => s.clone(),
    };
    let rest = rows.split_off(rows.len().min(TOP_CATEGORIES));
    let other = (!rest.is_empty()).then(|| Other {
        categories: rest.len(),
        reference: rest.iter().map(|r| r.1.0).sum(),
        current: rest.iter().map(|r| r.1.1).sum(),
    });
    Plot::Bars {
        labels: rows.iter().map(|r| label(r.0)).collect(),
        reference: rows.iter().map(|r| r.1.0).collect(),
        current: rows.iter().map(|r| r.1.1).collect(),
        other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_twenty_and_other() {
        let r: BTreeMap<Key, u64> = (0..25)
            .map(|i| (Key::Str(format!("c{i:02}")), 100 - i))
            .collect();
        let c: BTreeMap<Key, u64> = [(Key::Str("new".into()), 1000)].into_iter().collect();
        let Plot::Bars {
            labels,
            reference,
            current,
            other,
        } = categories(&r, &c, false)
        else {
            panic!("bars");
        };
        assert_eq!(labels.len(), 20);
        assert_eq!(
            (labels[0].as_str(), current[0], reference[0]),
            ("new", 1000, 0)
        );
        assert_eq!(labels[1], "c00");
        let other = other.unwrap();
        assert_eq!(other.categories, 6);
        assert_eq!(other.reference, (19..25).map(|i| 100 - i).sum::<u64>());
    }

    #[test]
    fn booleans_read_as_pandas_prints_them() {
        let r: BTreeMap<Key, u64> = [(Key::Num(0.0), 3), (Key::Num(1.0), 5)].into();
        let Plot::Bars { labels, .. } = categories(&r, &r, true) else {
            panic!("bars");
        };
        assert_eq!(labels, vec!["True", "False"]);
    }
}
