#!/usr/bin/env bash
# Wall time of `mlops run evaluate` + `mlops run register` against an MLflow server, side by
# side with the Python way a hand-written pipeline uses: a fresh venv, `pip install mlflow`,
# then a script doing the same evaluate (threshold gate) and register (version + alias).
#
# Usage: benches/runtime_vs_python.sh TRACKING_URI
#   (for example the server scripts/test.sh starts, or one started as docs/development.md,
#   "The test harness", shows). Needs `python3` with venv, `cargo`, and network access to PyPI.
# Figures and conditions: docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
URI=${1:?usage: $0 TRACKING_URI}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MLFLOW_TRACKING_URI="$URI" MLOPS_MLFLOW_FLAVOUR=mlflow
PY=${PYTHON:-python3}

# MLOPS_BIN: an already built binary (default: build the release binary).
if [ -n "${MLOPS_BIN:-}" ]; then MLOPS=$MLOPS_BIN; else
  (cd "$ROOT" && cargo build --release -q)
  MLOPS="$ROOT/target/release/mlops"
fi
NAME="bench-$$-$RANDOM"

# A finished run with a metric, made over REST so neither side pays for training.
api() { curl -sf -X POST -H 'content-type: application/json' "$URI/api/2.0/mlflow/$1" -d "$2"; }
EXP=$(api experiments/create "{\"name\":\"$NAME\"}" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')
new_run() {
  local run
  run=$(api runs/create "{\"experiment_id\":\"$EXP\"}" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')
  api runs/log-metric "{\"run_id\":\"$run\",\"key\":\"accuracy\",\"value\":0.93,\"timestamp\":0,\"step\":0}" >/dev/null
  api runs/update "{\"run_id\":\"$run\",\"status\":\"FINISHED\"}" >/dev/null
  echo "$run"
}

now() { date +%s.%N; }
RUN1=$(new_run)
t0=$(now)
"$MLOPS" run evaluate --run-id "$RUN1" --metric accuracy --threshold 0.9 --report-dir "$WORK/r" 2>/dev/null
"$MLOPS" run register --run-id "$RUN1" --name "$NAME-rs" --alias champion --metric accuracy --report-dir "$WORK/r" 2>/dev/null
t1=$(now)

RUN2=$(new_run)
cat >"$WORK/gate.py" <<'PYEOF'
import sys
from mlflow import MlflowClient
run_id, name = sys.argv[1], sys.argv[2]
c = MlflowClient()
value = c.get_run(run_id).data.metrics["accuracy"]
if value < 0.9:
    sys.exit(1)
try:
    c.create_registered_model(name)
except Exception:
    pass
v = c.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id, tags={"accuracy": str(value)})
c.set_registered_model_alias(name, "champion", v.version)
PYEOF
t2=$(now)
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q mlflow
t3=$(now)
"$WORK/venv/bin/python" "$WORK/gate.py" "$RUN2" "$NAME-py"
t4=$(now)

"$PY" - "$t0" "$t1" "$t2" "$t3" "$t4" <<'PYEOF'
import sys
t0, t1, t2, t3, t4 = map(float, sys.argv[1:])
rs, install, script = t1 - t0, t3 - t2, t4 - t3
py = install + script
print(f"{'':34} {'seconds':>8}")
print(f"{'mlops evaluate + register':34} {rs:8.2f}")
print(f"{'python: venv + pip install mlflow':34} {install:8.2f}")
print(f"{'python: evaluate + register script':34} {script:8.2f}")
print(f"{'python total':34} {py:8.2f}")
print(f"ratio (python total / mlops): {py / rs:.0f}x; script alone / mlops: {script / rs:.1f}x")
PYEOF
