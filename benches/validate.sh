#!/usr/bin/env bash
# Benchmark of `mlops run validate` against pandas, Evidently and Great Expectations on
# 1,000,000 rows x 20 columns (~170 MB of CSV per file), side by side in one run, and of the
# report page's cost (drift with the page against --no-html, interleaved; PAGE_RUNS=3 runs each, median and best).
# Usage: benches/validate.sh [ROWS]   (needs `scripts/harness-install.sh --reference`)
#        PAGE_ONLY=1 benches/validate.sh   (the report page's cost alone; needs pandas only)
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

if [[ "${PAGE_ONLY:-}" != 1 ]]; then
echo "== schema + nulls (current only)"
run mlops_nulls "$BIN" run validate --data "$OUT/cur.csv" --required-columns f0,i0,s0 --report-dir "$OUT/r_nulls"
run pandas_nulls "$PY" benches/validate_pandas.py "$OUT/cur.csv"
echo "== drift vs reference (schema + nulls + drift)"
run mlops_drift "$BIN" run validate --data "$OUT/cur.csv" --reference "$OUT/ref.csv" --report-dir "$OUT/r_drift"
if [[ "${SKIP_EVIDENTLY:-}" != 1 ]]; then
  run evidently_drift "$PY" benches/validate_evidently.py "$OUT/cur.csv" "$OUT/ref.csv"
fi
fi
echo "== report page: drift with the page (default) and with --no-html, interleaved ${PAGE_RUNS:-3} times"
secs() { # h:mm:ss or m:ss.cc -> seconds
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$1"
}
cpu() { # user + system seconds of one run
  awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$OUT/$1.time"
}
page_on=(); page_off=(); cpu_on=(); cpu_off=()
for i in $(seq "${PAGE_RUNS:-3}"); do
  run "mlops_page_on_$i" "$BIN" run validate --data "$OUT/cur.csv" --reference "$OUT/ref.csv" --report-dir "$OUT/r_page_on"
  page_on+=("$(secs "$(grep "Elapsed (wall clock)" "$OUT/mlops_page_on_$i.time" | awk '{print $NF}')")")
  cpu_on+=("$(cpu "mlops_page_on_$i")")
  run "mlops_page_off_$i" "$BIN" run validate --data "$OUT/cur.csv" --reference "$OUT/ref.csv" --report-dir "$OUT/r_page_off" --no-html
  page_off+=("$(secs "$(grep "Elapsed (wall clock)" "$OUT/mlops_page_off_$i.time" | awk '{print $NF}')")")
  cpu_off+=("$(cpu "mlops_page_off_$i")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
least() { printf '%s\n' "$@" | sort -g | head -1; }
on=$(median "${page_on[@]}"); off=$(median "${page_off[@]}")
printf 'median wall: page on %ss, page off %ss, cost %+.1f %%\n' \
  "$on" "$off" "$(echo "($on - $off) * 100 / $off" | bc -l)"
on=$(median "${cpu_on[@]}"); off=$(median "${cpu_off[@]}")
printf 'median CPU (user + sys): page on %ss, page off %ss, cost %+.1f %%\n' \
  "$on" "$off" "$(echo "($on - $off) * 100 / $off" | bc -l)"
on=$(least "${page_on[@]}"); off=$(least "${page_off[@]}")
printf 'best wall:   page on %ss, page off %ss, cost %+.1f %%; report.html %s bytes\n' \
  "$on" "$off" "$(echo "($on - $off) * 100 / $off" | bc -l)" "$(wc -c < "$OUT/r_page_on/report.html")"
[[ "${PAGE_ONLY:-}" == 1 ]] && exit 0
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
