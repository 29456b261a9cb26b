//! The plot data of a numerical column, taken from what the drift tests already computed: the
//! two sorted samples (KS, Wasserstein) or the value counts (columns with at most five
//! distinct values). Binning sorted data is a binary search per bin edge, O(bins · log n), so
//! the report page costs validate almost nothing (`docs/benchmarks.md`).

use serde::Serialize;

/// Equal-width bins shared by both sides.
pub const BINS: usize = 20;

/// Reference and current counts over the same bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Binned {
    /// `edges.len() == reference.len() + 1`; bins are `[e_i, e_i+1)`, the last one closed,
    /// as `numpy.histogram` counts them.
    Histogram {
        /// Bin edges, ascending.
        edges: Vec<f64>,
        /// Reference counts per bin.
        reference: Vec<u64>,
        /// Current counts per bin.
        current: Vec<u64>,
    },
    /// One bar per distinct value (at most five), ascending.
    Values {
        /// The values.
        values: Vec<f64>,
        /// Reference counts per value.
        reference: Vec<u64>,
        /// Current counts per value.
        current: Vec<u64>,
    },
}

/// The counts of two sorted samples (finite, ascending, at least one value in total) in
/// `bins` equal-width bins over their common range. A constant range gets one bin.
pub fn histogram(reference: &[f64], current: &[f64], bins: usize) -> Binned {
    let first = |s: &[f64]| s.first().copied();
    let last = |s: &[f64]| s.last().copied();
    let lo = match (first(reference), first(current)) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0.0),
    };
    let hi = match (last(reference), last(current)) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => a.or(b).unwrap_or(0.0),
    };
    let bins = if hi > lo { bins.max(1) } else { 1 };
    let width = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|i| lo + width * i as f64).collect();
    edges.push(hi);
    let count = |s: &[f64]| {
        // values below each inner edge; the last bin takes everything from its left edge on
        let below: Vec<usize> = edges[1..bins]
            .iter()
            .map(|&e| s.partition_point(|&x| x < e))
            .collect();
        let mut out = Vec::with_capacity(bins);
        let mut prev = 0usize;
        for b in below.into_iter().chain(std::iter::once(s.len())) {
            out.push((b - prev) as u64);
            prev = b;
        }
        out
    };
    Binned::Histogram {
        reference: count(reference),
        current: count(current),
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bins_both_sides_last_bin_closed() {
        let r = [0.0, 1.0, 2.0, 3.0, 4.0];
        let c = [2.0, 2.5, 8.0];
        let Binned::Histogram {
            edges,
            reference,
            current,
        } = histogram(&r, &c, 4)
        else {
            panic!("a histogram");
        };
        assert_eq!(edges, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        // numpy.histogram([0,1,2,3,4], bins=[0,2,4,6,8]) == [2, 2, 1, 0]
        assert_eq!(reference, vec![2, 2, 1, 0]);
        assert_eq!(current, vec![0, 2, 0, 1]);
        assert_eq!(reference.iter().sum::<u64>(), 5);
    }

    #[test]
    fn constant_data_has_one_bin() {
        let Binned::Histogram {
            edges, reference, ..
        } = histogram(&[3.0; 4], &[3.0], 20)
        else {
            panic!("a histogram");
        };
        assert_eq!((edges, reference), (vec![3.0, 3.0], vec![4]));
    }
}
