#!/usr/bin/env bash
# Benchmark of `mlops run validate` against pandas, Evidently and Great Expectations on
# 1,000,000 rows x 20 columns (~170 MB of CSV per file), side by side in one run.
# Usage: benches/validate.sh [ROWS]   (needs `scripts/harness-install.sh --reference`)
# Prints wall time and peak RSS (from /usr/bin/time -v) of each command.
# Figures and conditions: docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ROWS=${1:-1000000}
PY=${PY:-target/harness/venv/bin/python}
OUT=target/bench-validate
BIN=target/release/mlops
mkdir -p "$OUT"
[[ -x /usr/bin/time ]] || { echo "install GNU time: apt-get install -y time" >&2; exit 2; }
cargo build --release --quiet
if [[ ! -f "$OUT/cur.csv" || "$(cat "$OUT/rows" 2>/dev/null)" != "$ROWS" ]]; then
  echo "generating $ROWS rows x 20 columns ..." >&2
  PYTHONHASHSEED=0 "$PY" benches/validate_gen.py "$OUT" "$ROWS"
  echo "$ROWS" > "$OUT/rows"
fi
ls -la "$OUT"/*.csv >&2

run() { # NAME CMD...
  local name=$1; shift
  /usr/bin/time -v "$@" > "$OUT/$name.out" 2> "$OUT/$name.time" || true
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$OUT/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$OUT/$name.time" | awk '{print $NF}')
  printf '%-28s wall %10s   peak RSS %8.1f MiB\n' "$name" "$wall" "$(echo "$rss/1024" | bc -l)"
}

echo "== schema + nulls (current only)"
run mlops_nulls "$BIN" run validate --data "$OUT/cur.csv" --required-columns f0,i0,s0 --report-dir "$OUT/r_nulls"
run pandas_nulls "$PY" benches/validate_pandas.py "$OUT/cur.csv"
echo "== drift vs reference (schema + nulls + drift)"
run mlops_drift "$BIN" run validate --data "$OUT/cur.csv" --reference "$OUT/ref.csv" --report-dir "$OUT/r_drift"
if [[ "${SKIP_EVIDENTLY:-}" != 1 ]]; then
  run evidently_drift "$PY" benches/validate_evidently.py "$OUT/cur.csv" "$OUT/ref.csv"
fi
echo "== expectations suite (11 expectations)"
run mlops_suite "$BIN" run validate --data "$OUT/cur.csv" --expectations benches/validate_suite.json --max-null-ratio 1 --report-dir "$OUT/r_suite"
run ge_suite "$PY" benches/validate_ge.py "$OUT/cur.csv" benches/validate_suite.json
echo "== verdicts"
"$PY" - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
d = json.load(open(f"{out}/r_drift/validate.json"))["drift"]
print("mlops drift: dataset_drift", d["dataset_drift"], "drifted", d["number_of_drifted_columns"], "of", d["number_of_columns"])
s = json.load(open(f"{out}/r_suite/validate.json"))["expectations"]
print("mlops suite:", [e["success"] for e in s])
PYEOF
cat "$OUT/evidently_drift.out" "$OUT/ge_suite.out" 2>/dev/null || true
