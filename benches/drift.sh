#!/usr/bin/env bash
# Drift statistics: `mlops::runtime::drift` (benches/drift_bench.rs, release build) against
# Evidently's Report([DataDriftPreset()]) (benches/drift_python.py) on the same 20 columns of
# ROWS reference vs ROWS current values (14 continuous -> Wasserstein, 3 numerical with 5
# values -> Jensen-Shannon, 3 string categorical -> Jensen-Shannon). Data generation is not
# timed. Prints both times, the ratio, and checks that every verdict agrees.
# Usage: benches/drift.sh [ROWS]        (default 1000000; Evidently needs ~2 GiB and ~100 s)
#        SKIP_EVIDENTLY=1 benches/drift.sh   reuses the last Evidently result for ROWS
# Figures and conditions: docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROWS=${1:-1000000}
PY=${PY:-target/harness/venv/bin/python}
OUT=target/bench-drift
mkdir -p "$OUT"

cargo bench --quiet --bench drift_bench -- --rows "$ROWS" --reps 5 --json "$OUT/rust-$ROWS.json"
if [[ "${SKIP_EVIDENTLY:-}" != 1 || ! -f "$OUT/evidently-$ROWS.json" ]]; then
  PYTHONHASHSEED=0 "$PY" benches/drift_python.py --rows "$ROWS" --json "$OUT/evidently-$ROWS.json"
fi

"$PY" - "$OUT/rust-$ROWS.json" "$OUT/evidently-$ROWS.json" <<'PYEOF'
import json, math, sys
rust, ev = (json.load(open(p)) for p in sys.argv[1:3])
bad = 0
worst = 0.0
for name, e in ev["columns"].items():
    r = rust["columns"][name]
    rel = 0.0 if r["score"] == e["score"] else abs(r["score"] - e["score"]) / abs(e["score"])
    worst = max(worst, rel)
    if r["stattest"] != e["stattest"] or r["drift_detected"] != e["drift_detected"] or rel > 1e-9:
        bad += 1
        print(f"MISMATCH {name}: rust {r} evidently {e}")
d = rust["dataset"]
ed = ev["dataset"]
if d["number_of_drifted_columns"] != ed["count"] or d["dataset_drift"] != ed["dataset_drift"]:
    bad += 1
    print(f"MISMATCH dataset: rust {d} evidently {ed}")
print(f"rows {rust['rows']} x {len(ev['columns'])} columns: {len(ev['columns']) - bad} of {len(ev['columns'])} verdicts agree, "
      f"worst score rel err {worst:.1e}; dataset {d['number_of_drifted_columns']}/{d['number_of_columns']} drifted, dataset_drift {d['dataset_drift']}")
print(f"mlops drift (best of {rust['reps']}): {rust['seconds_best']:.3f} s   (median {rust['seconds_median']:.3f} s)")
print(f"Evidently Report.run:       {ev['seconds']:.2f} s   peak RSS {ev['peak_rss_mib']:.0f} MiB")
print(f"ratio: {ev['seconds'] / rust['seconds_best']:.0f}x faster (median: {ev['seconds'] / rust['seconds_median']:.0f}x)")
sys.exit(1 if bad else 0)
PYEOF
