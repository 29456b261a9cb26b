//! The dataset-level rule (`get_dataset_drift` in `evidently/legacy/calculations/data_drift.py`):
//! `share = drifted / tested`, and dataset drift iff `share >= drift_share` (inclusive: 3 of 6 is
//! drift).

use serde::Serialize;

use super::ColumnDrift;

/// Evidently's default `drift_share` of `DriftedColumnsCount`.
pub const DEFAULT_DRIFT_SHARE: f64 = 0.5;

/// The verdict over all tested columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetDrift {
    /// Tested columns.
    pub number_of_columns: usize,
    /// Columns whose test detected drift.
    pub number_of_drifted_columns: usize,
    /// `number_of_drifted_columns / number_of_columns` (0 when no column was tested).
    pub share_of_drifted_columns: f64,
    /// `share_of_drifted_columns >= drift_share`; false when no column was tested (Evidently
    /// divides by zero there).
    pub dataset_drift: bool,
}

/// Applies the share rule to the per-column verdicts.
pub fn dataset_drift(columns: &[ColumnDrift], drift_share: f64) -> DatasetDrift {
    let n = columns.len();
    let drifted = columns.iter().filter(|c| c.drift_detected).count();
    let share = if n == 0 {
        0.0
    } else {
        drifted as f64 / n as f64
    };
    DatasetDrift {
        number_of_columns: n,
        number_of_drifted_columns: drifted,
        share_of_drifted_columns: share,
        dataset_drift: n > 0 && share >= drift_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::drift::StatTest;

    fn col(drift: bool) -> ColumnDrift {
        ColumnDrift {
            stattest: StatTest::Ks,
            score: 0.5,
            threshold: 0.05,
            drift_detected: drift,
        }
    }

    #[test]
    fn share_is_inclusive() {
        let cols: Vec<ColumnDrift> = [true, true, true, false, false, false].map(col).to_vec();
        let d = dataset_drift(&cols, DEFAULT_DRIFT_SHARE);
        assert_eq!((d.number_of_columns, d.number_of_drifted_columns), (6, 3));
        assert_eq!(d.share_of_drifted_columns, 0.5);
        assert!(d.dataset_drift);
        let d = dataset_drift(&cols[1..], DEFAULT_DRIFT_SHARE);
        assert_eq!(d.share_of_drifted_columns, 0.4);
        assert!(!d.dataset_drift);
    }

    #[test]
    fn no_columns() {
        let d = dataset_drift(&[], DEFAULT_DRIFT_SHARE);
        assert_eq!(
            d,
            DatasetDrift {
                number_of_columns: 0,
                number_of_drifted_columns: 0,
                share_of_drifted_columns: 0.0,
                dataset_drift: false
            }
        );
    }
}
